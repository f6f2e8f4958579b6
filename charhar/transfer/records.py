"""The writer every import feeds: records of the structured format in, rows out, in batches.

A record is a dict like one line of the JSON Lines format (docs/imports.md). Consecutive
records of one type are collected into a batch; for a batch the writer

1. converts and validates each record's fields (a bad record is reported and left out),
2. finds the existing rows in one query per key (legacy URL, slug, name, old address),
3. compares each record with its row and relations, so an unchanged record costs no write,
4. writes the new and changed rows with bulk operations inside one transaction.

Bulk operations skip `save()`, so what `save()` would do is done here: bodies go through
`clean_html`, slugs are made unique, a published article gets a publication time, an ISBN is
normalized, a PDF's size measured, renditions of new images generated, and legacy URLs become
`Redirect` rows. If a batch's write fails, it is rolled back and its records are written one
at a time, so one bad record cannot take its neighbours with it and none is half-written.
"""

import datetime as dt
import functools
import logging
import re
import time
import zoneinfo
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, connections, transaction
from django.utils import timezone
from django.utils.text import slugify
from taggit.models import Tag

from articles.models import Article, ArticleAuthor, EventDetails, Section, TaggedArticle
from experts.models import Expert
from publications.models import Publication, PublicationAuthor, Series

from .. import searchentries
from ..copying import copy_rows, next_ids
from ..models import (
    Menu,
    MenuItem,
    Office,
    Page,
    Redirect,
    Region,
    SiteSettings,
    Topic,
    normalize_path,
)
from ..pagecache import CACHE_NOT_TOLD, bump_content_version
from ..sanitize import clean_html
from ..search import VECTORS as SEARCHABLE
from ..search import refresh_search_vectors
from ..validators import normalize_isbn
from .common import (
    ImportReport,
    MediaFolder,
    MediaWriter,
    RecordError,
    parse_bool,
    parse_date_value,
    parse_datetime_value,
    parse_int,
)
from .fingerprints import NAMED, Fingerprints, forget_all, source_of

logger = logging.getLogger(__name__)
MISSING = object()

# --- Converters: raw JSON/CSV value -> model value; ValueError says what is wrong -------------


def _text(value, ctx):
    return "" if value is None else str(value)


def _line(value, ctx):
    return "" if value is None else str(value).strip()


def _html(value, ctx):
    return clean_html(_text(value, ctx))


def _datetime(value, ctx):
    return parse_datetime_value(value, ctx.tz)


def _date(value, ctx):
    return parse_date_value(value)


def _bool(value, ctx):
    return parse_bool(value)


def _int(value, ctx):
    return parse_int(value)


def _percent(value, ctx):
    """A focal point coordinate: 0 to 100 per cent of the image, 50 (the middle) when empty."""
    number = parse_int(value, 50)
    if not 0 <= number <= 100:
        raise ValueError(f"{number} is not a percentage from 0 to 100.")
    return number


def _choice(choices):
    by_value = {str(v): v for v, _label in choices}
    by_label = {str(label).casefold(): v for v, label in choices}

    def convert(value, ctx):
        text = _line(value, ctx)
        if text in by_value:
            return by_value[text]
        if text.casefold() in by_label:
            return by_label[text.casefold()]
        if text.casefold() in by_value:
            return by_value[text.casefold()]
        raise ValueError(f"“{text}” is not one of: {', '.join(by_value)}.")

    return convert


def split_list(value) -> list[str]:
    """A list from JSON (an array) or CSV (items separated by "|")."""
    if value is None or value == "":
        return []
    if isinstance(value, list | tuple):
        return [str(item).strip() for item in value if str(item).strip()]
    return [part.strip() for part in str(value).split("|") if part.strip()]


# --- Specifications of the record types ----------------------------------------------------


@dataclass
class Spec:
    """How one record type maps onto a model."""

    label: str
    model: type
    fields: dict
    natural: tuple = ("slug",)  # lookups that identify a row, in order
    title_field: str = "title"  # what a missing slug is made from
    derive_slug_key: bool = True  # without slug/legacy URL, the slug the title gives is the key
    fks: dict = field(default_factory=dict)  # field -> referenced label
    m2m: dict = field(default_factory=dict)  # field -> referenced label
    credits: str = ""  # "article" or "publication"
    tags: bool = False
    event: bool = False
    files: dict = field(default_factory=dict)  # field -> rendition spec names
    validate_unique: bool = False
    redirects: bool = False  # legacy_url and `redirects` become Redirect rows


TAXONOMY_FIELDS = {"name": _line, "slug": _line, "description": _text, "order": _int}

SPECS = {
    "topic": Spec("topic", Topic, TAXONOMY_FIELDS, ("slug", "name"), "name", False),
    "region": Spec("region", Region, TAXONOMY_FIELDS, ("slug", "name"), "name", False),
    "section": Spec("section", Section, TAXONOMY_FIELDS, ("slug", "name"), "name", False),
    "series": Spec("series", Series, TAXONOMY_FIELDS, ("slug", "name"), "name", False),
    "tag": Spec("tag", Tag, {"name": _line, "slug": _line}, ("slug", "name"), "name", False),
    "office": Spec(
        "office",
        Office,
        {
            "city": _line,
            "slug": _line,
            "address": _text,
            "phone": _line,
            "email": _line,
            "order": _int,
        },
        ("slug", "city"),
        "city",
        False,
        validate_unique=True,
    ),
    "page": Spec(
        "page",
        Page,
        {
            "title": _line,
            "slug": _line,
            "summary": _text,
            "body": _html,
            "order": _int,
            "is_published": _bool,
            "created_at": _datetime,
        },
        redirects=True,
    ),
    "expert": Spec(
        "expert",
        Expert,
        {
            "name": _line,
            "slug": _line,
            "title": _line,
            "affiliation": _line,
            "short_bio": _text,
            "bio": _html,
            "order": _int,
            "is_active": _bool,
            "created_at": _datetime,
        },
        ("slug", "name"),
        "name",
        False,
        m2m={"topics": "topic", "regions": "region"},
        files={"photo": ("portrait", "avatar")},
        redirects=True,
    ),
    "article": Spec(
        "article",
        Article,
        {
            "title": _line,
            "slug": _line,
            "kind": _choice(Article.Kind.choices),
            "status": _choice(Article.Status.choices),
            "published_at": _datetime,
            "summary": _text,
            "body": _html,
            "hero_alt": _line,
            "hero_caption": _line,
            "hero_credit": _line,
            "hero_focal_x": _percent,
            "hero_focal_y": _percent,
            "byline": _line,
            "source_name": _line,
            "source_url": _line,
            "is_featured": _bool,
            "legacy_url": _line,
            "created_at": _datetime,
        },
        ("legacy_url", "slug"),
        fks={"section": "section"},
        m2m={"topics": "topic", "regions": "region"},
        credits="article",
        tags=True,
        event=True,
        files={"hero_image": ("card_image", "hero_rendition")},
        redirects=True,
    ),
    "publication": Spec(
        "publication",
        Publication,
        {
            "title": _line,
            "slug": _line,
            "status": _choice(Publication.Status.choices),
            "published_on": _date,
            "byline": _line,
            "publisher": _line,
            "isbn": _line,
            "volume": _line,
            "issue": _line,
            "summary": _text,
            "purchase_url": _line,
            "is_featured": _bool,
            "created_at": _datetime,
        },
        fks={"series": "series"},
        m2m={"topics": "topic", "regions": "region"},
        credits="publication",
        files={"cover": ("cover_thumbnail", "cover_rendition"), "pdf": ()},
        redirects=True,
    ),
}

# Records of these types are written by their own handlers below.
OTHER_TYPES = ("site_settings", "menu", "redirect")
RECORD_TYPES = (*SPECS, *OTHER_TYPES)

EVENT_FIELDS = {
    "starts_at": _datetime,
    "ends_at": _datetime,
    "time_zone": _line,
    "venue": _line,
    "city": _line,
    "registration_url": _line,
}

SITE_SETTINGS_FIELDS = [
    f.name for f in SiteSettings._meta.concrete_fields if f.name != "id"
]  # fmt: skip

REFERENCE_MODELS = {
    "topic": (Topic, "name"),
    "region": (Region, "name"),
    "section": (Section, "name"),
    "series": (Series, "name"),
    "expert": (Expert, "name"),
    "page": (Page, "title"),
}

REDIRECT_TARGETS = {
    "article": Article,
    "page": Page,
    "expert": Expert,
    "publication": Publication,
    "topic": Topic,
    "region": Region,
    "section": Section,
    "series": Series,
}


@dataclass
class Context:
    tz: dt.tzinfo


# --- References: taxonomy, experts, pages and tags by slug or name ---------------------------


class Resolver:
    """Finds rows a record refers to by slug or name, in memory; creates missing ones if allowed."""

    def __init__(self, report: ImportReport, create_missing: bool):
        self.report = report
        self.create_missing = create_missing
        self.maps: dict[str, dict] = {}
        self.tags: dict[str, int] | None = None

    def reset(self) -> None:
        self.maps = {}
        self.tags = None

    def _map(self, label: str) -> dict:
        if label not in self.maps:
            model, name_field = REFERENCE_MODELS[label]
            mapping = {"slug": {}, "name": {}, "fold": {}}
            for pk, slug, name in model._default_manager.order_by("-pk").values_list(
                "pk", "slug", name_field
            ):
                mapping["slug"][slug] = pk
                mapping["name"][name] = pk
                mapping["fold"][name.casefold()] = pk
            self.maps[label] = mapping
        return self.maps[label]

    def remember(self, label: str, pk: int, slug: str, name: str) -> None:
        if label in self.maps:
            mapping = self.maps[label]
            mapping["slug"][slug] = pk
            mapping["name"][name] = pk
            mapping["fold"][name.casefold()] = pk

    def find(self, label: str, ref: str) -> int | None:
        mapping = self._map(label)
        return (
            mapping["slug"].get(ref)
            or mapping["name"].get(ref)
            or mapping["fold"].get(ref.casefold())
        )

    def get(self, label: str, ref, field_name: str) -> int:
        ref = str(ref).strip()
        pk = self.find(label, ref)
        if pk is not None:
            return pk
        if not self.create_missing or label == "page":
            raise RecordError(field_name, f"No {label} has the slug or name “{ref}”.")
        model, name_field = REFERENCE_MODELS[label]
        instance = model(**{name_field: ref[: model._meta.get_field(name_field).max_length]})
        instance.save()
        self.report.add(label, "created", ref)
        self.remember(label, instance.pk, instance.slug, getattr(instance, name_field))
        return instance.pk

    def tag(self, name: str) -> int:
        if self.tags is None:
            self.tags = {n.casefold(): pk for pk, n in Tag.objects.values_list("pk", "name")}
        name = name.strip()[:100]
        pk = self.tags.get(name.casefold())
        if pk is None:
            tag = Tag(name=name)
            tag.save()  # taggit finds a free slug
            self.report.add("tag", "created", name)
            pk = self.tags[name.casefold()] = tag.pk
        return pk


# --- The writer -----------------------------------------------------------------------------


@dataclass
class Item:
    """One record on its way to a row."""

    record: dict
    key: str
    lookups: list = field(default_factory=list)
    aliases: list = field(default_factory=list)
    values: dict = field(default_factory=dict)
    slug: str = ""
    relations: dict = field(default_factory=dict)
    credits: list | None = None
    tags: list | None = None
    event: object = MISSING
    files: dict = field(default_factory=dict)
    instance: object = None
    created: bool = False
    changed: set = field(default_factory=set)
    relations_changed: set = field(default_factory=set)
    files_changed: set = field(default_factory=set)
    redirect_paths: list = field(default_factory=list)


class ContentWriter:
    """Writes records in batches; see the module docstring."""

    def __init__(
        self,
        report: ImportReport,
        *,
        media: MediaFolder | None = None,
        dry_run: bool = False,
        tz: dt.tzinfo | None = None,
        create_missing: bool = True,
        batch_size: int = 1000,
        renditions: bool = True,
        compare_all: bool = False,
        source_options: str = "",
    ):
        self.report = report
        self.media = media or MediaFolder(None)
        self.dry_run = dry_run
        self.context = Context(tz or timezone.get_current_timezone())
        self.resolver = Resolver(report, create_missing)
        self.files = MediaWriter(dry_run)
        self.batch_size = batch_size
        self.renditions = renditions and not dry_run
        self.buffer: list[dict] = []
        self.buffer_type = ""
        self.buffer_keys: set = set()
        self.now = timezone.now()
        # `source_options`: what else, beside the records, decides what they become (a
        # WordPress import's mapping file, say).
        self.compare_all = compare_all  # pass over nothing (fingerprints are still kept)
        self.timestamped: dict[str, set] = {}
        self.vectors = SearchVectorFiller()
        self.fingerprints = Fingerprints(f"{self.context.tz}|{create_missing}|{source_options}")

    @contextmanager
    def clock(self, phase: str):
        started = time.perf_counter()
        try:
            yield
        finally:
            self.report.timings[phase] += time.perf_counter() - started

    # Feeding --------------------------------------------------------------------------------

    def write(self, record: dict) -> None:
        rtype = record.get("type", "")
        if rtype == "_error":
            self.report.fail(record["_key"], record.get("_field", "-"), record["_message"])
            return
        if rtype not in RECORD_TYPES:
            self.report.fail(
                record_key(record),
                "type",
                f"“{rtype}” is not a record type; use one of: {', '.join(RECORD_TYPES)}.",
            )
            return
        key = identity(record)
        if self.buffer and (
            rtype != self.buffer_type
            or len(self.buffer) >= self.batch_size
            or (key and key in self.buffer_keys)
        ):
            self.flush()
        self.buffer_type = rtype
        self.buffer.append(record)
        if key:
            self.buffer_keys.add(key)

    def close(self) -> None:
        self.flush()
        if not self.dry_run:
            with self.clock("search vectors"):
                self.vectors.finish()

    def flush(self) -> None:
        records, rtype = self.buffer, self.buffer_type
        self.buffer, self.buffer_keys = [], set()
        if records and rtype in SPECS:
            records = self._pass_unchanged(SPECS[rtype], records)
        if records:
            self._write_batch(rtype, records)

    def _source(self, spec: Spec, record: dict) -> str | None:
        """The fingerprint source of a record that may be passed over, else None."""
        if "updated_at" not in self.timestamped.setdefault(spec.label, _field_names(spec.model)):
            return None
        if "_convert" in record:
            if "_digest" not in record:
                return None
        elif record.get("_media"):
            return None  # files found by the source's own reader (WordPress uploads)
        for name in ("_key", "legacy_url", "slug", "old_path", "name"):
            value = record.get(name)
            if value:
                return source_of(spec.label, str(value))
        return None

    def _file_stamps(self, spec: Spec, record: dict) -> str | None:
        """Size and modification time of each file the record names, as `rsync` compares
        them: a file changed under the same name makes the record read in full. None when a
        file cannot be found (reading the record in full reports why)."""
        stamps = []
        for name in spec.files:
            relative = record.get(name)
            if relative:
                try:
                    stat = self.media.resolve(str(relative), name).stat()
                except (RecordError, OSError):
                    return None
                stamps.append(f"{name}:{relative}:{stat.st_size}:{stat.st_mtime_ns}")
        return "|".join(stamps)

    def _pass_unchanged(self, spec: Spec, records: list[dict]) -> list[dict]:
        """Report the records whose fingerprints hold as unchanged (charhar/transfer/
        fingerprints.py) and return the others, converted when read lazily, to be written."""
        report = self.report
        with self.clock("pass over unchanged"):
            sources = {}
            for record in records:
                source = self._source(spec, record)
                files = self._file_stamps(spec, record) if source is not None else ""
                if files is not None and source is not None:
                    record["_source"] = source
                    record["_digest"] = self.fingerprints.digest(record, files)
                    # A source given twice in a batch is written, not passed over.
                    sources[source] = None if source in sources else record["_digest"]
            passed = {}
            if not self.compare_all and self.fingerprints.any_before_this_run():
                passed = self.fingerprints.unchanged(
                    spec.model, {s: d for s, d in sources.items() if d is not None}
                )
        rest = []
        for record in records:
            redirects = passed.get(record.get("_source"))
            if redirects is not None:
                report.add(spec.label, "unchanged", record_key(record))
                for path in redirects:
                    report.add("redirect", "unchanged", path)
                continue
            convert = record.pop("_convert", None)
            if convert is not None:
                try:
                    converted = convert()
                except RecordError as exc:
                    report.fail(record_key(record), exc.field, exc.message)
                    continue
                record.update(converted)
            rest.append(record)
        return rest

    def _write_batch(self, rtype: str, records: list[dict]) -> None:
        counts = {label: c.copy() for label, c in self.report.counts.items()}
        failures, warnings = len(self.report.failures), len(self.report.warnings)
        self.files.forget()
        deferred: list[dict] = []
        try:
            with transaction.atomic():
                if rtype in SPECS:
                    # The search entries of the rows written are brought up to date once, at
                    # the end of the batch (charhar/searchentries.py).
                    searchentries.defer()
                    deferred = self._write_models(SPECS[rtype], records)
                    with self.clock("search entries"):
                        searchentries.catch_up()
                else:
                    getattr(self, f"_write_{rtype}")(records)
        except (DatabaseError, ValidationError, OSError, ValueError) as exc:
            self.files.discard()
            self.resolver.reset()
            self.report.counts = counts
            del self.report.failures[failures:]
            del self.report.warnings[warnings:]
            if len(records) == 1:
                self.report.fail(record_key(records[0]), "-", describe_error(exc))
            else:
                for record in records:
                    self._write_batch(rtype, [record])
            return
        if deferred:
            for record in deferred:
                self._write_batch(rtype, [record])

    # Model records ----------------------------------------------------------------------------

    def _prepare(self, spec: Spec, record: dict) -> Item:
        ctx, resolver = self.context, self.resolver
        item = Item(record=record, key=record_key(record))
        for name, convert in spec.fields.items():
            if name in record:
                try:
                    value = convert(record[name], ctx)
                except ValueError as exc:
                    raise RecordError(name, str(exc)) from None
                if name == "created_at" and value is None:
                    continue  # unknown: a new row is created now, an old one keeps its time
                item.values[name] = value
        item.slug = item.values.pop("slug", "")
        for name, label in spec.fks.items():
            if name in record:
                ref = _line(record[name], ctx)
                item.values[f"{name}_id"] = resolver.get(label, ref, name) if ref else None
        for name, label in spec.m2m.items():
            if name in record:
                pks = [resolver.get(label, ref, name) for ref in split_list(record[name])]
                item.relations[name] = list(dict.fromkeys(pks))
        if spec.credits:
            item.credits = self._credits(spec, record)
        if spec.tags and "tags" in record:
            item.tags = list(dict.fromkeys(resolver.tag(n) for n in split_list(record["tags"])))
        if spec.event and "event" in record:
            item.event = self._event(record["event"])
        for name in spec.files:
            if name in record:
                relative = _line(record[name], ctx)
                if relative:
                    source = record.get("_media", {}).get(name) or self.media.resolve(
                        relative, name
                    )
                    item.files[name] = (Path(source), relative)
                else:
                    item.files[name] = None
        if "isbn" in item.values:
            item.values["isbn"] = normalize_isbn(item.values["isbn"])
        # What identifies the row: the first natural key the record gives.
        for name in spec.natural:
            value = item.slug if name == "slug" else item.values.get(name)
            if value:
                item.lookups.append((name, value))
                if name == "legacy_url":
                    break  # an article with a legacy URL is that URL, whatever its slug
        if not item.lookups and spec.derive_slug_key:
            title = item.values.get(spec.title_field, "")
            derived = make_slug(title, spec.model)
            if derived:
                item.lookups.append(("slug", derived))
        item.aliases = [normalize_path(p) for p in split_list(record.get("redirects"))]
        if record.get("_source_keyed"):
            # Keyed by the source (a WordPress post id, a file): never matched by slug, so a
            # slug two sources share is de-duplicated instead of merging them.
            item.lookups = [lk for lk in item.lookups if lk[0] != "slug"]
        if not item.lookups and not item.aliases:
            raise RecordError(
                spec.title_field, f"The record has no {spec.title_field} or slug to identify it."
            )
        return item

    def _credits(self, spec: Spec, record: dict) -> list | None:
        resolver = self.resolver
        if spec.credits == "article":
            if "authors" not in record:
                return None
            refs = split_list(record["authors"])
            return list(dict.fromkeys(resolver.get("expert", r, "authors") for r in refs))
        credits = []
        if "contributors" in record:
            for entry in record["contributors"] or []:
                if isinstance(entry, dict):
                    ref, role = entry.get("expert", ""), entry.get("role", "author")
                else:
                    ref, role = entry, "author"
                credits.append((ref, role))
        elif any(k in record for k in ("authors", "editors", "translators")):
            for column, role in (("authors", "author"), ("editors", "editor")):
                credits += [(ref, role) for ref in split_list(record.get(column))]
            credits += [(ref, "translator") for ref in split_list(record.get("translators"))]
        else:
            return None
        roles = set(PublicationAuthor.Role.values)
        result = []
        for ref, role in credits:
            if role not in roles:
                raise RecordError(
                    "contributors", f"“{role}” is not a role; use one of: {', '.join(roles)}."
                )
            entry = (resolver.get("expert", ref, "contributors"), role)
            if entry not in result:
                result.append(entry)
        return result

    def _event(self, raw):
        if raw in (None, "", {}):
            return None
        if not isinstance(raw, dict):
            raise RecordError("event", "The event must be an object with at least starts_at.")
        values = {}
        zone = (
            _line(raw.get("time_zone"), self.context)
            or EventDetails._meta.get_field("time_zone").default
        )
        # Times written without an offset are the venue's local times.
        context = Context(zoneinfo.ZoneInfo(zone) if zone in time_zones() else self.context.tz)
        for name, convert in EVENT_FIELDS.items():
            if name in raw:
                try:
                    values[name] = convert(raw[name], context)
                except ValueError as exc:
                    raise RecordError(f"event.{name}", str(exc)) from None
        if not values.get("starts_at"):
            raise RecordError("event.starts_at", "An event needs a start time (starts_at).")
        if not values.get("time_zone"):
            values["time_zone"] = EventDetails._meta.get_field("time_zone").default
        if values["time_zone"] not in time_zones():
            raise RecordError(
                "event.time_zone",
                f"“{values['time_zone']}” is not a time zone name such as Asia/Shanghai.",
            )
        event = EventDetails(**values)
        try:
            # The time zone is checked above against a cached list: the model's validator
            # reads the whole time zone database each time.
            event.clean_fields(exclude=["article", "time_zone"])
            event.clean()
        except ValidationError as exc:
            name, message = first_error(exc)
            raise RecordError(f"event.{name}", message) from None
        return values

    def _write_models(self, spec: Spec, records: list[dict]) -> list[dict]:
        report, clock = self.report, self.clock
        items: list[Item] = []
        with clock("prepare"):
            for record in records:
                try:
                    items.append(self._prepare(spec, record))
                except RecordError as exc:
                    report.fail(record_key(record), exc.field, exc.message)
        with clock("look up"):
            deferred = self._find_existing(spec, items)
            waiting = {id(record) for record in deferred}
            items = [item for item in items if id(item.record) not in waiting]
            self._load_relations(spec, items)
        ok: list[Item] = []
        with clock("compare"):
            for item in items:
                try:
                    self._diff(spec, item)
                except RecordError as exc:
                    report.fail(item.key, exc.field, exc.message)
                    continue
                ok.append(item)
            self._assign_slugs(spec, ok)
        valid = []
        with clock("validate"):
            for item in ok:
                if item.created or item.changed:
                    try:
                        self._validate(spec, item)
                    except RecordError as exc:
                        report.fail(item.key, exc.field, exc.message)
                        continue
                valid.append(item)
        self._save(spec, valid)
        self._keep_fingerprints(spec, valid)
        for item in valid:
            if item.created:
                action = "created"
            elif item.changed or item.relations_changed or item.files_changed:
                action = "updated"
            else:
                action = "unchanged"
            report.add(spec.label, action, item.key)
            if spec.label in REFERENCE_MODELS:
                instance = item.instance
                name = getattr(instance, REFERENCE_MODELS[spec.label][1])
                self.resolver.remember(spec.label, instance.pk, instance.slug, name)
            elif spec.label == "tag" and self.resolver.tags is not None:
                self.resolver.tags[item.instance.name.casefold()] = item.instance.pk
        return deferred

    def _keep_fingerprints(self, spec: Spec, items: list[Item]) -> None:
        if spec.label in NAMED and any(i.created or i.changed for i in items):
            # Records name these rows: what a name resolves to may have changed.
            forget_all()
        rows = {}
        for item in items:
            source = item.record.get("_source")
            if source is not None:
                instance = item.instance
                rows[source] = (
                    source,
                    item.record["_digest"],
                    instance.pk,
                    instance.updated_at,
                    item.redirect_paths,
                )
        self.fingerprints.remember(spec.model, list(rows.values()))

    def _find_existing(self, spec: Spec, items: list[Item]) -> list[dict]:
        model = spec.model
        wanted = defaultdict(set)
        for item in items:
            for name, value in item.lookups:
                wanted[name].add(value)
        found = {}
        # Vectors are derived: reading them back would only cost time.
        manager = model._default_manager
        rows_of = manager.defer("search_vector") if model in SEARCHABLE else manager.all()
        for name, values in wanted.items():
            rows = rows_of.filter(**{f"{name}__in": values})
            if name == "legacy_url":
                rows = rows.exclude(legacy_url="")  # so the partial unique index serves it
            for instance in rows.order_by("-pk"):
                found[(name, getattr(instance, name))] = instance
        aliases = {alias for item in items for alias in item.aliases}
        by_alias = {}
        if aliases and spec.redirects:
            content_type = ContentType.objects.get_for_model(model)
            pointed = dict(
                Redirect.objects.filter(
                    old_path__in=aliases, content_type=content_type
                ).values_list("old_path", "object_id")
            )
            rows = rows_of.in_bulk(set(pointed.values()))
            by_alias = {path: rows[pk] for path, pk in pointed.items() if pk in rows}
        claimed, deferred = set(), []
        for item in items:
            instance = next((by_alias[a] for a in item.aliases if a in by_alias), None)
            if instance is None:
                instance = next((found[lk] for lk in item.lookups if lk in found), None)
            if instance is not None and instance.pk in claimed:
                deferred.append(item.record)  # two records for one row: the later one waits
                continue
            if instance is not None:
                claimed.add(instance.pk)
            item.instance = instance
        return deferred

    def _load_relations(self, spec: Spec, items: list[Item]) -> None:
        existing = [item for item in items if item.instance is not None]
        if not existing:
            return
        model = spec.model
        ids = [item.instance.pk for item in existing]
        current: dict[str, dict] = {}
        for name in spec.m2m:
            if any(name in item.relations for item in existing):
                relation = model._meta.get_field(name)
                through = relation.remote_field.through
                source = f"{relation.m2m_field_name()}_id"
                target = f"{relation.m2m_reverse_field_name()}_id"
                rows = defaultdict(set)
                for owner, pk in through.objects.filter(**{f"{source}__in": ids}).values_list(
                    source, target
                ):
                    rows[owner].add(pk)
                current[name] = rows
        if spec.credits == "article" and any(item.credits is not None for item in existing):
            rows = defaultdict(list)
            for owner, expert in (
                ArticleAuthor.objects.filter(article_id__in=ids)
                .order_by("order", "pk")
                .values_list("article_id", "expert_id")
            ):
                rows[owner].append(expert)
            current["credits"] = rows
        if spec.credits == "publication" and any(item.credits is not None for item in existing):
            rows = defaultdict(list)
            for owner, expert, role in (
                PublicationAuthor.objects.filter(publication_id__in=ids)
                .order_by("order", "pk")
                .values_list("publication_id", "expert_id", "role")
            ):
                rows[owner].append((expert, role))
            current["credits"] = rows
        if spec.tags and any(item.tags is not None for item in existing):
            rows = defaultdict(set)
            for owner, tag in TaggedArticle.objects.filter(content_object_id__in=ids).values_list(
                "content_object_id", "tag_id"
            ):
                rows[owner].add(tag)
            current["tags"] = rows
        if spec.event and any(item.event is not MISSING for item in existing):
            current["event"] = {
                event.article_id: event for event in EventDetails.objects.filter(article_id__in=ids)
            }
        for item in existing:
            item.instance._import_current = {
                name: rows.get(item.instance.pk) for name, rows in current.items()
            }

    def _diff(self, spec: Spec, item: Item) -> None:
        model = spec.model
        instance = item.instance
        if instance is None:
            item.created = True
            instance = item.instance = model()
            current = {}
        else:
            current = getattr(instance, "_import_current", {})
        for name, value in item.values.items():
            attname = model._meta.get_field(name).attname if not name.endswith("_id") else name
            if item.created or getattr(instance, attname) != value:
                setattr(instance, attname, value)
                item.changed.add(attname)
        published = model is Article and instance.status == Article.Status.PUBLISHED
        if published and instance.published_at is None:
            instance.published_at = self.now
            item.changed.add("published_at")
        for name, pks in item.relations.items():
            if item.created or set(pks) != (current.get(name) or set()):
                item.relations_changed.add(name)
        if item.credits is not None:
            old = current.get("credits") or []
            if item.created or list(item.credits) != list(old):
                item.relations_changed.add("credits")
        if item.tags is not None and (
            item.created or set(item.tags) != (current.get("tags") or set())
        ):
            item.relations_changed.add("tags")
        if item.event is not MISSING:
            old = current.get("event")
            if item.event is None:
                if old is not None:
                    item.relations_changed.add("event")
            elif old is None or any(
                getattr(old, name) != value for name, value in _event_values(item.event).items()
            ):
                item.relations_changed.add("event")
        for name, source in item.files.items():
            field_file = getattr(instance, name)
            if source is None:
                if field_file.name:
                    field_file.name = ""
                    item.files_changed.add(name)
                    item.changed.add(name)
            elif self.files.attach(instance, name, *source):
                item.files_changed.add(name)
                item.changed.add(name)
        if model is Publication and "pdf" in item.files_changed:
            instance.pdf_size = item.files["pdf"][0].stat().st_size if item.files["pdf"] else None
            item.changed.add("pdf_size")

    def _assign_slugs(self, spec: Spec, items: list[Item]) -> None:
        model = spec.model
        max_length = model._meta.get_field("slug").max_length
        wanted = {}
        for item in items:
            if item.slug:
                if item.created or item.slug != item.instance.slug:
                    wanted[id(item)] = item.slug[:max_length]
            elif item.created:
                title = getattr(item.instance, spec.title_field, "") or ""
                wanted[id(item)] = make_slug(title, model) or "item"
        if not wanted:
            return
        taken = dict(
            model._default_manager.filter(slug__in=set(wanted.values())).values_list("slug", "pk")
        )
        in_batch = set()
        for item in items:
            slug = wanted.get(id(item))
            if slug is None:
                continue
            owner = taken.get(slug)
            mine = owner is None or (not item.created and owner == item.instance.pk)
            if mine and slug not in in_batch:
                final = slug
            elif not item.created and re.fullmatch(
                rf"{re.escape(slug)}-\d+", item.instance.slug or ""
            ):
                final = item.instance.slug  # de-duplicated by an earlier run: keep it
            else:
                final = free_slug(model, slug, max_length, in_batch)
                self.report.warn(item.key, f"the slug “{slug}” is taken; used “{final}”.")
            in_batch.add(final)
            if final != item.instance.slug:
                item.instance.slug = final
                item.changed.add("slug")

    def _validate(self, spec: Spec, item: Item) -> None:
        instance = item.instance
        # Foreign keys were resolved from existing rows: checking each again costs a query.
        exclude = [*spec.files, *spec.fks, "created_at", "updated_at", "pdf_size"]
        try:
            instance.clean_fields(exclude=exclude)
            if spec.validate_unique:
                instance.validate_unique()
        except ValidationError as exc:
            name, message = first_error(exc)
            raise RecordError(name, message) from None

    def _save(self, spec: Spec, items: list[Item]) -> None:
        model = spec.model
        new = [item.instance for item in items if item.created]
        if new:
            with self.clock("write rows"):
                insert(model, new, self.batch_size)
        changed = [item for item in items if not item.created and item.changed]
        has_updated_at = any(f.name == "updated_at" for f in model._meta.concrete_fields)
        by_fields = defaultdict(list)
        for item in changed:
            if has_updated_at:
                item.instance.updated_at = self.now
            names = {model._meta.get_field(n.removesuffix("_id")).name for n in item.changed}
            by_fields[tuple(sorted(names | ({"updated_at"} if has_updated_at else set())))].append(
                item.instance
            )
        for names, instances in by_fields.items():
            model._default_manager.bulk_update(instances, names, batch_size=self.batch_size)
        with self.clock("write relations"):
            self._save_relations(spec, items)
        with self.clock("write redirects"):
            self._save_redirects(spec, items)
        if model in SEARCHABLE:
            # Rows written in bulk skip the save() that keeps search vectors current; a
            # vector also holds the credited names. New rows get theirs once the batch is
            # committed, beside the next batch (`SearchVectorFiller`).
            touched = [
                item.instance.pk
                for item in items
                if not item.created and (item.changed or "credits" in item.relations_changed)
            ]
            if touched:
                with self.clock("search vectors"):
                    refresh_search_vectors(model._default_manager.filter(pk__in=touched))
            if new and not self.dry_run:
                self.vectors.after_commit(model, [instance.pk for instance in new])
        if self.renditions:
            for item in items:
                for name in item.files_changed:
                    if getattr(item.instance, name).name:
                        for rendition in spec.files[name]:
                            getattr(item.instance, rendition).generate()

    def _save_relations(self, spec: Spec, items: list[Item]) -> None:
        model = spec.model

        def replace(through, owner: str, name: str, columns: list[str], rows) -> None:
            todo = [i for i in items if name in i.relations_changed]
            if not todo:
                return
            old = [i.instance.pk for i in todo if not i.created]
            if old:
                through.objects.filter(**{f"{owner}__in": old}).delete()
            insert_rows(through, [owner, *columns], [row for i in todo for row in rows(i)])

        for name in spec.m2m:
            relation = model._meta.get_field(name)
            through = relation.remote_field.through
            source = f"{relation.m2m_field_name()}_id"
            target = f"{relation.m2m_reverse_field_name()}_id"
            replace(
                through,
                source,
                name,
                [target],
                lambda i, name=name: [(i.instance.pk, pk) for pk in i.relations[name]],
            )
        if spec.credits == "article":
            replace(
                ArticleAuthor,
                "article_id",
                "credits",
                ["expert_id", "order"],
                lambda i: [(i.instance.pk, e, n) for n, e in enumerate(i.credits, start=1)],
            )
        elif spec.credits == "publication":
            replace(
                PublicationAuthor,
                "publication_id",
                "credits",
                ["expert_id", "role", "order"],
                lambda i: [
                    (i.instance.pk, e, role, n) for n, (e, role) in enumerate(i.credits, start=1)
                ],
            )
        if spec.tags:
            replace(
                TaggedArticle,
                "content_object_id",
                "tags",
                ["tag_id"],
                lambda i: [(i.instance.pk, tag) for tag in i.tags],
            )
        todo = [i for i in items if "event" in i.relations_changed]
        if todo:
            old = [i.instance.pk for i in todo if not i.created]
            if old:
                EventDetails.objects.filter(article_id__in=old).delete()
            insert(
                EventDetails,
                [
                    EventDetails(article_id=i.instance.pk, **_event_values(i.event))
                    for i in todo
                    if i.event
                ],
                self.batch_size,
            )

    def _save_redirects(self, spec: Spec, items: list[Item]) -> None:
        if not spec.redirects:
            return
        wanted = {}
        for item in items:
            paths = list(item.aliases)
            legacy = getattr(item.instance, "legacy_url", "")
            if legacy:
                paths.insert(0, normalize_path(legacy))
            for path in paths:
                wanted[path] = item
        if not wanted:
            return
        for path, item in wanted.items():
            item.redirect_paths.append(path)
        content_type = ContentType.objects.get_for_model(spec.model)
        existing = {
            row[0]: row
            for row in Redirect.objects.filter(old_path__in=list(wanted)).values_list(
                "old_path", "pk", "content_type_id", "object_id", "new_path"
            )
        }
        new, changed = [], []
        for path, item in wanted.items():
            row = existing.get(path)
            if row is None:
                new.append(
                    Redirect(old_path=path, content_type=content_type, object_id=item.instance.pk)
                )
                self.report.add("redirect", "created", path)
            elif row[2] != content_type.pk or row[3] != item.instance.pk or row[4]:
                changed.append(
                    Redirect(
                        pk=row[1],
                        old_path=path,
                        content_type=content_type,
                        object_id=item.instance.pk,
                        new_path="",
                        updated_at=self.now,
                    )
                )
                self.report.add("redirect", "updated", path)
            else:
                self.report.add("redirect", "unchanged", path)
        insert(Redirect, new, self.batch_size)
        if changed:
            Redirect.objects.bulk_update(
                changed, ["content_type", "object_id", "new_path", "updated_at"]
            )

    # Site settings, menus and fixed redirects --------------------------------------------------

    def _write_site_settings(self, records: list[dict]) -> None:
        for record in records:
            key = record_key(record)
            settings = SiteSettings.objects.filter(pk=1).first()
            created = settings is None
            settings = settings or SiteSettings(pk=1)
            changed = created
            for name in SITE_SETTINGS_FIELDS:
                if name in record:
                    value = _text(record[name], self.context)
                    if getattr(settings, name) != value:
                        setattr(settings, name, value)
                        changed = True
            if changed:
                try:
                    settings.full_clean()
                except ValidationError as exc:
                    self.report.fail(key, *first_error(exc))
                    continue
                settings.save()
            self.report.add(
                "site settings",
                "created" if created else "updated" if changed else "unchanged",
                key,
            )

    def _write_menu(self, records: list[dict]) -> None:
        for record in records:
            key = record_key(record)
            try:
                wanted = self._menu_tree(record.get("items") or [], depth=1)
            except RecordError as exc:
                self.report.fail(key, exc.field, exc.message)
                continue
            slug = _line(record.get("slug"), self.context)
            name = _line(record.get("name"), self.context) or slug
            menu = Menu.objects.filter(slug=slug).first()
            created = menu is None
            changed = created
            if created:
                menu = Menu(slug=slug, name=name)
            elif menu.name != name:
                menu.name, changed = name, True
            if changed:
                try:
                    menu.full_clean()
                except ValidationError as exc:
                    self.report.fail(key, *first_error(exc))
                    continue
                menu.save()
            current = [] if created else menu_tree(menu)
            if current != wanted:
                MenuItem.objects.filter(menu=menu).delete()
                self._create_items(menu, None, wanted)
                changed = True
            action = "created" if created else "updated" if changed else "unchanged"
            self.report.add("menu", action, key)

    def _menu_tree(self, items, depth: int) -> list[dict]:
        if depth > MenuItem.MAX_DEPTH and items:
            raise RecordError("items", f"Menus are at most {MenuItem.MAX_DEPTH} levels deep.")
        tree = []
        for raw in items:
            label = _line(raw.get("label"), self.context)
            page = _line(raw.get("page"), self.context)
            if page:
                pk = self.resolver.get("page", page, "items.page")
                page = Page.objects.filter(pk=pk).values_list("slug", flat=True).first()
            node = {
                "label": label,
                "page": page,
                "url": _line(raw.get("url"), self.context),
                "description": _line(raw.get("description"), self.context),
                "children": self._menu_tree(raw.get("children") or [], depth + 1),
            }
            probe = MenuItem(label=node["label"], url=node["url"], description=node["description"])
            try:
                probe.clean_fields(exclude=["menu", "parent", "page"])
            except ValidationError as exc:
                name, message = first_error(exc)
                raise RecordError(f"items.{name}", f"{label}: {message}") from None
            if page and node["url"]:
                raise RecordError("items.url", f"{label}: choose a page or a link, not both.")
            tree.append(node)
        return tree

    def _create_items(self, menu, parent, nodes) -> None:
        for order, node in enumerate(nodes, start=1):
            page = Page.objects.get(slug=node["page"]) if node["page"] else None
            item = MenuItem.objects.create(
                menu=menu,
                parent=parent,
                label=node["label"],
                page=page,
                url=node["url"],
                description=node["description"],
                order=order,
            )
            self._create_items(menu, item, node["children"])

    def _write_redirect(self, records: list[dict]) -> None:
        ctx = self.context
        parsed = []
        targets = defaultdict(set)
        for record in records:
            key = record_key(record)
            old_path = normalize_path(_line(record.get("old_path"), ctx))
            target_type = _line(record.get("target_type"), ctx)
            target = _line(record.get("target"), ctx)
            new_path = _line(record.get("new_path"), ctx)
            if not record.get("old_path"):
                self.report.fail(key, "old_path", "A redirect needs the old address (old_path).")
                continue
            if target_type and target_type not in REDIRECT_TARGETS:
                self.report.fail(
                    key,
                    "target_type",
                    f"“{target_type}” is not one of: {', '.join(REDIRECT_TARGETS)}.",
                )
                continue
            if not (target_type and target) and not new_path:
                self.report.fail(key, "new_path", "Give the new address or a target.")
                continue
            try:
                created_at = (
                    _datetime(record["created_at"], ctx) if "created_at" in record else None
                )
            except ValueError as exc:
                self.report.fail(key, "created_at", str(exc))
                continue
            if target_type:
                targets[target_type].add(target)
            parsed.append((key, old_path, target_type, target, new_path, created_at))
        pks = {}
        for target_type, slugs in targets.items():
            model = REDIRECT_TARGETS[target_type]
            for pk, slug in model._default_manager.filter(slug__in=slugs).values_list("pk", "slug"):
                pks[(target_type, slug)] = pk
        existing = {
            r.old_path: r for r in Redirect.objects.filter(old_path__in=[p[1] for p in parsed])
        }
        new, changed = [], []
        for key, old_path, target_type, target, new_path, created_at in parsed:
            content_type, object_id = None, None
            if target_type:
                object_id = pks.get((target_type, target))
                if object_id is None:
                    self.report.fail(key, "target", f"No {target_type} has the slug “{target}”.")
                    continue
                content_type = ContentType.objects.get_for_model(REDIRECT_TARGETS[target_type])
                new_path = ""
            probe = Redirect(old_path=old_path, new_path=new_path, object_id=object_id)
            try:
                probe.clean_fields(exclude=["content_type", "created_at", "updated_at"])
            except ValidationError as exc:
                self.report.fail(key, *first_error(exc))
                continue
            redirect = existing.get(old_path)
            values = {
                "content_type_id": content_type.pk if content_type else None,
                "object_id": object_id,
                "new_path": new_path,
            }
            if created_at is not None:
                values["created_at"] = created_at
            if redirect is None:
                new.append(Redirect(old_path=old_path, **values))
                existing[old_path] = new[-1]
                self.report.add("redirect", "created", key)
            elif any(getattr(redirect, k) != v for k, v in values.items()):
                for k, v in values.items():
                    setattr(redirect, k, v)
                redirect.updated_at = self.now
                if redirect.pk:
                    changed.append(redirect)
                self.report.add("redirect", "updated", key)
            else:
                self.report.add("redirect", "unchanged", key)
        insert(Redirect, new, self.batch_size)
        if changed:
            Redirect.objects.bulk_update(
                changed,
                ["content_type", "object_id", "new_path", "created_at", "updated_at"],
            )


# --- Helpers -------------------------------------------------------------------------------


class SearchVectorFiller:
    """Fills the search vectors of new rows on a connection of its own, once the batch that
    wrote them is committed, while the import goes on with the next batch: computing vectors
    (PostgreSQL's HTML parser on every body) is most of a new row's cost, and this way it
    runs on a second core.

    `finish()` waits for it, then fills any vector still missing: rows written where the
    batch's commit never came on its own (a dry run's, a test's outer transaction) or by a
    run killed before their vectors were filled.
    """

    def __init__(self):
        self.executor: ThreadPoolExecutor | None = None
        self.pending = []
        self.filled_at_end = 0  # rows `finish()` found still without a vector

    def after_commit(self, model, ids: list[int]) -> None:
        if connection.vendor == "postgresql":
            transaction.on_commit(lambda: self._submit(model, ids))

    def _submit(self, model, ids: list[int]) -> None:
        if self.executor is None:
            self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vectors")
        query = model._default_manager.filter(pk__in=ids, search_vector__isnull=True)
        self.pending.append(self.executor.submit(refresh_search_vectors, query))

    def finish(self) -> None:
        pending, self.pending = self.pending, []
        if self.executor is not None:
            for future in wait(pending).done:
                if future.exception() is not None:
                    # Filled below, on the import's own connection.
                    logger.warning("Search vectors of new rows: %s", future.exception())
            # The thread's connection is its own: close it there.
            self.executor.submit(connections.close_all).result()
            self.executor.shutdown()
            self.executor = None
        for model in SEARCHABLE:
            self.filled_at_end += refresh_search_vectors(
                model._default_manager.filter(search_vector__isnull=True)
            )


def insert(model, instances: list, batch_size: int = 1000) -> None:
    """`bulk_create`, faster on PostgreSQL: keys drawn from the sequence, rows sent by COPY.

    Like `bulk_create`, it skips `save()` and signals; `pre_save` still runs (auto_now).
    """
    if not instances:
        return
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(instances, batch_size=batch_size)
        return
    assign_ids(model, instances)
    fields = model._meta.concrete_fields
    rows = (
        [f.get_db_prep_save(f.pre_save(instance, True), connection) for f in fields]
        for instance in instances
    )
    copy_rows(model._meta.db_table, [f.column for f in fields], rows)
    for instance in instances:
        instance._state.adding = False
        instance._state.db = connection.alias


def assign_ids(model, instances: list) -> None:
    """Give the instances without a primary key one from the table's sequence (PostgreSQL)."""
    missing = [instance for instance in instances if instance.pk is None]
    if missing:
        for instance, pk in zip(missing, next_ids(model, len(missing)), strict=True):
            instance.pk = pk


def insert_rows(model, columns: list[str], rows: list[tuple]) -> None:
    """Insert plain value tuples (link-table rows) without building model instances."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(
            [model(**dict(zip(columns, row, strict=True))) for row in rows], batch_size=1000
        )
        return
    names = [model._meta.get_field(c.removesuffix("_id")).column for c in columns]
    copy_rows(model._meta.db_table, names, rows)


def _field_names(model) -> set:
    return {f.name for f in model._meta.concrete_fields}


@functools.cache
def time_zones() -> frozenset:
    return frozenset(zoneinfo.available_timezones())


def _event_values(values: dict) -> dict:
    defaults = {"ends_at": None, "venue": "", "city": "", "registration_url": ""}
    return {**defaults, **values}


def menu_tree(menu) -> list[dict]:
    """A menu's items as the nested lists the format uses (one query, plus pages)."""
    rows = list(menu.items.select_related("page").order_by("order", "pk"))
    children = defaultdict(list)
    for row in rows:
        children[row.parent_id].append(row)

    def build(parent_id):
        return [
            {
                "label": row.label,
                "page": row.page.slug if row.page_id else "",
                "url": row.url,
                "description": row.description,
                "children": build(row.pk),
            }
            for row in children[parent_id]
        ]

    return build(None)


def make_slug(text: str, model) -> str:
    max_length = model._meta.get_field("slug").max_length
    return slugify(text or "", allow_unicode=True)[:max_length].strip("-")


def free_slug(model, base: str, max_length: int, reserved: set) -> str:
    """`base-2`, `base-3`, … : the first that neither a row nor this batch uses."""
    stem = base
    taken = set(
        model._default_manager.filter(slug__startswith=stem[: max_length - 4]).values_list(
            "slug", flat=True
        )
    )
    n = 2
    while True:
        suffix = f"-{n}"
        candidate = f"{stem[: max_length - len(suffix)]}{suffix}"
        if candidate not in taken and candidate not in reserved:
            return candidate
        n += 1


def identity(record: dict) -> str:
    """What makes two records of one batch the same row (so the second waits for the first)."""
    for name in ("legacy_url", "slug", "old_path"):
        value = record.get(name)
        if value:
            return f"{record.get('type')}:{name}:{value}"
    return ""


def record_key(record: dict) -> str:
    """How the report names a record: its source key, else its slug, URL or title."""
    for name in ("_key", "legacy_url", "slug", "old_path", "name", "title", "city"):
        value = record.get(name)
        if value:
            return str(value)
    return "(record without a key)"


def first_error(exc: ValidationError) -> tuple[str, str]:
    if hasattr(exc, "error_dict"):
        name, errors = next(iter(exc.error_dict.items()))
        messages = []
        for error in errors:
            messages.extend(error.messages)
        return name, " ".join(messages)
    return "-", " ".join(exc.messages)


def describe_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return first_error(exc)[1]
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"the database refused the record: {text}"


def run_import(records, writer: ContentWriter, progress=None, position=None) -> ImportReport:
    """Feed `records` to `writer`; a dry run does it all in one transaction it rolls back."""
    report = writer.report
    started = time.perf_counter()
    with transaction.atomic() if writer.dry_run else nullcontext():
        for record in records:
            writer.write(record)
            report.records += 1
            if progress is not None:
                progress.update(position() if position else None)
        writer.close()
        if writer.dry_run:
            transaction.set_rollback(True)
    changed = report.total("created") or report.total("updated")
    # Bulk writes send no signals: tell every app server's page cache ourselves.
    if not writer.dry_run and changed and not bump_content_version():
        report.warn("-", CACHE_NOT_TOLD)
    if progress is not None:
        progress.close()
    report.elapsed = time.perf_counter() - started
    return report
