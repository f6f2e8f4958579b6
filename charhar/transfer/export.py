"""The export: all content as JSON Lines in the structured format, with its media beside it.

`OUT/content.jsonl` holds one record a line, in an order the import can follow (site
settings, taxonomy, tags, offices, pages, experts, articles, publications, menus,
redirects); `OUT/media/` holds every image and PDF the records name, at the same relative
paths. Rows are written in primary-key order with relations sorted, so exporting,
importing into an empty database and exporting again gives identical files.
"""

import json
import shutil
from collections import Counter, defaultdict
from pathlib import Path

from taggit.models import Tag

from articles.models import Article, ArticleAuthor, EventDetails, Section, TaggedArticle
from experts.models import Expert
from publications.models import Publication, PublicationAuthor, Series

from ..models import Menu, Office, Page, Redirect, Region, SiteSettings, Topic
from .common import iso, same_content
from .records import REDIRECT_TARGETS, SITE_SETTINGS_FIELDS, menu_tree

CHUNK = 2000


def _chunks(queryset, size=CHUNK):
    """Rows in primary-key order, `size` at a time, without holding the whole table."""
    last = 0
    while True:
        rows = list(queryset.filter(pk__gt=last).order_by("pk")[:size])
        if not rows:
            return
        yield rows
        last = rows[-1].pk


def _slugs(model) -> dict[int, str]:
    return dict(model._default_manager.values_list("pk", "slug"))


class Exporter:
    def __init__(self, out_dir: Path, *, media: bool = True, dry_run: bool = False):
        self.out_dir = Path(out_dir)
        self.media = media
        self.dry_run = dry_run
        self.counts: Counter = Counter()
        self.files = 0
        self.topics, self.regions = _slugs(Topic), _slugs(Region)
        self.sections, self.series = _slugs(Section), _slugs(Series)
        self.experts = _slugs(Expert)

    def run(self) -> Counter:
        path = self.out_dir / "content.jsonl"
        if self.dry_run:
            for _record in self.records():
                pass
            return self.counts
        self.out_dir.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".jsonl.part")
        with temporary.open("w", encoding="utf-8", newline="\n") as handle:
            for record in self.records():
                handle.write(json.dumps(record, ensure_ascii=False))
                handle.write("\n")
        temporary.replace(path)  # a reader never sees half a file
        return self.counts

    def records(self):
        for method in (
            self.site_settings, self.taxonomy, self.tags, self.offices, self.pages,
            self.experts_records, self.articles, self.publications, self.menus, self.redirects,
        ):  # fmt: skip
            for record in method():
                self.counts[record["type"]] += 1
                yield record

    def file(self, field_file) -> str:
        """The media-relative path of a stored file, copied beside the export."""
        name = field_file.name or ""
        if not name:
            return ""
        if self.media and not self.dry_run:
            target = self.out_dir / "media" / name
            source = field_file.storage
            if not (target.exists() and same_content(source, name, target)):
                target.parent.mkdir(parents=True, exist_ok=True)
                with source.open(name, "rb") as src, target.open("wb") as dst:
                    shutil.copyfileobj(src, dst)
                self.files += 1
        return name

    # Record makers ----------------------------------------------------------------------------

    def site_settings(self):
        settings = SiteSettings.objects.filter(pk=1).first()
        if settings is not None:
            yield {
                "type": "site_settings",
                **{name: getattr(settings, name) for name in SITE_SETTINGS_FIELDS},
            }

    def taxonomy(self):
        for rtype, model in (
            ("topic", Topic), ("region", Region), ("section", Section), ("series", Series),
        ):  # fmt: skip
            for row in model.objects.order_by("pk"):
                yield {
                    "type": rtype,
                    "name": row.name,
                    "slug": row.slug,
                    "description": row.description,
                    "order": row.order,
                }

    def tags(self):
        for name, slug in Tag.objects.order_by("pk").values_list("name", "slug"):
            yield {"type": "tag", "name": name, "slug": slug}

    def offices(self):
        for row in Office.objects.order_by("pk"):
            yield {
                "type": "office",
                "city": row.city,
                "slug": row.slug,
                "address": row.address,
                "phone": row.phone,
                "email": row.email,
                "order": row.order,
            }

    def pages(self):
        for row in Page.objects.order_by("pk"):
            yield {
                "type": "page",
                "title": row.title,
                "slug": row.slug,
                "summary": row.summary,
                "body": row.body,
                "order": row.order,
                "is_published": row.is_published,
                "created_at": iso(row.created_at),
            }

    def _m2m(self, model, name, ids, slugs) -> dict[int, list[str]]:
        relation = model._meta.get_field(name)
        through = relation.remote_field.through
        source = f"{relation.m2m_field_name()}_id"
        target = f"{relation.m2m_reverse_field_name()}_id"
        rows = defaultdict(list)
        for owner, pk in through.objects.filter(**{f"{source}__in": ids}).values_list(
            source, target
        ):
            rows[owner].append(slugs[pk])
        return {owner: sorted(values) for owner, values in rows.items()}

    def experts_records(self):
        for rows in _chunks(Expert.objects.all()):
            ids = [row.pk for row in rows]
            topics = self._m2m(Expert, "topics", ids, self.topics)
            regions = self._m2m(Expert, "regions", ids, self.regions)
            for row in rows:
                yield {
                    "type": "expert",
                    "name": row.name,
                    "slug": row.slug,
                    "title": row.title,
                    "affiliation": row.affiliation,
                    "photo": self.file(row.photo),
                    "short_bio": row.short_bio,
                    "bio": row.bio,
                    "topics": topics.get(row.pk, []),
                    "regions": regions.get(row.pk, []),
                    "order": row.order,
                    "is_active": row.is_active,
                    "created_at": iso(row.created_at),
                }

    def articles(self):
        for rows in _chunks(Article.objects.all()):
            ids = [row.pk for row in rows]
            topics = self._m2m(Article, "topics", ids, self.topics)
            regions = self._m2m(Article, "regions", ids, self.regions)
            authors = defaultdict(list)
            for owner, expert in (
                ArticleAuthor.objects.filter(article_id__in=ids)
                .order_by("order", "pk")
                .values_list("article_id", "expert_id")
            ):
                authors[owner].append(self.experts[expert])
            tags = defaultdict(list)
            for owner, name in TaggedArticle.objects.filter(content_object_id__in=ids).values_list(
                "content_object_id", "tag__name"
            ):
                tags[owner].append(name)
            events = {e.article_id: e for e in EventDetails.objects.filter(article_id__in=ids)}
            for row in rows:
                event = events.get(row.pk)
                yield {
                    "type": "article",
                    "title": row.title,
                    "slug": row.slug,
                    "kind": row.kind,
                    "status": row.status,
                    "published_at": iso(row.published_at),
                    "section": self.sections.get(row.section_id, ""),
                    "topics": topics.get(row.pk, []),
                    "regions": regions.get(row.pk, []),
                    "tags": sorted(tags.get(row.pk, [])),
                    "authors": authors.get(row.pk, []),
                    "byline": row.byline,
                    "summary": row.summary,
                    "body": row.body,
                    "hero_image": self.file(row.hero_image),
                    "hero_alt": row.hero_alt,
                    "hero_caption": row.hero_caption,
                    "hero_credit": row.hero_credit,
                    "hero_focal_x": row.hero_focal_x,
                    "hero_focal_y": row.hero_focal_y,
                    "source_name": row.source_name,
                    "source_url": row.source_url,
                    "is_featured": row.is_featured,
                    "legacy_url": row.legacy_url,
                    "event": None
                    if event is None
                    else {
                        "starts_at": iso(event.starts_at),
                        "ends_at": iso(event.ends_at),
                        "time_zone": event.time_zone,
                        "venue": event.venue,
                        "city": event.city,
                        "registration_url": event.registration_url,
                    },
                    "created_at": iso(row.created_at),
                }

    def publications(self):
        for rows in _chunks(Publication.objects.all()):
            ids = [row.pk for row in rows]
            topics = self._m2m(Publication, "topics", ids, self.topics)
            regions = self._m2m(Publication, "regions", ids, self.regions)
            credits = defaultdict(list)
            for owner, expert, role in (
                PublicationAuthor.objects.filter(publication_id__in=ids)
                .order_by("order", "pk")
                .values_list("publication_id", "expert_id", "role")
            ):
                credits[owner].append({"expert": self.experts[expert], "role": role})
            for row in rows:
                yield {
                    "type": "publication",
                    "title": row.title,
                    "slug": row.slug,
                    "status": row.status,
                    "published_on": iso(row.published_on),
                    "series": self.series.get(row.series_id, ""),
                    "contributors": credits.get(row.pk, []),
                    "byline": row.byline,
                    "publisher": row.publisher,
                    "isbn": row.isbn,
                    "volume": row.volume,
                    "issue": row.issue,
                    "cover": self.file(row.cover),
                    "pdf": self.file(row.pdf),
                    "summary": row.summary,
                    "purchase_url": row.purchase_url,
                    "topics": topics.get(row.pk, []),
                    "regions": regions.get(row.pk, []),
                    "is_featured": row.is_featured,
                    "created_at": iso(row.created_at),
                }

    def menus(self):
        for menu in Menu.objects.order_by("slug"):
            yield {"type": "menu", "slug": menu.slug, "name": menu.name, "items": menu_tree(menu)}

    def redirects(self):
        types = {
            model: (name, _slugs(model)) for name, model in REDIRECT_TARGETS.items()
        }  # fmt: skip
        by_content_type = {}
        for redirect in Redirect.objects.select_related("content_type").order_by("old_path"):
            record = {"type": "redirect", "old_path": redirect.old_path}
            if redirect.content_type_id and redirect.object_id:
                model = by_content_type.setdefault(
                    redirect.content_type_id, redirect.content_type.model_class()
                )
                name, slugs = types.get(model, (None, {}))
                slug = slugs.get(redirect.object_id)
                if slug is None:
                    self.counts["redirect (target gone, left out)"] += 1
                    continue
                record.update({"target_type": name, "target": slug})
            else:
                record["new_path"] = redirect.new_path
            record["created_at"] = iso(redirect.created_at)
            yield record


def export_content(out_dir, *, media: bool = True, dry_run: bool = False) -> tuple[Counter, int]:
    """Write all content to `out_dir`; the records written per type and media files copied."""
    exporter = Exporter(Path(out_dir), media=media, dry_run=dry_run)
    counts = exporter.run()
    return counts, exporter.files
