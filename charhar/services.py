"""Assembling pages from several apps' content, each in a fixed number of queries."""

import hashlib
from dataclasses import dataclass, field
from itertools import chain

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from articles.models import Article
from publications.models import Publication, Series

from .caching import cached_rows
from .models import Topic
from .pagecache import content_state


@dataclass
class Block:
    """A titled group of items on the home page with a link to the full listing."""

    title: str
    items: list
    more_url: str = ""
    group: object = None
    extra: dict = field(default_factory=dict)


def home_page(now=None) -> dict:
    """Everything the home page shows.

    Which articles and publications fill each block depends on the content state alone
    (`charhar.pagecache`: the content version and the next scheduled change), so the ids are
    chosen once per state, shared by every app server through the cache, and each request
    fetches just those rows with their authors.
    """
    now = now or timezone.now()
    ids = _home_ids(now)
    published = Article.objects.published(now)
    wanted = set(chain(ids["featured"], ids["news"], ids["research"], ids["events"]))
    wanted.update(chain(*ids["per_topic"].values()))
    articles = published.cards().in_bulk(wanted) if wanted else {}
    per_topic = ids["per_topic"]

    def pick(pks):
        return [articles[pk] for pk in pks if pk in articles]

    publications = (
        Publication.objects.published().select_related("series").in_bulk(ids["publications"])
        if ids["publications"]
        else {}
    )
    publications_by_series: dict[int, list] = {}
    for pk in ids["publications"]:
        if pk in publications:
            publication = publications[pk]
            publications_by_series.setdefault(publication.series_id, []).append(publication)

    return {
        "featured": pick(ids["featured"]),
        "news": pick(ids["news"]),
        "research": pick(ids["research"]),
        "events": pick(ids["events"]),
        "topic_blocks": [
            Block(topic.name, pick(per_topic.get(topic.pk, [])), topic.get_absolute_url(), topic)
            for topic in cached_rows(Topic)
        ],
        "series_blocks": [
            Block(
                series.name,
                publications_by_series.get(series.pk, []),
                series.get_absolute_url(),
                series,
            )
            for series in cached_rows(Series)
        ],
    }


def _home_ids(now) -> dict:
    """The ids of what each home page block shows: a few small queries, once per content
    state (one query a block, one for all topics, one for all series)."""
    version, boundary = content_state(now)
    stamp = boundary.isoformat() if boundary else ""
    key = "charhar:home-ids:" + hashlib.sha256(f"{version}|{stamp}".encode()).hexdigest()[:32]
    ids = cache.get(key)
    if ids is not None:
        return ids
    published = Article.objects.published(now)
    ids = {
        "featured": list(published.filter(is_featured=True).values_list("pk", flat=True)[:3]),
        "news": list(published.news_and_events().values_list("pk", flat=True)[:6]),
        "research": list(published.research().values_list("pk", flat=True)[:5]),
        "events": list(published.upcoming_events(now).values_list("pk", flat=True)[:3]),
        "per_topic": published.latest_per_topic(per_topic=2),
        "publications": list(
            Publication.objects.published()
            .latest_per_series(per_series=2)
            .values_list("pk", flat=True)
        ),
    }
    cache.set(key, ids, timeout=settings.PAGE_CACHE_SECONDS or 600)
    return ids
