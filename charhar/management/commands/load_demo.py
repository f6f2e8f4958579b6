"""`manage.py load_demo`: the seed's content, so a new installation shows the real site."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from charhar.demo import load_demo


class Command(BaseCommand):
    help = (
        "Load the demo content captured from the Charhar Institute's site: menus, topics, "
        "regions, sections, series, offices, pages, site settings, experts, articles (with a "
        "generated hero image) and publications. Running it again changes nothing; demo rows "
        "staff have edited are restored to the seed's values, rows staff created are kept."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Report what would be created or updated, then roll everything back.",
        )

    def handle(self, *args, **options):
        dry_run = options["dry_run"]
        verbosity = options["verbosity"]
        try:
            report = load_demo(stdout=self.stdout if verbosity >= 2 else None, dry_run=dry_run)
        except ValidationError as exc:
            raise CommandError(
                f"The demo data does not fit the models, nothing was saved: {exc}"
            ) from exc
        if verbosity < 1:
            return

        prefix = "Would create" if dry_run else "Created"
        if dry_run:
            self.stdout.write(self.style.WARNING("Dry run: nothing was saved."))
        if not report.changed:
            self.stdout.write(
                self.style.SUCCESS(
                    "The demo content is already loaded: "
                    f"{report.total('unchanged')} rows unchanged."
                )
            )
            return
        if report.total("created"):
            self.stdout.write(self.style.SUCCESS(f"{prefix} {report.describe('created')}."))
        if report.total("updated"):
            verb = "Would update" if dry_run else "Updated"
            self.stdout.write(
                self.style.WARNING(
                    f"{verb} {report.describe('updated')} (restored to the seed's values)."
                )
            )
        if report.total("unchanged"):
            self.stdout.write(f"Unchanged: {report.describe('unchanged')}.")
