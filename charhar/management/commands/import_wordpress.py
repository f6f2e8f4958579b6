"""`manage.py import_wordpress`: posts and pages from a WordPress export (WXR) file."""

from django.core.management.base import CommandError

from charhar.transfer.cli import ImportCommand
from charhar.transfer.records import SPECS
from charhar.transfer.wordpress import Mapping, UnsafeXML, import_wordpress

TAXONOMY_CHOICES = ("topic", "region", "section", "tag", "ignore")


def status_pair(value: str) -> tuple[str, str]:
    wordpress, _, ours = value.partition("=")
    if not ours:
        raise ValueError(value)
    return wordpress.strip(), ours.strip()


class Command(ImportCommand):
    help = (
        "Import posts (as articles) and pages from a WordPress export file (WXR, from Tools > "
        "Export), streaming it so any size fits in memory. Authors become experts (matched by "
        "name, created when missing); categories and tags go to topics, regions, sections or "
        "tags by a mapping file or the --categories-as/--tags-as defaults; featured and "
        "in-body images are copied from a local copy of wp-content/uploads; [caption] becomes "
        "a figure and other shortcodes are removed; old permalinks and /?p=ID addresses "
        "redirect to the new pages. Posts are keyed by their WordPress id, so running it "
        "again updates changed posts and creates no duplicates. Files with a DTD are refused."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="The WXR (.xml) file WordPress exported.")
        parser.add_argument(
            "--mapping",
            default=None,
            help="A TOML (or .json) file mapping categories, tags, authors and statuses "
            "(format in docs/imports.md).",
        )
        parser.add_argument(
            "--categories-as",
            choices=TAXONOMY_CHOICES,
            default=None,
            help="What an unmapped category becomes (default topic, named like the category).",
        )
        parser.add_argument(
            "--tags-as",
            choices=TAXONOMY_CHOICES,
            default=None,
            help="What an unmapped tag becomes (default tag).",
        )
        parser.add_argument(
            "--kind",
            choices=[value for value, _label in SPECS["article"].model.Kind.choices],
            default=None,
            help="The kind of the imported articles, unless a category maps to kind:… "
            "(default commentary).",
        )
        parser.add_argument(
            "--status",
            action="append",
            default=[],
            metavar="WP=OURS",
            help="Map a WordPress status to an article status, e.g. private=archived "
            "(repeatable; defaults: publish=published, future=published at its future time, "
            "draft=draft, pending=review, private=draft; trash and auto-draft are skipped).",
        )
        parser.add_argument(
            "--uploads-dir",
            default=None,
            help="A local copy of wp-content/uploads; featured and in-body images are copied "
            "from it. Paths leading outside it are refused. Without it, images keep their old "
            "addresses and articles get no hero image.",
        )
        parser.add_argument(
            "--uploads-url",
            default=None,
            help="The old site's uploads address, e.g. https://old.example.org/files/ "
            "(default: any address containing /wp-content/uploads/).",
        )
        parser.add_argument("--no-pages", action="store_true", help="Import posts only, not pages.")
        self.add_common_arguments(parser)

    def handle(self, *args, **options):
        common = self.common_options(options)
        try:
            statuses = dict(status_pair(value) for value in options["status"])
        except ValueError as exc:
            raise CommandError(
                f"--status takes WORDPRESS=OURS, e.g. private=archived, not {exc}."
            ) from exc
        try:
            mapping = Mapping.load(
                options["mapping"],
                categories_as=options["categories_as"],
                tags_as=options["tags_as"],
                kind=options["kind"],
                status=statuses,
            )
        except (OSError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        try:
            report = import_wordpress(
                options["path"],
                mapping=mapping,
                uploads_dir=options["uploads_dir"],
                uploads_url=options["uploads_url"],
                include_pages=not options["no_pages"],
                **common,
            )
        except FileNotFoundError as exc:
            raise CommandError(f"There is no file {options['path']}.") from exc
        except UnsafeXML as exc:
            raise CommandError(f"{options['path']}: {exc}") from exc
        self.summarize(report, what="posts and pages")
