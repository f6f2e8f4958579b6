"""`manage.py import_html`: articles from a folder of the old site's saved .html pages."""

from django.core.management.base import CommandError

from articles.models import Article
from charhar.transfer.cli import ImportCommand
from charhar.transfer.html_pages import Selectors, import_html

DEFAULTS = Selectors()


class Command(ImportCommand):
    help = (
        "Import articles from a folder of saved .html pages of the old site (searched "
        "recursively). From each page the title, date, lead image, body and the author's "
        "name and title are taken with CSS selectors whose defaults fit the institute's old "
        "page layout; menus, share buttons, 'Stay Informed' and the footer are left out. "
        "Authors become experts (matched by name). Each page is keyed by its old address (its "
        "canonical link, else its path in the folder), kept as a redirect, so running it "
        "again updates changed pages and creates no duplicates."
    )

    def add_arguments(self, parser):
        parser.add_argument("folder", help="The folder of saved pages (.html and .htm).")
        parser.add_argument(
            "--pattern",
            default="*.html",
            help="Which files to read, as a glob (default *.html, plus *.htm).",
        )
        parser.add_argument(
            "--url-prefix",
            default="",
            help="The old address of the folder, for pages without a canonical link: a page "
            "at en/a.html gets the legacy URL PREFIX/en/a.html (default: the path alone).",
        )
        parser.add_argument(
            "--media-dir",
            default=None,
            help="Where images with absolute addresses (http://old.site/upload/x.jpg or "
            "/upload/x.jpg) are found, by their path; relative addresses are read beside the "
            "page. Paths leading outside these folders are refused.",
        )
        for name, help_text in (
            ("title", "the title"),
            ("date", "the publication date"),
            ("image", "the lead image (an img element)"),
            ("body", "the element holding the body"),
            ("author", "the author's name"),
            ("author-title", "the author's title, e.g. Adjunct Senior Fellow"),
        ):
            default = getattr(DEFAULTS, name.replace("-", "_"))
            parser.add_argument(
                f"--{name}-selector",
                default=default,
                help=f"CSS selectors for {help_text}, comma-separated, the first match wins "
                f"(default: {default.replace('%', '%%')}).",
            )
        parser.add_argument(
            "--remove-selector",
            action="append",
            default=[],
            help="Another element to leave out of the body, as a CSS selector (repeatable; "
            "menus, headers, footers, forms, scripts, .share, .social, .stay-informed, "
            ".author-box, .related, .sidebar and more are always left out).",
        )
        parser.add_argument(
            "--date-format",
            default=None,
            help="The date's strptime format, e.g. '%%d.%%m.%%Y' (default: recognizes "
            "'June 18 ,2018', '18 June 2018', '2018-06-18' and '2018年6月18日').",
        )
        parser.add_argument(
            "--status",
            choices=Article.Status.values,
            default=Article.Status.PUBLISHED,
            help="The status of the imported articles (default published).",
        )
        parser.add_argument(
            "--kind",
            choices=Article.Kind.values,
            default=Article.Kind.COMMENTARY,
            help="The kind of the imported articles (default commentary).",
        )
        self.add_common_arguments(parser)

    def handle(self, *args, **options):
        common = self.common_options(options)
        selectors = Selectors(
            title=options["title_selector"],
            date=options["date_selector"],
            image=options["image_selector"],
            body=options["body_selector"],
            author=options["author_selector"],
            author_title=options["author_title_selector"],
        )
        selectors.remove += options["remove_selector"]
        try:
            report = import_html(
                options["folder"],
                selectors=selectors,
                url_prefix=options["url_prefix"],
                media_dir=options["media_dir"],
                date_format=options["date_format"],
                status=options["status"],
                kind=options["kind"],
                pattern=options["pattern"],
                **common,
            )
        except (FileNotFoundError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        self.summarize(report, what="pages")
