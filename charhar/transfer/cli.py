"""What the import commands share: common options, per-record output and the summary."""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from .common import ImportReport, time_zone

# New searchable rows (articles, publications, experts) from which an import's summary says
# to lay search's entries in search order again: an import writes them batch by batch and
# then fills their vectors, which moves them out of that order (docs/search.md).
REORDER_ADVISED = 1000


class ImportCommand(BaseCommand):
    """A management command that imports records and ends with the import's summary."""

    def add_common_arguments(self, parser) -> None:
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Report what would be created, updated, unchanged or failed, then roll "
            "everything back: no row and no media file is written.",
        )
        parser.add_argument(
            "--time-zone",
            default=None,
            help="The time zone of dates written without one, e.g. Asia/Shanghai "
            "(default: the site's TIME_ZONE).",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=1000,
            help="Records looked up and written together in one transaction (default 1000).",
        )
        parser.add_argument(
            "--no-renditions",
            action="store_true",
            help="Do not generate the resized renditions of imported images now; run "
            "`manage.py generateimages` later.",
        )
        parser.add_argument(
            "--compare-all",
            action="store_true",
            help="Compare every record with its row, also those unchanged at the source whose "
            "rows were not saved since the last run (which are otherwise passed over): after "
            "rows were changed without the site, e.g. in SQL.",
        )

    def common_options(self, options) -> dict:
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be 1 or more.")
        try:
            tz = time_zone(options["time_zone"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        verbosity = options["verbosity"]
        return {
            "dry_run": options["dry_run"],
            "tz": tz,
            "batch_size": options["batch_size"],
            "renditions": not options["no_renditions"],
            "compare_all": options["compare_all"],
            # A progress bar only on a terminal, and not when every record gets a line.
            "progress_stream": self.stderr if verbosity == 1 else None,
            "on_record": self.record_line if verbosity >= 2 else None,
        }

    def record_line(self, label: str, action: str, key: str) -> None:
        if action == "unchanged" and self.verbosity < 3:
            return
        if action == "failed":
            self.stderr.write(self.style.ERROR(f"Failed {key}"))
            return
        verb = f"would be {action}" if self.dry_run else action
        self.stdout.write(f"{label.capitalize()} “{key}” {verb}.")

    def execute(self, *args, **options):
        self.verbosity = options.get("verbosity", 1)
        self.dry_run = options.get("dry_run", False)
        return super().execute(*args, **options)

    def summarize(self, report: ImportReport, *, what: str = "records") -> None:
        """Print the summary; fail the command (non-zero exit) if any record failed."""
        out, style = self.stdout, self.style
        if self.verbosity >= 1:
            if report.dry_run:
                out.write(style.WARNING("Dry run: nothing was written."))
            prefix = "Would " if report.dry_run else ""
            rows = [
                ("created", f"{prefix}create" if prefix else "Created"),
                ("updated", f"{prefix}update" if prefix else "Updated"),
                ("unchanged", "Unchanged"),
                ("skipped", "Skipped"),
            ]
            for action, heading in rows:
                described = report.describe(action)
                if described:
                    line = f"{heading}: {described}."
                    out.write(style.SUCCESS(line) if action == "created" else line)
            if report.shortcodes:
                removed = ", ".join(
                    f"[{name}] ×{n}" for name, n in sorted(report.shortcodes.items())
                )
                out.write(
                    f"Shortcodes removed (their text kept where they enclosed some): {removed}."
                )
            if report.warnings:
                out.write(style.WARNING(f"Warnings ({len(report.warnings)}):"))
                shown = report.warnings if self.verbosity >= 2 else report.warnings[:20]
                for key, message in shown:
                    out.write(f"  {key}: {message}")
                if len(shown) < len(report.warnings):
                    out.write(f"  … and {len(report.warnings) - len(shown)} more (--verbosity 2).")
            rate = report.records / report.elapsed if report.elapsed else 0
            out.write(f"{report.records:,} {what} read in {report.elapsed:.1f} s ({rate:,.0f}/s).")
            searchable = sum(
                report.counts[label]["created"]
                for label in ("article", "publication", "expert")
                if label in report.counts
            )
            if (
                not report.dry_run
                and connection.vendor == "postgresql"
                and searchable >= REORDER_ADVISED
            ):
                out.write(
                    f"{searchable:,} new articles, publications and experts: at a quiet time, "
                    "`manage.py rebuild_search_entries --reorder` lays search's entries in the "
                    "order searches read them (docs/search.md)."
                )
        if report.failures:
            self.stderr.write(
                style.ERROR(f"Failed: {len(report.failures)} (record · field · why):")
            )
            for failure in report.failures:
                self.stderr.write(f"  {failure.key} · {failure.field} · {failure.message}")
            raise CommandError(
                f"{len(report.failures)} of the {what} could not be imported; the list above "
                "says which and why. The others were "
                + ("checked." if report.dry_run else "imported.")
            )
        if self.verbosity >= 1:
            out.write(style.SUCCESS("No failures."))
