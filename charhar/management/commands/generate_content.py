"""Generate synthetic bulk content, deterministically, for benchmarks (see charhar/bulk.py)."""

from django.core.management.base import BaseCommand, CommandError

from charhar.bulk import ContentSpec, generate_content
from charhar.pagecache import CACHE_NOT_TOLD


class Command(BaseCommand):
    help = (
        "Add deterministic synthetic content for benchmarks: experts, tags, published "
        "articles (with authors, topics, regions, tags and some events) and publications, "
        "written in bulk. Existing topics, regions, sections and series are reused. The "
        "same options give the same rows, and running the command again creates nothing new."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--articles", type=int, default=1000, help="Articles to create (default 1000)."
        )
        parser.add_argument(
            "--experts", type=int, default=200, help="Experts who write them (default 200)."
        )
        parser.add_argument("--tags", type=int, default=40, help="Tags to use (default 40).")
        parser.add_argument(
            "--publications",
            type=int,
            default=None,
            help="Publications to create (default: one per 50 articles).",
        )
        parser.add_argument(
            "--events",
            type=int,
            default=None,
            help="How many of the articles are events, a quarter of them upcoming "
            "(default: one per 100 articles).",
        )
        parser.add_argument(
            "--seed", type=int, default=7, help="Seed of the random choices (default 7)."
        )
        parser.add_argument(
            "--batch-size", type=int, default=2000, help="Rows per bulk insert (default 2000)."
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Say what would be created; write nothing."
        )

    def handle(self, *args, **options):
        try:
            spec = ContentSpec(
                articles=options["articles"],
                experts=options["experts"],
                tags=options["tags"],
                publications=options["publications"],
                events=options["events"],
                seed=options["seed"],
                batch_size=options["batch_size"],
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc

        verbosity = options["verbosity"]
        progress = self.stdout.write if verbosity >= 2 else None
        result = generate_content(spec, dry_run=options["dry_run"], progress=progress)

        if verbosity < 1:
            return
        created = ", ".join(f"{count} {label}" for label, count in result.created.items() if count)
        if result.dry_run:
            self.stdout.write(self.style.WARNING("Dry run: nothing was written."))
            self.stdout.write(f"Would create: {created or 'nothing'}.")
        elif result.created_anything:
            self.stdout.write(f"Created: {created}.")
        if result.skipped:
            skipped = ", ".join(f"{count} {label}" for label, count in result.skipped.items())
            self.stdout.write(f"Already there, skipped: {skipped}.")
        if verbosity >= 2:
            self.stdout.write(self.style.MIGRATE_HEADING("Seconds per phase:"))
            for phase, seconds in result.timings.items():
                self.stdout.write(f"  {phase:<32} {seconds:8.2f}")
        if not result.cache_told:
            self.stdout.write(self.style.WARNING(CACHE_NOT_TOLD))
        summary = f"Done in {result.elapsed:.1f} s (seed {spec.seed})."
        if result.dry_run or result.created_anything:
            self.stdout.write(self.style.SUCCESS(summary))
        else:
            self.stdout.write(self.style.SUCCESS(f"Nothing to create. {summary}"))
