"""The page cache and conditional requests: fast for readers, never stale, never shared."""

import datetime
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.db import connection
from django.middleware.csrf import _does_token_match
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from articles.factories import PublishedArticleFactory, ScheduledArticleFactory
from articles.models import Article

pytestmark = pytest.mark.django_db
PROJECT = Path(__file__).resolve().parent.parent


@pytest.fixture
def page_cache(settings):
    settings.PAGE_CACHE_SECONDS = 600
    return settings


def _get(client, url="/articles/", **headers):
    return client.get(url, headers=headers)


def test_a_repeated_anonymous_request_is_served_from_the_cache(client, page_cache):
    PublishedArticleFactory(title="Behind Biden’s Asia Trip")
    first = _get(client)
    with CaptureQueriesContext(connection) as queries:
        second = _get(client)

    assert "X-Page-Cache" not in first
    assert second["X-Page-Cache"] == "hit"
    assert len(queries) == 0
    assert second.content.decode().count(
        "Behind Biden’s Asia Trip"
    ) == first.content.decode().count("Behind Biden’s Asia Trip")


@pytest.mark.parametrize("change", ["publish", "edit", "delete"])
def test_every_change_shows_on_the_next_anonymous_request(client, page_cache, change):
    article = PublishedArticleFactory(title="Original title")
    draft = Article.objects.create(title="Draft piece", status=Article.Status.DRAFT)
    assert "Original title" in _get(client).content.decode()
    assert _get(client)["X-Page-Cache"] == "hit"

    if change == "publish":
        draft.status = Article.Status.PUBLISHED
        draft.save()
        expected, gone = "Draft piece", None
    elif change == "edit":
        article.title = "Edited title"
        article.save()
        expected, gone = "Edited title", "Original title"
    else:
        article.delete()
        expected, gone = None, "Original title"

    html = _get(client).content.decode()
    if expected:
        assert expected in html
    if gone:
        assert gone not in html


def test_a_scheduled_article_appears_at_its_time_with_the_cache_on(
    client, page_cache, time_machine
):
    start = datetime.datetime(2026, 3, 1, 8, 0, tzinfo=datetime.UTC)
    time_machine.move_to(start, tick=False)
    PublishedArticleFactory(title="Already out")
    ScheduledArticleFactory(
        title="Embargoed piece", published_at=start + datetime.timedelta(hours=2)
    )

    assert "Embargoed piece" not in _get(client).content.decode()
    assert _get(client)["X-Page-Cache"] == "hit"

    time_machine.move_to(start + datetime.timedelta(hours=1, minutes=59, seconds=59), tick=False)
    assert "Embargoed piece" not in _get(client).content.decode()

    time_machine.move_to(start + datetime.timedelta(hours=2), tick=False)
    response = _get(client)
    assert "X-Page-Cache" not in response
    assert "Embargoed piece" in response.content.decode()


def test_staff_and_signed_in_readers_never_get_cached_pages(client, admin_user, page_cache):
    from django.test import Client

    staff = Client()
    staff.force_login(admin_user)
    PublishedArticleFactory()
    _get(client)
    assert _get(client)["X-Page-Cache"] == "hit"

    for _ in range(2):
        response = _get(staff)
        assert "X-Page-Cache" not in response
        assert "ETag" not in response


def test_a_repeated_request_with_the_etag_gets_a_304_without_rendering(client):
    PublishedArticleFactory()
    url = reverse("articles:list")
    first = _get(client, url)
    etag = first["ETag"]

    with CaptureQueriesContext(connection) as queries:
        repeat = _get(client, url, if_none_match=etag)

    assert repeat.status_code == 304
    assert repeat.content == b""
    assert len(queries) == 0


def test_the_etag_changes_with_the_content_and_the_page(client):
    article = PublishedArticleFactory()
    home, listing = _get(client, "/")["ETag"], _get(client)["ETag"]
    assert home != listing
    assert _get(client, "/")["ETag"] == home

    article.title = "Changed"
    article.save()

    changed = _get(client, "/", if_none_match=home)
    assert changed.status_code == 200
    assert changed["ETag"] != home


def test_cached_pages_carry_each_readers_own_csrf_token(page_cache):
    from django.test import Client

    first_reader, second_reader = Client(), Client()
    first = _get(first_reader)
    second = _get(second_reader)
    assert second["X-Page-Cache"] == "hit"

    def token(response):
        html = response.content.decode()
        marker = 'name="csrfmiddlewaretoken" value="'
        assert marker in html, "the Stay Informed form carries a CSRF token"
        return html.split(marker, 1)[1].split('"', 1)[0]

    for reader, response in ((first_reader, first), (second_reader, second)):
        secret = reader.cookies["csrftoken"].value
        assert _does_token_match(token(response), secret)
    assert first_reader.cookies["csrftoken"].value != second_reader.cookies["csrftoken"].value


def test_errors_and_redirects_are_not_cached(client, page_cache):
    assert _get(client, "/no-such-page/").status_code == 404
    assert "X-Page-Cache" not in _get(client, "/no-such-page/")
    assert "ETag" not in _get(client, "/no-such-page/")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_change_made_by_another_app_server_shows_here(client, settings):
    """Two processes sharing one Redis: an edit in one invalidates the other's pages."""
    prefix = f"test-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/15",
            "KEY_PREFIX": prefix,
        }
    }
    settings.PAGE_CACHE_SECONDS = 600
    article = PublishedArticleFactory(title="Before the other server's edit")
    _get(client)
    assert _get(client)["X-Page-Cache"] == "hit"

    db = connection.settings_dict
    database_url = (
        f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )
    script = (
        "import django; django.setup(); from articles.models import Article; "
        f"a = Article.objects.get(pk={article.pk}); a.title = 'After the edit'; a.save()"
    )
    environment = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="charhar.settings.base",
        DEBUG="1",
        DATABASE_URL=database_url,
        CACHE_URL=f"redis://127.0.0.1:6379/15?key_prefix={prefix}",
    )
    subprocess.run(
        [sys.executable, "-c", script], cwd=PROJECT, env=environment, check=True, timeout=60
    )

    response = _get(client)
    assert "X-Page-Cache" not in response
    assert "After the edit" in response.content.decode()


def test_listing_totals_are_counted_once_per_content_state(client):
    PublishedArticleFactory.create_batch(3)

    def count_queries():
        with CaptureQueriesContext(connection) as queries:
            html = _get(client).content.decode()
        return sum("COUNT(" in q["sql"].upper() for q in queries), html

    first, _ = count_queries()
    second, _ = count_queries()
    assert (first, second) == (1, 0)

    PublishedArticleFactory(title="One more")
    third, html = count_queries()
    assert third == 1
    assert "One more" in html
