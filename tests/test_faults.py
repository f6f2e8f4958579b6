"""The site when something it depends on fails: the database, the cache server, the mail
server. Each fault is real: a PostgreSQL or Redis address with nothing listening, an SQLite file
that cannot be opened, an SMTP port that refuses connections."""

import json
import logging
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import DEFAULT_DB_ALIAS, OperationalError, connection, connections, transaction
from django.db.utils import load_backend
from django.urls import reverse

from articles.factories import PublishedArticleFactory
from charhar.middleware import is_database_unavailable
from charhar.views import HomeView
from newsletter.models import Interest, Subscriber

pytestmark = pytest.mark.django_db
PROJECT = Path(__file__).resolve().parent.parent


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on: connecting to it is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- The database unreachable -------------------------------------------------------------------


def _unreachable(kind: str, tmp_path):
    real = connections[DEFAULT_DB_ALIAS].settings_dict
    if kind == "postgresql":
        overrides = {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": "charhar",
            "USER": "postgres",
            "PASSWORD": "",
            "HOST": "127.0.0.1",
            "PORT": closed_port(),
            "OPTIONS": {"connect_timeout": 5},
        }
    else:
        # A file in a folder that does not exist: SQLite cannot open it.
        overrides = {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(tmp_path / "gone" / "db.sqlite3"),
            "OPTIONS": {},
        }
    settings_dict = {**real, **overrides, "CONN_MAX_AGE": 0, "CONN_HEALTH_CHECKS": False}
    return load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, DEFAULT_DB_ALIAS)


@pytest.fixture(params=["postgresql", "sqlite"])
def database_down(request, tmp_path):
    """Replace the default connection with one to a database that cannot be reached; the
    test's own database is untouched and comes back afterwards."""

    def go_down():
        connections[DEFAULT_DB_ALIAS] = _unreachable(request.param, tmp_path)

    real = connections[DEFAULT_DB_ALIAS]
    yield go_down
    connections[DEFAULT_DB_ALIAS] = real


def _assert_unavailable_page(response):
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "no-store" in response["Cache-Control"]
    assert response["X-Frame-Options"] == "DENY"
    html = response.content.decode()
    assert "<h1>Temporarily unavailable</h1>" in html
    assert '<header class="site-header">' in html  # in the site's layout
    assert 'class="site-footer"' in html
    for leak in ("Traceback", "OperationalError", "refused", "unable to open"):
        assert leak not in html


def test_every_public_page_answers_503_with_retry_after_while_the_database_is_unreachable(
    client, database_down, caplog
):
    article = PublishedArticleFactory()
    urls = [reverse("home"), article.get_absolute_url(), "/articles/", "/search/?q=policy"]
    # Nothing cached: the page cache's own look-up (in its middleware) fails first.
    client.raise_request_exception = False
    database_down()

    for url in urls:
        with caplog.at_level(logging.ERROR, logger="charhar.middleware"):
            _assert_unavailable_page(client.get(url))
    assert len([r for r in caplog.records if r.name == "charhar.middleware"]) == len(urls)
    assert "Database unavailable, answered 503 for GET /search/" in caplog.text


def test_a_view_that_loses_the_database_answers_503(client, database_down, caplog):
    article = PublishedArticleFactory()
    client.get(reverse("home"))  # the content state is known: only the views need the database
    database_down()

    with caplog.at_level(logging.ERROR, logger="charhar.middleware"):
        _assert_unavailable_page(client.get(article.get_absolute_url()))
        _assert_unavailable_page(
            client.post(
                reverse("newsletter:subscribe"),
                {"email": "reader@example.org", "interests": Interest.values},
            )
        )
    records = [r for r in caplog.records if r.name == "charhar.middleware"]
    assert len(records) == 2
    assert records[0].exc_info is not None  # the cause, logged with its traceback


def test_cached_pages_keep_being_served_while_the_database_is_unreachable(
    client, database_down, settings
):
    settings.PAGE_CACHE_SECONDS = 600
    article = PublishedArticleFactory()
    cached = client.get(article.get_absolute_url())
    home = client.get(reverse("home"))
    assert cached.status_code == home.status_code == 200
    database_down()

    # Any query would fail now: these answers come from the cache alone.
    again = client.get(article.get_absolute_url())
    home_again = client.get(reverse("home"), headers={"if-none-match": home["ETag"]})
    assert again.status_code == 200
    assert again["X-Page-Cache"] == "hit"
    assert article.title in again.content.decode()
    assert home_again.status_code == 304
    # A page nobody had asked for yet needs the database.
    _assert_unavailable_page(client.get("/articles/"))


def test_a_query_the_database_refuses_stays_a_500(client, monkeypatch):
    def bad_query(*args, **kwargs):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT * FROM no_such_table")

    monkeypatch.setattr(HomeView, "get_context_data", bad_query)
    client.raise_request_exception = False

    response = client.get(reverse("home"))

    assert response.status_code == 500
    assert "Retry-After" not in response


def _slow_query():
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL statement_timeout = 10")
        cursor.execute("SELECT pg_sleep(1)")


@pytest.mark.postgres
def test_a_statement_timeout_is_not_taken_for_an_unreachable_database():
    with pytest.raises(OperationalError) as caught:
        _slow_query()
    assert not is_database_unavailable(caught.value)


def test_a_database_that_cannot_be_reached_is_recognised(database_down):
    database_down()
    with pytest.raises(OperationalError) as caught:
        Subscriber.objects.count()
    assert is_database_unavailable(caught.value)


# --- The cache server unreachable ---------------------------------------------------------------


def _caches_from(cache_url: str) -> dict:
    """CACHES as the settings build them from CACHE_URL (the test settings use locmem)."""
    environment = {key: value for key, value in os.environ.items() if key != "SECRET_KEY"}
    environment.update(
        CACHE_URL=cache_url, DEBUG="1", DJANGO_SETTINGS_MODULE="charhar.settings.base"
    )
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, json; django.setup(); from django.conf import settings; "
            "print(json.dumps(settings.CACHES))",
        ],
        cwd=PROJECT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_redis_cache_url_gets_django_redis_that_survives_the_server_failing():
    (cache,) = _caches_from("redis://127.0.0.1:6379/14").values()
    assert cache["BACKEND"] == "django_redis.cache.RedisCache"
    assert cache["OPTIONS"]["IGNORE_EXCEPTIONS"] is True
    assert cache["OPTIONS"]["SOCKET_CONNECT_TIMEOUT"] <= 1


def test_the_site_serves_from_the_database_while_the_cache_server_is_unreachable(
    client, settings, caplog
):
    settings.CACHES = _caches_from(f"redis://127.0.0.1:{closed_port()}/15")
    settings.PAGE_CACHE_SECONDS = 600
    article = PublishedArticleFactory(title="Maritime cooperation in the Indian Ocean")

    with caplog.at_level(logging.WARNING):
        pages = {
            url: client.get(url)
            for url in (reverse("home"), article.get_absolute_url(), "/search/?q=maritime")
        }
        again = client.get(article.get_absolute_url())
        signup = client.post(
            reverse("newsletter:subscribe"),
            {"email": "reader@example.org", "interests": Interest.values},
        )

    for url, response in pages.items():
        assert response.status_code == 200, url
    assert article.title in pages["/search/?q=maritime"].content.decode()
    assert again.status_code == 200
    assert "X-Page-Cache" not in again
    assert signup.status_code == 302
    assert signup["Location"] == reverse("newsletter:check_inbox")
    assert Subscriber.objects.filter(email="reader@example.org").exists()
    redis_errors = [r for r in caplog.records if r.name == "django_redis.cache"]
    assert redis_errors
    assert "Connection refused" in caplog.text or "Error 111" in caplog.text
    assert any(r.name == "newsletter.ratelimit" for r in caplog.records)
