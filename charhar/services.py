"""Assembling pages from several apps' content, each in a fixed number of queries."""

from dataclasses import dataclass, field
from itertools import chain

from django.utils import timezone

from articles.models import Article
from publications.models import Publication, Series

from .caching import cached_rows
from .models import Topic


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

    The article ids of every block are found first (one small query a block, one for all
    topics together), then the articles themselves are fetched once with their authors.
    """
    now = now or timezone.now()
    published = Article.objects.published(now)
    ids = {
        "featured": list(published.filter(is_featured=True).values_list("pk", flat=True)[:3]),
        "news": list(published.news_and_events().values_list("pk", flat=True)[:6]),
        "research": list(published.research().values_list("pk", flat=True)[:5]),
        "events": list(published.upcoming_events(now).values_list("pk", flat=True)[:3]),
    }
    per_topic = published.latest_per_topic(per_topic=2)
    wanted = set(chain(*ids.values(), *per_topic.values()))
    articles = published.cards().in_bulk(wanted) if wanted else {}

    def pick(pks):
        return [articles[pk] for pk in pks if pk in articles]

    publications_by_series: dict[int, list] = {}
    for publication in Publication.objects.published().latest_per_series(per_series=2):
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
