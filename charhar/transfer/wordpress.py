"""The WordPress import: a WXR file (Tools > Export) into articles, pages and experts.

The file is streamed with lxml's `iterparse` and each `<item>` is dropped once read, so
memory stays flat whatever the file's size. A file with a DTD (`<!DOCTYPE …>`) is refused
outright: WordPress never writes one, and DTDs are how entity-expansion ("billion laughs")
and external-entity attacks get in. Entities are not resolved and nothing is fetched from
the network in any case.

Posts become articles and pages become pages; each is keyed by its post id (the old
`/?p=123` or `/?page_id=7` address, kept as a redirect along with the permalink), so a
re-run finds the same rows even after the old site renamed a post. Categories and tags go
to topics, regions, sections or tags through a mapping file; authors become experts.
"""

import datetime as dt
import html
import json
import re
import tomllib
from collections import Counter
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.core.files.storage import default_storage
from django.utils.html import strip_tags
from lxml import etree

from ..models import normalize_path
from .common import (
    ImportReport,
    MediaFolder,
    MediaWriter,
    Progress,
    RecordError,
    parse_datetime_value,
)
from .fingerprints import digest_of
from .records import ContentWriter, run_import

WP_NAMESPACE = "http://wordpress.org/export/"
CONTENT_NAMESPACE = "http://purl.org/rss/1.0/modules/content/"
DC_NAMESPACE = "http://purl.org/dc/elements/1.1/"

STATUS_MAP = {
    "publish": "published",
    "future": "published",  # a future publication time schedules it
    "draft": "draft",
    "pending": "review",
    "private": "draft",  # not public on WordPress either
}
SKIPPED_STATUSES = {"trash", "auto-draft", "inherit"}
TARGET_KINDS = ("topic", "region", "section", "tag", "kind", "ignore")
NO_DATE = "0000-00-00 00:00:00"


class UnsafeXML(Exception):
    """The file is not a WXR export we can read safely."""


# --- Mapping --------------------------------------------------------------------------------


@dataclass
class Mapping:
    """Where WordPress categories, tags, authors and statuses go (docs/imports.md)."""

    categories: dict = field(default_factory=dict)
    tags: dict = field(default_factory=dict)
    authors: dict = field(default_factory=dict)
    status: dict = field(default_factory=lambda: dict(STATUS_MAP))
    categories_as: str = "topic"
    tags_as: str = "tag"
    kind: str = "commentary"

    @classmethod
    def load(cls, path=None, **options) -> "Mapping":
        data = {}
        if path:
            path = Path(path)
            text = path.read_text(encoding="utf-8")
            try:
                data = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
            except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
                raise ValueError(f"The mapping file {path} cannot be read: {exc}") from None
        defaults = data.get("defaults", {})
        mapping = cls(
            categories={str(k): str(v) for k, v in data.get("categories", {}).items()},
            tags={str(k): str(v) for k, v in data.get("tags", {}).items()},
            authors={str(k): str(v) for k, v in data.get("authors", {}).items()},
            categories_as=options.get("categories_as") or defaults.get("categories", "topic"),
            tags_as=options.get("tags_as") or defaults.get("tags", "tag"),
            kind=options.get("kind") or defaults.get("kind", "commentary"),
        )
        mapping.status.update({str(k): str(v) for k, v in data.get("status", {}).items()})
        mapping.status.update(options.get("status") or {})
        for table in (mapping.categories, mapping.tags):
            for source, target in table.items():
                if target.split(":", 1)[0] not in TARGET_KINDS:
                    raise ValueError(
                        f"The mapping of “{source}” to “{target}” is not understood: use "
                        f"{', '.join(t + ':…' for t in TARGET_KINDS[:5])} or ignore."
                    )
        for value in (mapping.categories_as, mapping.tags_as):
            if value not in ("topic", "region", "section", "tag", "ignore"):
                raise ValueError(f"“{value}” is not topic, region, section, tag or ignore.")
        return mapping

    def target(self, domain: str, nicename: str, name: str) -> tuple[str, str]:
        """(kind, value) for a post's category or tag; the value defaults to its name."""
        table, default = (
            (self.categories, self.categories_as)
            if domain == "category"
            else (self.tags, self.tags_as)
        )
        target = table.get(nicename) or table.get(name) or default
        kind, _, value = target.partition(":")
        return kind, value.strip() or name


# --- Streaming the file ---------------------------------------------------------------------


def _local(tag) -> tuple[str, str]:
    if not isinstance(tag, str):
        return "", ""
    if tag.startswith("{"):
        namespace, _, local = tag[1:].partition("}")
        return namespace, local
    return "", tag


def _text(element) -> str:
    return element.text or ""


DOCTYPE = re.compile(rb"<!DOCTYPE", re.I)
ROOT_START = re.compile(rb"<[A-Za-z_]")


def refuse_dtd(handle) -> None:
    """Refuse a file whose prolog (what comes before the root element) declares a DTD.

    Checked on the raw bytes before the XML parser sees any of it, so no entity
    declaration is ever parsed.
    """
    start = handle.tell()
    prolog = b""
    while len(prolog) < 1 << 20:
        chunk = handle.read(65536)
        if not chunk:
            break
        prolog += chunk
        root = ROOT_START.search(prolog)
        if root:
            prolog = prolog[: root.start()]
            break
    handle.seek(start)
    if DOCTYPE.search(prolog):
        raise UnsafeXML(
            "The file declares a DTD (<!DOCTYPE …>). WordPress exports never do, and a DTD "
            "can carry entity-expansion or external-entity attacks, so the file is refused."
        )


def iter_channel(handle):
    """("author" | "category" | "tag" | "item", element) for each child of the channel.

    Each element is cleared after the caller is done with it, and dropped from its parent,
    so the tree never holds more than the parser's read-ahead.
    """
    refuse_dtd(handle)
    context = etree.iterparse(
        handle,
        events=("end",),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    checked = False
    try:
        for _event, element in context:
            if not checked:
                checked = True
                docinfo = element.getroottree().docinfo
                if docinfo.internalDTD is not None or docinfo.externalDTD is not None:
                    raise UnsafeXML(
                        "The file declares a DTD (<!DOCTYPE …>). WordPress exports never do, "
                        "and a DTD can carry entity-expansion or external-entity attacks, so "
                        "the file is refused."
                    )
            parent = element.getparent()
            if parent is None or _local(parent.tag)[1] != "channel":
                continue
            namespace, local = _local(element.tag)
            if local == "item":
                yield "item", element
            elif namespace.startswith(WP_NAMESPACE) and local in ("author", "category", "tag"):
                yield local, element
            element.clear(keep_tail=False)
            while element.getprevious() is not None:
                del parent[0]
    except etree.XMLSyntaxError as exc:
        raise UnsafeXML(f"The file is not well-formed XML: {exc}") from None


def read_item(element) -> dict:
    """An <item>'s fields: title, link, guid, wp:* values, categories and post meta."""
    item = {"categories": [], "meta": {}}
    for child in element:
        namespace, local = _local(child.tag)
        if local == "category" and not namespace:
            item["categories"].append(
                (child.get("domain", ""), child.get("nicename", ""), _text(child).strip())
            )
        elif local == "postmeta":
            key = value = ""
            for part in child:
                if _local(part.tag)[1] == "meta_key":
                    key = _text(part)
                elif _local(part.tag)[1] == "meta_value":
                    value = _text(part)
            item["meta"][key] = value
        elif local == "comment":
            continue
        elif namespace == CONTENT_NAMESPACE and local == "encoded":
            item["content"] = _text(child)
        elif namespace.startswith(WP_NAMESPACE) and local == "encoded":
            item["excerpt"] = _text(child)  # excerpt:encoded
        elif namespace == DC_NAMESPACE and local == "creator":
            item["creator"] = _text(child).strip()
        else:
            item[local] = _text(child)
    return item


def read_simple(element) -> dict:
    return {_local(child.tag)[1]: _text(child) for child in element}


# --- Body: shortcodes, paragraphs and media -------------------------------------------------

# Common shortcodes that stand alone, without attributes, and so could be mistaken for text.
KNOWN_SHORTCODES = {
    "gallery", "audio", "video", "playlist", "embed", "caption", "wp_caption", "contact-form",
    "contact-form-7", "vc_row", "vc_column", "vc_column_text", "vc_single_image", "et_pb_section",
    "et_pb_row", "et_pb_column", "et_pb_text", "su_button", "wpforms", "gravityform", "ninja_form",
    "pdf-embedder", "googlemaps", "youtube", "vimeo", "tweet", "instagram", "soundcloud",
    "button", "row", "column", "col", "tabs", "tab", "accordion", "toggle", "box", "divider",
    "spacer", "clear", "toc", "more", "nextpage", "fusion_builder_container", "ad", "ads",
}  # fmt: skip

ESCAPED = re.compile(r"\[\[([^\[\]]*)\]\]")
CAPTION = re.compile(r"\[(caption|wp_caption)\b([^\]]*)\](.*?)\[/\1\]", re.S | re.I)
EMBED = re.compile(r"\[embed\b[^\]]*\](.*?)\[/embed\]", re.S | re.I)
ENCLOSING = re.compile(r"\[([A-Za-z][\w-]*)((?:\s[^\]]*)?)\](.*?)\[/\1\]", re.S)
ATTRIBUTES = r"(?:\s+[\w-]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s\]]+))?)*"
SINGLE = re.compile(rf"\[([A-Za-z][\w-]*)({ATTRIBUTES})\s*(/?)\]")
CLOSING = re.compile(r"\[/([A-Za-z][\w-]*)\]")
IMAGE_FIRST = re.compile(r"^\s*((?:<a\b[^>]*>\s*)?<img\b[^>]*>(?:\s*</a>)?)(.*)$", re.S | re.I)
ATTRIBUTE = re.compile(r"([\w-]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s\]]+))")


def _attributes(text: str) -> dict:
    return {m[1].lower(): m[2] or m[3] or m[4] or "" for m in ATTRIBUTE.finditer(text or "")}


def convert_shortcodes(text: str, removed: Counter) -> str:
    """[caption] to <figure>, [embed] to a link, every other shortcode removed (counted).

    An enclosing shortcode keeps the text it encloses; `[[name]]` is WordPress's way of
    writing a literal `[name]` and stays as text.
    """
    if "[" not in text:
        return text
    literals = []

    def keep(match):
        literals.append(f"[{match[1]}]")
        return f"\0{len(literals) - 1}\0"

    text = ESCAPED.sub(keep, text)

    def caption(match):
        attrs = _attributes(match[2])
        inner = convert_shortcodes(match[3], removed)
        found = IMAGE_FIRST.match(inner)
        image, words = (found[1], found[2]) if found else ("", inner)
        words = words.strip() or attrs.get("caption", "")
        align = attrs.get("align", "")
        css = f' class="wp-caption {html.escape(align)}"' if align else ' class="wp-caption"'
        figcaption = f"<figcaption>{words}</figcaption>" if words else ""
        return f"<figure{css}>{image}{figcaption}</figure>"

    text = CAPTION.sub(caption, text)

    def embed(match):
        url = html.escape(match[1].strip())
        return f'<p><a href="{url}">{url}</a></p>'

    text = EMBED.sub(embed, text)
    enclosing_names = set()
    while True:

        def unwrap(match):
            removed[match[1].lower()] += 1
            enclosing_names.add(match[1].lower())
            return match[3]

        new = ENCLOSING.sub(unwrap, text)
        if new == text:
            break
        text = new

    def single(match):
        name = match[1].lower()
        if (match[2].strip() and "=" in match[2]) or name in KNOWN_SHORTCODES or match[3]:
            removed[name] += 1
            enclosing_names.add(name)
            return ""
        return match[0]

    text = SINGLE.sub(single, text)
    text = CLOSING.sub(
        lambda m: "" if m[1].lower() in enclosing_names | KNOWN_SHORTCODES else m[0], text
    )
    return re.sub("\0(\\d+)\0", lambda m: literals[int(m[1])], text)


BLOCKS = (
    r"(?:table|thead|tfoot|caption|col|colgroup|tbody|tr|td|th|div|dl|dd|dt|ul|ol|li|pre|"
    r"form|map|area|blockquote|address|math|style|p|h[1-6]|hr|fieldset|legend|section|"
    r"article|aside|hgroup|header|footer|nav|figure|figcaption|details|menu|summary|"
    r"iframe|script|object|video|audio)"
)


def wpautop(text: str) -> str:
    """WordPress's paragraph formatting: blank lines make paragraphs, single newlines <br>."""
    if not text.strip():
        return ""
    protected = []

    def protect(match):
        protected.append(match[0])
        return f"<pre>\0{len(protected) - 1}\0</pre>"

    text = re.sub(r"<pre\b.*?</pre>", protect, text, flags=re.S | re.I)
    # Figures made from [caption] are finished blocks: no paragraphs inside them.
    text = re.sub(r"<figure\b.*?</figure>", protect, text, flags=re.S | re.I)
    text = text.replace("\r\n", "\n").replace("\r", "\n") + "\n"
    text = re.sub(r"<br\s*/?>\s*<br\s*/?>", "\n\n", text, flags=re.I)
    text = re.sub(rf"(<{BLOCKS}[\s/>])", r"\n\n\1", text, flags=re.I)
    text = re.sub(rf"(</{BLOCKS}>)", r"\1\n\n", text, flags=re.I)
    text = re.sub(r"\n\n+", "\n\n", text)
    chunks = [chunk.strip("\n") for chunk in re.split(r"\n\s*\n", text) if chunk.strip()]
    text = "".join(f"<p>{chunk}</p>\n" for chunk in chunks)
    text = re.sub(r"<p>\s*</p>", "", text)
    text = re.sub(r"<p>([^<]+)</(div|address|form)>", r"<p>\1</p></\2>", text)
    text = re.sub(rf"<p>\s*(</?{BLOCKS}[^>]*>)\s*</p>", r"\1", text, flags=re.I)
    text = re.sub(r"<p>(<li.+?)</p>", r"\1", text, flags=re.I)
    text = re.sub(r"<p><blockquote([^>]*)>", r"<blockquote\1><p>", text, flags=re.I)
    text = text.replace("</blockquote></p>", "</p></blockquote>")
    text = re.sub(rf"<p>\s*(</?{BLOCKS}[^>]*>)", r"\1", text, flags=re.I)
    text = re.sub(rf"(</?{BLOCKS}[^>]*>)\s*</p>", r"\1", text, flags=re.I)
    text = re.sub(r"(?<!<br />)\s*\n", "<br />\n", text)
    text = re.sub(rf"(</?{BLOCKS}[^>]*>)\s*<br />", r"\1", text, flags=re.I)
    text = re.sub(
        r"<br />(\s*</?(?:p|li|div|dl|dd|dt|th|pre|td|ul|ol)[^>]*>)", r"\1", text, flags=re.I
    )
    text = re.sub(r"\n</p>$", "</p>", text)
    text = re.sub(r"<pre>\0(\d+)\0</pre>", lambda m: protected[int(m[1])], text)
    return text.strip()


URL_ATTRIBUTE = re.compile(r"""(\b(?:src|href)\s*=\s*)(["'])(.*?)\2""", re.I | re.S)


class Uploads:
    """The local copy of wp-content/uploads: old media URLs become files in this site's media."""

    def __init__(self, root, url_prefix: str | None, writer: MediaWriter, report: ImportReport):
        self.folder = MediaFolder(root, option="--uploads-dir") if root else None
        self.url_prefix = url_prefix.rstrip("/") + "/" if url_prefix else None
        self.writer = writer
        self.report = report
        self.stored: dict[str, str] = {}

    def relative(self, url: str) -> str | None:
        """The path inside the uploads folder an old URL points at, if it points there."""
        url = html.unescape(url.strip())
        if self.url_prefix and url.startswith(self.url_prefix):
            return unquote(url[len(self.url_prefix) :].split("?")[0].split("#")[0])
        path = unquote(urlsplit(url).path)
        marker = "/wp-content/uploads/"
        if marker in path:
            return path.split(marker, 1)[1]
        return None

    def source(self, relative: str, field_name: str) -> Path | None:
        if self.folder is None:
            return None
        try:
            return self.folder.resolve(relative, field_name)
        except RecordError as exc:
            if "outside" in exc.message:
                raise
            return None

    def rewrite(self, body: str, key: str) -> str:
        """Copy the uploads the body links to into media storage and point the links there."""

        def replace(match):
            relative = self.relative(match[3])
            if relative is None:
                return match[0]
            source = self.source(relative, "body")
            if source is None:
                if self.folder is not None:
                    self.report.warn(
                        key, f"{relative} is not in the uploads folder; kept the old link."
                    )
                return match[0]
            name = self.stored.get(relative)
            if name is None:
                name = self.writer.store(default_storage, f"uploads/{relative}", source)
                self.stored[relative] = name
            return f"{match[1]}{match[2]}{default_storage.url(name)}{match[2]}"

        return URL_ATTRIBUTE.sub(replace, body)


# --- Items to records -----------------------------------------------------------------------


class WXRConverter:
    def __init__(self, mapping: Mapping, uploads: Uploads, report: ImportReport, tz,
                 include_pages: bool = True):  # fmt: skip
        self.mapping = mapping
        self.uploads = uploads
        self.report = report
        self.tz = tz
        self.include_pages = include_pages
        self.authors: dict[str, str] = {}  # login -> display name
        self.attachments: dict[str, dict] = {}
        self._options: tuple[int, str] | None = None

    def author(self, data: dict) -> None:
        login = data.get("author_login", "").strip()
        name = data.get("author_display_name", "").strip()
        if not name:
            name = " ".join(
                p for p in (data.get("author_first_name"), data.get("author_last_name")) if p
            ).strip()
        self.authors[login] = name or login

    def attachment(self, item: dict) -> None:
        url = item.get("attachment_url", "") or item.get("guid", "")
        self.attachments[item.get("post_id", "")] = {
            "url": url,
            "file": item["meta"].get("_wp_attached_file", ""),
            "alt": item["meta"].get("_wp_attachment_image_alt", ""),
            "caption": strip_tags(item.get("excerpt", "")).strip(),
        }

    @staticmethod
    def key(item: dict) -> str:
        post_id = item.get("post_id", "").strip()
        return f"post {post_id}" if post_id else item.get("link", "(post without an id)")

    def label(self, item: dict) -> str | None:
        """ "article" or "page" for an item that is imported, else None (reported skipped)."""
        post_type = item.get("post_type", "post")
        if post_type == "attachment":
            return None
        if post_type not in ("post", "page") or (post_type == "page" and not self.include_pages):
            self.report.add(f"{post_type} (not imported)", "skipped", self.key(item))
            return None
        label = "page" if post_type == "page" else "article"
        if item.get("status", "publish") in SKIPPED_STATUSES:
            self.report.add(label, "skipped", self.key(item))
            return None
        return label

    def options(self) -> str:
        """What beside an item decides its record: the mapping and the authors read so far."""
        if self._options is None or self._options[0] != len(self.authors):
            text = json.dumps(
                [asdict(self.mapping), self.authors, self.uploads.url_prefix], sort_keys=True
            )
            self._options = (len(self.authors), text)
        return self._options[1]

    def convert(self, item: dict) -> dict | None:
        """The structured record of an item `label` admits; None when its status cannot be
        mapped (reported as a failure)."""
        post_type = item.get("post_type", "post")
        post_id = item.get("post_id", "").strip()
        key = self.key(item)
        status = item.get("status", "publish")
        removed = Counter()
        body = convert_shortcodes(item.get("content", ""), removed)
        self.report.shortcodes.update(removed)
        body = self.uploads.rewrite(wpautop(body), key)
        title = html.unescape(item.get("title", "")).strip()
        slug = unquote(item.get("post_name", "")).strip()
        if not title:
            title = slug or f"Untitled {post_type} {post_id}"
            self.report.warn(key, f"the {post_type} has no title; it is called “{title}”.")
        when = self.date(item)
        summary = html.unescape(strip_tags(item.get("excerpt", ""))).strip()
        link = item.get("link", "").strip()
        alias = f"/?page_id={post_id}" if post_type == "page" else f"/?p={post_id}"
        aliases = [alias] if post_id else []
        guid = item.get("guid", "").strip()
        for url in (link, guid):
            if url and normalize_path(url) not in aliases:
                aliases.append(normalize_path(url))
        record = {
            "_key": key,
            "_source_keyed": True,
            "title": title,
            "body": body,
            "summary": summary,
            "redirects": aliases,
        }
        if when is not None:
            record["created_at"] = when
        if slug:
            record["slug"] = slug
        if post_type == "page":
            record.update(
                {
                    "type": "page",
                    "order": item.get("menu_order", "0").strip() or "0",
                    "is_published": status == "publish",
                }
            )
            return record
        mapped = self.mapping.status.get(status)
        if mapped is None:
            self.report.fail(key, "status", f"“{status}” is not a WordPress status we can map.")
            return None
        record.update(
            {
                "type": "article",
                "status": mapped,
                "published_at": when,
                "legacy_url": link or alias,
                "kind": self.mapping.kind,
                "is_featured": item.get("is_sticky", "0").strip() == "1",
            }
        )
        self.taxonomy(item, record, key)
        self.credit(item, record)
        self.hero(item, record, key)
        return record

    def date(self, item: dict):
        gmt = item.get("post_date_gmt", "").strip()
        try:
            if gmt and gmt != NO_DATE:
                return parse_datetime_value(gmt, dt.UTC)
            local = item.get("post_date", "").strip()
            if local and local != NO_DATE:
                return parse_datetime_value(local, self.tz)
        except ValueError:
            return None
        return None

    def taxonomy(self, item: dict, record: dict, key: str) -> None:
        targets = {"topic": [], "region": [], "tag": [], "section": [], "kind": []}
        for domain, nicename, name in item["categories"]:
            if domain not in ("category", "post_tag"):
                continue
            kind, value = self.mapping.target(domain, nicename, html.unescape(name))
            if kind != "ignore" and value not in targets[kind]:
                targets[kind].append(value)
        record["topics"] = targets["topic"]
        record["regions"] = targets["region"]
        record["tags"] = targets["tag"]
        if targets["section"]:
            record["section"] = targets["section"][0]
            if len(targets["section"]) > 1:
                self.report.warn(
                    key,
                    f"an article has one section; “{targets['section'][0]}” was kept, "
                    f"{', '.join(targets['section'][1:])} left out.",
                )
        else:
            record["section"] = ""
        if targets["kind"]:
            record["kind"] = targets["kind"][0]

    def credit(self, item: dict, record: dict) -> None:
        login = item.get("creator", "")
        if not login:
            record["authors"] = []
            return
        target = self.mapping.authors.get(login, self.authors.get(login, login))
        record["authors"] = [target] if target else []

    def hero(self, item: dict, record: dict, key: str) -> None:
        thumbnail = item["meta"].get("_thumbnail_id", "").strip()
        if not thumbnail or self.uploads.folder is None:
            return
        attachment = self.attachments.get(thumbnail)
        if attachment is None:
            self.report.warn(
                key, f"the featured image (attachment {thumbnail}) is not in the file."
            )
            return
        relative = attachment["file"] or self.uploads.relative(attachment["url"]) or ""
        source = self.uploads.source(relative, "hero_image") if relative else None
        if source is None:
            self.report.warn(key, f"the featured image {relative or attachment['url']} is not in "
                             "the uploads folder.")  # fmt: skip
            return
        record["hero_image"] = relative
        record["_media"] = {"hero_image": source}
        record["hero_alt"] = attachment["alt"][:300]
        record["hero_caption"] = attachment["caption"][:500]


def import_wordpress(
    path,
    *,
    mapping: Mapping,
    uploads_dir=None,
    uploads_url: str | None = None,
    include_pages: bool = True,
    dry_run: bool = False,
    tz=None,
    batch_size: int = 1000,
    renditions: bool = True,
    compare_all: bool = False,
    progress_stream=None,
    on_record=None,
) -> ImportReport:
    """Import a WXR file's posts and pages; raises UnsafeXML for a file it will not read."""
    path = Path(path)
    report = ImportReport(dry_run=dry_run, on_record=on_record)
    writer = ContentWriter(
        report,
        dry_run=dry_run,
        tz=tz,
        batch_size=batch_size,
        renditions=renditions,
        compare_all=compare_all,
    )
    uploads = Uploads(uploads_dir, uploads_url, writer.files, report)
    converter = WXRConverter(mapping, uploads, report, writer.context.tz, include_pages)
    if uploads_dir:
        # Featured images are attachments, which may come after the posts that use them: a
        # first pass collects them (a few strings each).
        with path.open("rb") as handle:
            for kind, element in iter_channel(handle):
                if kind == "item":
                    data = read_item(element)
                    if data.get("post_type") == "attachment":
                        converter.attachment(data)
    size = path.stat().st_size
    progress = Progress(progress_stream, size) if progress_stream is not None else None
    handle = path.open("rb")

    def records():
        for kind, element in iter_channel(handle):
            if kind == "author":
                converter.author(read_simple(element))
            if kind != "item":
                continue
            data = read_item(element)
            label = converter.label(data)
            if label is None:
                continue
            if not uploads_dir:
                # Converted only if its fingerprint does not let the writer pass over it
                # (charhar/transfer/fingerprints.py); with an uploads folder, files decide too.
                yield {
                    "type": label,
                    "_key": converter.key(data),
                    "_digest": digest_of(data, converter.options()),
                    "_convert": partial(converter.convert, data),
                }
                continue
            try:
                record = converter.convert(data)
            except RecordError as exc:
                yield {
                    "type": "_error",
                    "_key": converter.key(data),
                    "_field": exc.field,
                    "_message": exc.message,
                }
                continue
            if record is not None:
                yield record

    try:
        return run_import(records(), writer, progress, handle.tell)
    finally:
        handle.close()
