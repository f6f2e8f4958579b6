"""The home page's blocks are chosen once per content state (charhar.services.home_page) and
are never stale: a new article, an edit and a scheduled article coming due show on the next
request, with the page cache off as with it on."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from articles.factories import EventDetailsFactory, PublishedArticleFactory, ScheduledArticleFactory
from articles.models import Article
from charhar.factories import TopicFactory
from publications.factories import PublishedPublicationFactory, SeriesFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(params=[0, 600], ids=["page cache off", "page cache on"])
def page_cache(request, settings):
    settings.PAGE_CACHE_SECONDS = request.param
    return request.param


def home(client):
    response = client.get("/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_blocks_are_chosen_once_per_content_state(client):
    topic = TopicFactory()
    PublishedArticleFactory.create_batch(3, topics=[topic], kind=Article.Kind.NEWS)
    PublishedPublicationFactory(series=SeriesFactory())
    home(client)
    with CaptureQueriesContext(connection) as queries:
        home(client)
    # Only the rows: the articles, their authors and the publications.
    assert len(queries) == 3
    assert all(" IN (" in query["sql"] for query in queries)


def test_a_new_article_and_an_edit_show_on_the_next_request(client, page_cache):
    article = PublishedArticleFactory(title="First news", kind=Article.Kind.NEWS)
    assert "First news" in home(client)
    PublishedArticleFactory(title="Second news", kind=Article.Kind.NEWS)
    assert "Second news" in home(client)
    article.title = "First news, corrected"
    article.save()
    assert "First news, corrected" in home(client)


def test_a_scheduled_article_and_an_ending_event_change_the_home_at_their_time(
    client, page_cache, time_machine
):
    start = datetime.datetime(2026, 3, 1, 8, 0, tzinfo=datetime.UTC)
    time_machine.move_to(start, tick=False)
    ScheduledArticleFactory(
        title="Embargoed news",
        kind=Article.Kind.NEWS,
        published_at=start + datetime.timedelta(hours=1),
    )
    EventDetailsFactory(
        article__title="Morning seminar",
        starts_at=start + datetime.timedelta(minutes=30),
        ends_at=start + datetime.timedelta(hours=2),
    )
    page = home(client)
    assert "Embargoed news" not in page
    assert "Morning seminar" in page

    time_machine.move_to(start + datetime.timedelta(hours=1), tick=False)
    assert "Embargoed news" in home(client)

    time_machine.move_to(start + datetime.timedelta(hours=2, seconds=1), tick=False)
    page = home(client)
    assert "Embargoed news" in page
    assert "Upcoming events" not in page
