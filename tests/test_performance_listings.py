"""Listings read deep pages through the listing indexes, and still show the right articles.

Pages are picked by a subquery of primary keys in the listing's order and, past the middle of
a listing, from its far end in reverse (charhar.views.ListingPaginator). Whatever way a page
is read, a reader walking the pages meets every published article once, newest first, ties
broken the same way; and on PostgreSQL every listing's page query can be answered from the
indexes without a sequential scan of the articles.
"""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from articles.factories import (
    DraftArticleFactory,
    EventDetailsFactory,
    PublishedArticleFactory,
    ScheduledArticleFactory,
    SectionFactory,
)
from articles.models import Article
from charhar.factories import RegionFactory, TopicFactory
from charhar.views import _ordered_to_the_row
from experts.factories import ExpertFactory
from experts.models import Expert
from publications.factories import PublishedPublicationFactory, SeriesFactory
from publications.models import Publication
from tests.html_validation import by_class, parse_html, text

pytestmark = pytest.mark.django_db


def _titles(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    main = next(parse_html(response.content).iter("main"))
    return [text(next(iter(by_class(card, "card__title")))) for card in by_class(main, "card")]


def _walk(client, url, pages):
    """Every title a reader meets going through `pages` pages of `url`, in order."""
    seen = []
    for number in range(1, pages + 1):
        seen += _titles(client, f"{url}?page={number}")
    return seen


@pytest.fixture
def listing():
    """47 published articles (three pages of 20) with shared publication times, so the order
    rests on the id tie-break, among drafts and scheduled pieces readers must not see."""
    topic, region, section, expert = (
        TopicFactory(),
        RegionFactory(),
        SectionFactory(),
        ExpertFactory(),
    )
    start = timezone.now() - datetime.timedelta(days=30)
    for n in range(47):
        # Three articles share each publication time.
        PublishedArticleFactory(
            title=f"Piece {n:02d}",
            published_at=start + datetime.timedelta(hours=n // 3),
            topics=[topic],
            regions=[region],
            section=section,
            authors=[expert],
            kind=Article.Kind.RESEARCH,
        ).tags.add("diplomacy")
        if n % 10 == 0:
            DraftArticleFactory(title=f"Draft {n}", topics=[topic], authors=[expert])
            ScheduledArticleFactory(title=f"Scheduled {n}", topics=[topic], authors=[expert])
    expected = [
        article.title for article in Article.objects.published().order_by("-published_at", "-pk")
    ]
    assert len(expected) == 47
    return {
        "topic": topic,
        "region": region,
        "section": section,
        "expert": expert,
        "expected": expected,
    }


def test_walking_every_page_of_each_listing_meets_each_article_once_newest_first(client, listing):
    urls = [
        reverse("articles:list"),
        reverse("articles:research"),
        reverse("articles:news"),
        reverse("articles:kind", args=["research"]),
        reverse("articles:tag", args=["diplomacy"]),
        listing["topic"].get_absolute_url(),
        listing["region"].get_absolute_url(),
        listing["section"].get_absolute_url(),
    ]
    for url in urls:
        assert _walk(client, url, 3) == listing["expected"], url
        # The last page is read from the far end: it holds the oldest seven, oldest last.
        assert _titles(client, f"{url}?page=3") == listing["expected"][40:], url


def test_an_experts_articles_page_by_ten_in_order_to_the_last_page(client, listing):
    url = listing["expert"].get_absolute_url()
    seen = []
    for number in range(1, 6):
        response = client.get(f"{url}?page={number}")
        assert response.status_code == 200
        seen += [article.title for article in response.context["articles"]]
    assert seen == listing["expected"]
    assert client.get(f"{url}?page=6").status_code == 404


def test_a_listing_ordered_through_a_related_table_pages_the_same_both_ways(client):
    # Upcoming events sort by their start (on the event details), then by id.
    starts = timezone.now() + datetime.timedelta(days=2)
    for n in range(45):
        EventDetailsFactory(
            article__title=f"Event {n:02d}",
            starts_at=starts + datetime.timedelta(hours=n // 4),
        )
    expected = [
        article.title
        for article in Article.objects.published()
        .upcoming_events()
        .order_by("event__starts_at", "pk")
    ]
    assert _walk(client, reverse("articles:events"), 3) == expected


def test_a_series_and_the_publications_list_page_in_order(client):
    series = SeriesFactory()
    today = timezone.localdate()
    for n in range(23):
        PublishedPublicationFactory(
            series=series, title=f"Issue {n:02d}", published_on=today - datetime.timedelta(n // 2)
        )
    expected = [
        publication.title
        for publication in Publication.objects.published().order_by("-published_on", "-pk")
    ]
    assert _walk(client, series.get_absolute_url(), 2) == expected
    assert _walk(client, reverse("publications:list"), 2) == expected


def test_only_orders_that_end_on_the_primary_key_are_read_backwards():
    assert _ordered_to_the_row(Article.objects.all())
    assert _ordered_to_the_row(Article.objects.upcoming_events())
    assert _ordered_to_the_row(Publication.objects.order_by("-published_on", "-id"))
    # Staff's order of experts can tie: reversed, the ties could come out in another order.
    assert not _ordered_to_the_row(Expert.objects.all())
    assert not _ordered_to_the_row(Article.objects.order_by("-published_at"))
    assert not _ordered_to_the_row(Article.objects.order_by())


def test_a_deep_page_costs_the_queries_of_the_first(client, listing):
    def count(url):
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    for url in (reverse("articles:list"), listing["topic"].get_absolute_url()):
        assert count(f"{url}?page=3") == count(f"{url}?page=2") == count(url)


# --- PostgreSQL: the plans -------------------------------------------------------------------


def _plans(client, url):
    """EXPLAIN of every query `url` makes, with sequential scans priced out: a query the
    indexes can answer then uses them, one they cannot still shows a Seq Scan."""
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    plans = {}
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        try:
            for query in queries.captured_queries:
                if "articles_article" in query["sql"] and query["sql"].startswith("SELECT"):
                    cursor.execute("EXPLAIN " + query["sql"])
                    plans[query["sql"]] = "\n".join(row[0] for row in cursor.fetchall())
        finally:
            cursor.execute("RESET enable_seqscan")
    return plans


@pytest.mark.postgres
def test_no_listing_page_scans_the_articles_table(client, listing):
    urls = [
        reverse("articles:list") + "?page=2",
        reverse("articles:research") + "?page=2",
        reverse("articles:news") + "?page=3",
        reverse("articles:kind", args=["research"]) + "?page=2",
        reverse("articles:tag", args=["diplomacy"]) + "?page=2",
        listing["topic"].get_absolute_url() + "?page=2",
        listing["region"].get_absolute_url() + "?page=3",
        listing["section"].get_absolute_url() + "?page=2",
        listing["expert"].get_absolute_url() + "?page=3",
    ]
    for url in urls:
        plans = _plans(client, url)
        assert plans, url
        for sql, plan in plans.items():
            assert "Seq Scan on articles_article " not in plan, f"{url}\n{sql}\n{plan}"
        page_query = [plan for sql, plan in plans.items() if " LIMIT " in sql]
        assert page_query, url
        assert "article_published_order" in page_query[0], f"{url}\n{page_query[0]}"


@pytest.mark.postgres
def test_the_home_page_finds_each_series_latest_issues_in_its_index(client):
    # Enough issues that walking the index beats sorting each series' issues, and statistics
    # that say so: the planner's row counts outlive the transaction of the ANALYZE that set
    # them, so without one here they would describe whatever an earlier test left.
    today = timezone.localdate()
    for _ in range(2):
        series = SeriesFactory()
        Publication.objects.bulk_create(
            Publication(
                title=f"{series.name} {n}",
                slug=f"{series.slug}-{n}",
                series=series,
                published_on=today - datetime.timedelta(days=n + 1),
                status=Publication.Status.PUBLISHED,
            )
            for n in range(300)
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE publications_publication, publications_series")
    with CaptureQueriesContext(connection) as queries:
        client.get("/")  # the first request after the change: the picks are made, not cached
    [picks] = [
        q["sql"]
        for q in queries.captured_queries
        if "publications_publication" in q["sql"] and "LIMIT 1" in q["sql"]
    ]
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")  # a table this small is read whole
        try:
            cursor.execute("EXPLAIN " + picks)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        finally:
            cursor.execute("RESET enable_seqscan")
    assert "publication_series_latest" in plan, plan
    assert "Seq Scan on publications_publication" not in plan, plan


def test_a_topic_page_finds_its_topic_among_the_cached_rows_and_follows_a_rename(client, listing):
    topic = listing["topic"]
    client.get(topic.get_absolute_url())
    with CaptureQueriesContext(connection) as queries:
        assert client.get(topic.get_absolute_url()).status_code == 200
    assert not any('FROM "charhar_topic"' in query["sql"] for query in queries)

    topic.slug = "renamed-topic"
    topic.save()
    assert _walk(client, "/topics/renamed-topic/", 3) == listing["expected"]
    assert client.get("/topics/no-such-topic/").status_code == 404
