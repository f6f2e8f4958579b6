"""`manage.py export_content`: all content as JSON Lines, with the media it names."""

from django.core.management.base import BaseCommand, CommandError

from charhar.transfer.export import export_content


class Command(BaseCommand):
    help = (
        "Export all content (site settings, topics, regions, sections, series, tags, offices, "
        "pages, experts, articles with their events, publications, menus and redirects) to "
        "OUT/content.jsonl in the structured import format, and copy the images and PDFs it "
        "names to OUT/media/. `import_content OUT` reads it back."
    )

    def add_arguments(self, parser):
        parser.add_argument("out_dir", help="The folder to write (created if missing).")
        parser.add_argument(
            "--no-media",
            action="store_true",
            help="Write the records only; do not copy media files.",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Count what would be exported; write nothing.",
        )

    def handle(self, *args, **options):
        try:
            counts, files = export_content(
                options["out_dir"], media=not options["no_media"], dry_run=options["dry_run"]
            )
        except OSError as exc:
            raise CommandError(
                f"Could not write the export to {options['out_dir']}: {exc}"
            ) from exc
        if options["verbosity"] < 1:
            return
        if options["dry_run"]:
            self.stdout.write(self.style.WARNING("Dry run: nothing was written."))
        described = ", ".join(f"{n} {label}" for label, n in counts.items())
        verb = "Would export" if options["dry_run"] else "Exported"
        self.stdout.write(self.style.SUCCESS(f"{verb} {described or 'nothing'}."))
        if not options["dry_run"] and not options["no_media"]:
            self.stdout.write(f"Copied {files} media files to {options['out_dir']}/media/.")
