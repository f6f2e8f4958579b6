"""The saved-pages import: a folder of the old site's .html article pages.

From each page the title, date, lead image, body and the author's name and title are taken
with CSS selectors. The defaults fit the institute's old layout (the seed page: a title, a
date like "June 18 ,2018", a photo, the paragraphs, an "Author" box with a name and a
title) and fall back to generic guesses; page chrome (menus, share buttons, "Stay
Informed", the footer) is removed before the body is taken. Each page is keyed by its old
address (its canonical link, else its path in the folder), kept as the article's legacy URL
and as a redirect.
"""

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.core.files.storage import default_storage
from lxml import etree
from lxml import html as lxml_html

from .common import ImportReport, MediaFolder, Progress, RecordError
from .records import ContentWriter, run_import


@dataclass
class Selectors:
    """CSS selectors, each a comma-separated list: the first element found is used."""

    title: str = ".article-title, .entry-title, article h1, .article h1, h1, h2"
    date: str = ".article-date, .entry-date, .post-date, time[datetime], .date, .time"
    image: str = ".article-image img, .featured-image img, .entry-content img, article img"
    body: str = ".article-content, .article-body, .entry-content, .post-content, article .content"
    author: str = ".author-name, .author .name, .byline .name, [rel=author]"
    author_title: str = ".author-title, .author .position, .author .title, .author .job"
    remove: list = field(
        default_factory=lambda: [
            "script", "style", "noscript", "iframe", "form", "nav", "header", "footer",
            "aside", ".share", ".sharing", ".social", ".social-links", ".stay-informed",
            ".newsletter", ".subscribe", ".author-box", ".related", ".comments",
            ".breadcrumb", ".breadcrumbs", ".menu", ".sidebar", ".left-column",
        ]
    )  # fmt: skip


MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"),
            ("may",), ("june", "jun"), ("july", "jul"), ("august", "aug"),
            ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}  # fmt: skip

DATE_PATTERNS = (
    # June 18 ,2018 / June 09, 2022 / Jun 9 2022
    (re.compile(r"\b([A-Za-z]{3,9})\.?\s+(\d{1,2})\s*,?\s*(\d{4})\b"), ("month", "day", "year")),
    # 18 June 2018
    (re.compile(r"\b(\d{1,2})\s+([A-Za-z]{3,9})\.?,?\s+(\d{4})\b"), ("day", "month", "year")),
    # 2018-06-18, 2018/06/18, 2018.06.18, 2018年6月18日
    (re.compile(r"\b(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})"),
     ("year", "month", "day")),
)  # fmt: skip

STAY_INFORMED = re.compile(r"^\s*stay informed\b", re.I)
AUTHOR_HEADING = re.compile(r"^\s*(authors?|作者)\s*:?\s*$", re.I)


def parse_page_date(text: str, date_format: str | None = None) -> dt.date | None:
    text = " ".join((text or "").split())
    if date_format:
        try:
            return dt.datetime.strptime(text, date_format).date()  # noqa: DTZ007 (a date)
        except ValueError:
            return None
    for pattern, order in DATE_PATTERNS:
        match = pattern.search(text)
        if not match:
            continue
        parts = dict(zip(order, match.groups(), strict=True))
        month = parts["month"]
        month = MONTHS.get(month.lower()) if not month.isdigit() else int(month)
        try:
            return dt.date(int(parts["year"]), month or 0, int(parts["day"]))
        except (TypeError, ValueError):
            continue
    return None


def _first(root, selectors: str):
    for selector in selectors.split(","):
        selector = selector.strip()
        if not selector:
            continue
        try:
            found = root.cssselect(selector)
        except Exception as exc:  # cssselect's SelectorError and ExpressionError
            raise ValueError(f"“{selector}” is not a CSS selector we can use: {exc}") from None
        if found:
            return found[0]
    return None


def _text(element) -> str:
    return " ".join(element.text_content().split()) if element is not None else ""


class PageReader:
    """Turns one saved page into an article record (and its author's expert record)."""

    def __init__(self, folder: Path, selectors: Selectors, *, url_prefix: str,
                 media: MediaFolder, report: ImportReport, writer, date_format=None,
                 status="published", kind="commentary", tz=None):  # fmt: skip
        self.folder = folder
        self.selectors = selectors
        self.url_prefix = url_prefix.rstrip("/")
        self.media = media
        self.report = report
        self.writer = writer
        self.date_format = date_format
        self.status = status
        self.kind = kind
        self.tz = tz
        self.page_media = MediaFolder(folder, option="the pages folder")

    def records(self, path: Path):
        relative = path.relative_to(self.folder).as_posix()
        key = relative
        try:
            document = lxml_html.fromstring(path.read_bytes())
        except (etree.ParserError, ValueError) as exc:
            yield {"type": "_error", "_key": key, "_field": "-", "_message": f"not HTML: {exc}"}
            return
        try:
            record, author = self.article(document, path, key)
        except RecordError as exc:
            yield {"type": "_error", "_key": key, "_field": exc.field, "_message": exc.message}
            return
        if author:
            yield author
        yield record

    def legacy_url(self, document, relative: str) -> str:
        canonical = document.cssselect('link[rel="canonical"]') or document.cssselect(
            'meta[property="og:url"]'
        )
        if canonical:
            url = canonical[0].get("href") or canonical[0].get("content") or ""
            if url.strip():
                return url.strip()
        return f"{self.url_prefix}/{relative}"

    def article(self, document, path: Path, key: str):
        s = self.selectors
        legacy = self.legacy_url(document, path.relative_to(self.folder).as_posix())
        # The author box is read before chrome removal takes it away.
        name, position = self.author(document)
        title_element = _first(document, s.title)
        title = _text(title_element)
        if not title:
            meta = document.cssselect('meta[property="og:title"]')
            title = (meta[0].get("content") or "").strip() if meta else ""
        if not title:
            title = _text(document.find(".//title")).split(" - ")[0].strip()
        if not title:
            raise RecordError("title", "no title found (see --title-selector).")
        date_element = _first(document, s.date)
        published = None
        if date_element is not None:
            published = parse_page_date(
                date_element.get("datetime") or _text(date_element), self.date_format
            )
        if published is None and title_element is not None:
            # The date usually follows the title: look at the next few elements.
            for sibling in list(title_element.itersiblings())[:3]:
                published = parse_page_date(_text(sibling), self.date_format)
                if published:
                    break
        if published is None:
            self.report.warn(key, "no date found (see --date-selector); published_at left empty.")
        image = _first(document, s.image)
        hero_src = image.get("src", "") if image is not None else ""
        hero_alt = (image.get("alt") or "") if image is not None else ""
        body_element = self.body(document, title_element)
        if image is not None and body_element is not None:
            for img in body_element.iter("img"):
                if img is image:
                    parent = img.getparent()
                    parent.remove(img)
        body = self.body_html(body_element, path, key) if body_element is not None else ""
        if not body.strip():
            self.report.warn(key, "no body found (see --body-selector).")
        record = {
            "type": "article",
            "_key": key,
            "_source_keyed": True,
            "title": title[:300],
            "legacy_url": legacy,
            "status": self.status,
            "kind": self.kind,
            "body": body,
            "authors": [name] if name else [],
        }
        if published:
            when = dt.datetime.combine(published, dt.time(12), tzinfo=self.tz)
            record["published_at"] = when
        if hero_src:
            source = self.image_source(hero_src, path, "hero_image")
            if source is None:
                self.report.warn(key, f"the lead image {hero_src} is not in the folder.")
            else:
                record["hero_image"] = source.name
                record["_media"] = {"hero_image": source}
                # An alt text that is just the file name says nothing.
                if hero_alt and hero_alt != Path(urlsplit(hero_src).path).name:
                    record["hero_alt"] = hero_alt[:300]
        author = None
        if name:
            author = {"type": "expert", "name": name, "_key": f"{key} (author)"}
            if position:
                author["title"] = position[:200]
        return record, author

    def author(self, document) -> tuple[str, str]:
        s = self.selectors
        name = _text(_first(document, s.author))
        position = _text(_first(document, s.author_title))
        if name:
            return name, position
        # The seed's box: a heading "Author", then the name, then the title.
        for element in document.iter("h2", "h3", "h4", "h5", "strong", "div", "p", "span"):
            if element.text and AUTHOR_HEADING.match(element.text_content()):
                texts = [
                    " ".join(t.split())
                    for t in element.getparent().itertext()
                    if t.strip() and not AUTHOR_HEADING.match(t)
                ]
                if texts:
                    return texts[0], texts[1] if len(texts) > 1 else ""
        return "", ""

    def body(self, document, title_element):
        s = self.selectors
        for selector in s.remove:
            for element in document.cssselect(selector):
                if element.getparent() is not None and element is not title_element:
                    element.drop_tree()
        for element in list(document.iter("div", "section", "p", "h2", "h3")):
            text = element.text_content()
            if element.getparent() is not None and STAY_INFORMED.match(text) and len(text) < 400:
                element.drop_tree()
        found = _first(document, s.body)
        if found is not None:
            return found
        # No selector matched: the element holding the most paragraphs is the body.
        best, count = None, 0
        for element in document.iter("div", "article", "section", "main", "td"):
            n = sum(1 for child in element if child.tag == "p")
            if n > count:
                best, count = element, n
        return best

    def body_html(self, element, path: Path, key: str) -> str:
        for img in list(element.iter("img")):
            src = img.get("src", "")
            if not src:
                continue
            source = self.image_source(src, path, "body")
            if source is None:
                self.report.warn(key, f"the image {src} is not in the folder; kept its address.")
                continue
            name = self.store(source)
            img.set("src", default_storage.url(name))
        parts = [element.text or ""]
        parts += [
            etree.tostring(child, encoding="unicode", method="html", with_tail=True)
            for child in element
        ]
        return "".join(parts).strip()

    def store(self, source: Path) -> str:
        root = self.folder.resolve()
        if self.media.root and source.is_relative_to(self.media.root):
            root = self.media.root
        return self.writer.files.store(
            default_storage, f"imports/{source.relative_to(root).as_posix()}", source
        )

    def image_source(self, src: str, page: Path, field_name: str) -> Path | None:
        """The local file an image address points at; outside the folders is refused."""
        parts = urlsplit(src.strip())
        if parts.scheme in ("http", "https") or src.startswith("/"):
            relative = unquote(parts.path).lstrip("/")
            for folder in (self.media, self.page_media):
                if folder.root is None:
                    continue
                try:
                    return folder.resolve(relative, field_name)
                except RecordError as exc:
                    if "outside" in exc.message:
                        raise
            return None
        if parts.scheme:
            return None  # data:, ftp: …
        candidate = (page.parent / unquote(parts.path)).resolve()
        if not candidate.is_relative_to(self.folder.resolve()):
            raise RecordError(field_name, f"“{src}” points outside the pages folder; refused.")
        return candidate if candidate.is_file() else None


def import_html(
    folder,
    *,
    selectors: Selectors | None = None,
    url_prefix: str = "",
    media_dir=None,
    date_format: str | None = None,
    status: str = "published",
    kind: str = "commentary",
    pattern: str = "*.html",
    dry_run: bool = False,
    tz=None,
    batch_size: int = 1000,
    renditions: bool = True,
    compare_all: bool = False,
    progress_stream=None,
    on_record=None,
) -> ImportReport:
    """Import every page matching `pattern` under `folder` (recursively) as an article."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"There is no folder {folder}.")
    report = ImportReport(dry_run=dry_run, on_record=on_record)
    writer = ContentWriter(
        report,
        dry_run=dry_run,
        tz=tz,
        batch_size=batch_size,
        renditions=renditions,
        compare_all=compare_all,
    )
    reader = PageReader(
        folder,
        selectors or Selectors(),
        url_prefix=url_prefix,
        media=MediaFolder(media_dir),
        report=report,
        writer=writer,
        date_format=date_format,
        status=status,
        kind=kind,
        tz=writer.context.tz,
    )
    paths = sorted(folder.rglob(pattern))
    extra = sorted(folder.rglob("*.htm")) if pattern == "*.html" else []
    paths = sorted({*paths, *extra})
    progress = Progress(progress_stream, len(paths)) if progress_stream is not None else None
    seen_authors: dict[str, str] = {}
    done = [0]

    def records():
        for path in paths:
            done[0] += 1
            for record in reader.records(path):
                if record["type"] == "expert":
                    # One expert record per author and title, not one per page.
                    if seen_authors.get(record["name"]) == record.get("title", ""):
                        continue
                    seen_authors[record["name"]] = record.get("title", "")
                yield record

    return run_import(records(), writer, progress, lambda: done[0])
