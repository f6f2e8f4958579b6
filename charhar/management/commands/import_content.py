"""`manage.py import_content`: the structured JSON Lines / CSV import (docs/imports.md)."""

from django.core.management.base import CommandError

from charhar.transfer.cli import ImportCommand
from charhar.transfer.records import RECORD_TYPES
from charhar.transfer.structured import import_structured


class Command(ImportCommand):
    help = (
        "Import articles, experts, publications, pages, taxonomy, menus, redirects and site "
        "settings from JSON Lines or CSV files in the structured format of docs/imports.md "
        "(or from a folder written by export_content). Records are matched by legacy URL, "
        "slug or name, so running it again updates changed records and creates no "
        "duplicates. Bad records are reported and skipped; the exit status is non-zero if "
        "any failed."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "paths",
            nargs="+",
            help="JSON Lines (.jsonl) or CSV (.csv) files, or export folders (their "
            "content.jsonl is read and their media/ folder used).",
        )
        parser.add_argument(
            "--type",
            choices=RECORD_TYPES,
            default=None,
            help="The type of records that have no `type` field or column, e.g. article.",
        )
        parser.add_argument(
            "--format",
            choices=("jsonl", "csv"),
            default=None,
            help="The files' format (default: by extension, .csv is CSV, anything else "
            "JSON Lines).",
        )
        parser.add_argument(
            "--media-dir",
            default=None,
            help="The folder image and PDF paths are relative to; a path leading outside "
            "it is refused.",
        )
        parser.add_argument(
            "--no-create-missing",
            action="store_true",
            help="Fail a record that names a topic, region, section, series, expert or tag "
            "that does not exist, instead of creating it.",
        )
        self.add_common_arguments(parser)

    def handle(self, *args, **options):
        common = self.common_options(options)
        try:
            report = import_structured(
                options["paths"],
                default_type=options["type"],
                file_format=options["format"],
                media_dir=options["media_dir"],
                create_missing=not options["no_create_missing"],
                **common,
            )
        except (FileNotFoundError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        self.summarize(report)
