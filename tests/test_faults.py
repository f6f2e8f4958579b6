"""The site when something it depends on fails: the database, the cache server, the mail
server. Each fault is real: a PostgreSQL or Redis address with nothing listening, an SQLite file
that cannot be opened, an SMTP port that refuses connections."""

import asyncio
import datetime
import io
import json
import logging
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import time_machine
from aiosmtpd.controller import Controller
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, OperationalError, connection, connections, transaction
from django.db.utils import load_backend
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from taggit.models import Tag

from articles.factories import PublishedArticleFactory
from articles.models import Article
from charhar.middleware import is_database_unavailable
from charhar.models import Redirect, Topic
from charhar.views import HomeView
from experts.models import Expert
from newsletter.factories import CampaignFactory, ConfirmedSubscriberFactory
from newsletter.models import Campaign, Delivery, Interest, Subscriber
from newsletter.services import _SentRecorder, sign_up
from newsletter.testing import run_queued_tasks
from tests.processes import PROJECT, setting_in_new_process
from tests.test_newsletter_sending import Recorder

pytestmark = pytest.mark.django_db


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
    return setting_in_new_process(
        "CACHES",
        drop=("SECRET_KEY",),
        CACHE_URL=cache_url,
        DEBUG="1",
        DJANGO_SETTINGS_MODULE="charhar.settings.base",
    )


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


# --- The mail server unreachable ----------------------------------------------------------------


@pytest.fixture
def mail_server_port(settings):
    """Real SMTP to a port on 127.0.0.1 where no mail server runs (yet)."""
    port = closed_port()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    return port


def test_a_sign_up_while_the_mail_server_is_down_is_confirmed_by_mail_once_it_is_back(
    client, mail_server_port, caplog
):
    response = client.post(
        reverse("newsletter:subscribe"),
        {"email": "reader@example.org", "interests": Interest.values},
        follow=True,
    )
    assert response.status_code == 200
    assert "Please check your inbox" in response.content.decode()
    subscriber = Subscriber.objects.get(email="reader@example.org")
    assert subscriber.status == Subscriber.Status.PENDING

    with caplog.at_level(logging.WARNING, logger="newsletter.tasks"):
        (first,) = run_queued_tasks()
    assert first.status == "SUCCESSFUL"
    assert "retry_at" in first.return_value
    assert "Connection refused" in caplog.text or "ConnectionRefusedError" in caplog.text
    (pending,) = DBTaskResult.objects.filter(status="READY")
    assert pending.task_path == "newsletter.tasks.send_confirmation"
    assert pending.run_after > timezone.now()

    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=mail_server_port)
    controller.start()
    try:
        assert run_queued_tasks() == []  # not due yet
        with time_machine.travel(pending.run_after, tick=True):
            (second,) = run_queued_tasks()
        with time_machine.travel(timezone.now() + datetime.timedelta(days=3), tick=True):
            assert run_queued_tasks() == []
    finally:
        controller.stop()

    assert second.status == "SUCCESSFUL"
    assert second.return_value is True
    assert recorder.recipients == ["reader@example.org"]
    (_recipient, message) = recorder.messages[0]
    body = message.get_body(("plain",)).get_content()
    confirm = re.search(r"http://testserver(/newsletter/confirm/[^\s]+)", body).group(1)
    assert client.post(confirm).status_code == 302
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.CONFIRMED


def test_a_retry_gives_way_to_a_newer_request_so_one_email_arrives(
    client, mail_server_port, settings
):
    settings.NEWSLETTER_RESEND_INTERVAL = 0
    data = {"email": "reader@example.org", "interests": Interest.values}
    client.post(reverse("newsletter:subscribe"), data)
    run_queued_tasks()  # refused: a retry is queued
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=mail_server_port)
    controller.start()
    try:
        client.post(reverse("newsletter:subscribe"), data)  # asks again: a new link
        later = timezone.now() + datetime.timedelta(hours=1)
        with time_machine.travel(later, tick=True):
            results = run_queued_tasks()
    finally:
        controller.stop()

    assert sorted(result.return_value for result in results) == [False, True]
    assert recorder.recipients == ["reader@example.org"]


def test_a_confirmation_is_given_up_after_its_last_try(mail_server_port, settings, caplog):
    settings.NEWSLETTER_CONFIRMATION_RETRY_DELAYS = (60,)
    sign_up("reader@example.org", Interest.values, Subscriber.Source.SIGNUP_PAGE)

    with caplog.at_level(logging.WARNING, logger="newsletter.tasks"):
        run_queued_tasks()
        with time_machine.travel(timezone.now() + datetime.timedelta(minutes=2), tick=True):
            (last,) = run_queued_tasks()

    assert last.status == "FAILED"
    assert not DBTaskResult.objects.filter(status="READY").exists()
    assert "not sent after 2 tries" in caplog.text


# --- A process killed in the middle of an import -----------------------------------------------

IMPORTED_ARTICLES = 1000


def _import_file(path: Path) -> None:
    topics = ["Public Diplomacy", "Peace Studies", "Economic and Trade"]
    with path.open("w", encoding="utf-8") as out:
        for record in (
            *({"type": "topic", "name": name} for name in topics),
            *({"type": "expert", "name": f"Expert {n}", "slug": f"expert-{n}"} for n in range(20)),
        ):
            out.write(json.dumps(record) + "\n")
        for n in range(IMPORTED_ARTICLES):
            record = {
                "type": "article",
                "title": f"Imported article {n}",
                "slug": f"imported-{n}",
                "status": "published",
                "published_at": "2020-05-01T10:00:00+08:00",
                "topics": [topics[n % 3]],
                "tags": [f"tag {n % 7}"],
                "authors": [f"expert-{n % 20}", f"expert-{(n + 1) % 20}"],
                "body": f"<p>Body of article {n}.</p>",
                "legacy_url": f"http://old.example.org/en/article/{n}.html",
            }
            out.write(json.dumps(record) + "\n")


class SharedDatabase:
    """The test database, for commands run as processes of their own: PostgreSQL's test
    database itself; for SQLite, a file copy of the in-memory one, made by share() (after the
    test's own rows are written) and copied back by take_back() for the test to read."""

    def __init__(self, tmp_path):
        self.path = tmp_path / "shared.sqlite3"

    def share(self) -> str:
        settings_dict = connection.settings_dict
        if connection.vendor == "postgresql":
            return (
                f"postgres://{settings_dict['USER']}:{settings_dict['PASSWORD']}@"
                f"{settings_dict['HOST'] or '127.0.0.1'}:{settings_dict['PORT'] or 5432}/"
                f"{settings_dict['NAME']}"
            )
        connection.ensure_connection()
        with sqlite3.connect(self.path) as copy:
            connection.connection.backup(copy)
        return f"sqlite:///{self.path}"

    def count(self, table: str) -> int:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 (a table name)
                return cursor.fetchone()[0]
        with sqlite3.connect(self.path) as reader:
            return reader.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608

    def take_back(self) -> None:
        if connection.vendor != "postgresql":
            with sqlite3.connect(self.path) as copy:
                copy.backup(connection.connection)


@pytest.fixture
def shared_database(tmp_path):
    return SharedDatabase(tmp_path)


def _manage(database_url: str, *args: str, stdout, stderr, **variables):
    environment = {
        key: value for key, value in os.environ.items() if key not in {"DJANGO_SETTINGS_MODULE"}
    }
    environment.update(
        DATABASE_URL=database_url, DEBUG="1", CACHE_URL="locmemcache://", **variables
    )
    return subprocess.Popen(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT,
        env=environment,
        text=True,
        stdout=stdout,
        stderr=stderr,
    )


@pytest.mark.django_db(transaction=True)
def test_an_import_killed_midway_completes_on_the_next_run_with_nothing_lost_or_doubled(
    tmp_path, shared_database
):
    database_url = shared_database.share()

    def article_count():
        return shared_database.count("articles_article")

    source = tmp_path / "content.jsonl"
    _import_file(source)
    command = ("import_content", str(source), "--batch-size", "10", "--no-renditions")

    first = _manage(database_url, *command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while article_count() < 50 and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    assert first.returncode == -signal.SIGKILL
    at_kill = article_count()
    assert 0 < at_kill < IMPORTED_ARTICLES  # stopped part way, with batches written

    second = _manage(database_url, *command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = second.communicate(timeout=300)
    assert second.returncode == 0, err
    assert f"Created: {IMPORTED_ARTICLES - at_kill} articles" in out
    shared_database.take_back()

    articles = Article.objects.all()
    assert sorted(articles.values_list("slug", flat=True)) == sorted(
        f"imported-{n}" for n in range(IMPORTED_ARTICLES)
    )
    assert articles.values("title").distinct().count() == IMPORTED_ARTICLES
    assert Article.authors.through.objects.count() == 2 * IMPORTED_ARTICLES
    assert Article.topics.through.objects.count() == IMPORTED_ARTICLES
    assert sorted(Redirect.objects.values_list("old_path", flat=True)) == sorted(
        f"/en/article/{n}.html" for n in range(IMPORTED_ARTICLES)
    )
    assert (Expert.objects.count(), Topic.objects.count(), Tag.objects.count()) == (20, 3, 7)


# --- A process killed in the middle of a newsletter send ----------------------------------------

SUBSCRIBERS = 150


class SlowRecorder(Recorder):
    """A mail server that takes a few milliseconds a message, so a send lasts long enough to
    be killed part way."""

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(0.005)
        return await super().handle_DATA(server, session, envelope)


@pytest.mark.django_db(transaction=True)
def test_a_send_killed_midway_completes_on_the_next_run_losing_nobody(shared_database):
    campaign = CampaignFactory(
        articles=[PublishedArticleFactory(kind=Article.Kind.NEWS, title="A news item")]
    )
    subscribers = ConfirmedSubscriberFactory.create_batch(SUBSCRIBERS)
    database_url = shared_database.share()
    recorder = SlowRecorder()
    port = closed_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    environment = {"EMAIL_URL": f"smtp://127.0.0.1:{port}"}
    command = ("send_campaign", str(campaign.pk), "--batch-size", "20")
    try:
        first = _manage(
            database_url, *command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **environment
        )
        deadline = time.monotonic() + 120
        while len(recorder.messages) < 30 and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
        assert first.returncode == -signal.SIGKILL
        at_kill = len(recorder.messages)
        assert 0 < at_kill < SUBSCRIBERS

        second = _manage(
            database_url, *command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **environment
        )
        _out, err = second.communicate(timeout=300)
        assert second.returncode == 0, err
    finally:
        controller.stop()
    shared_database.take_back()

    received = recorder.recipients
    assert set(received) == {subscriber.email for subscriber in subscribers}  # nobody lost
    # kill -9 leaves no time to record the last messages the server accepted: those few are
    # sent again (docs/newsletter.md: at most those of the last quarter second, under 100).
    again = len(received) - SUBSCRIBERS
    assert 0 <= again < _SentRecorder.RECORD_EVERY
    assert Delivery.objects.filter(campaign=campaign, status=Delivery.Status.SENT).count() == (
        SUBSCRIBERS
    )
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT


# --- The cache server restarting ----------------------------------------------------------------


@pytest.fixture
def restartable_redis(tmp_path):
    """A Redis server of the test's own that keeps its data across a restart (append-only
    file), as a production one does: `stop()` and `start()` it."""
    port = closed_port()
    command = [
        "redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "",
        "--appendonly", "yes", "--appendfsync", "always", "--dir", str(tmp_path),
    ]  # fmt: skip

    class Server:
        url = f"redis://127.0.0.1:{port}/0"
        process = None

        def start(self):
            self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
            for _ in range(100):
                with socket.socket() as sock:
                    if sock.connect_ex(("127.0.0.1", port)) == 0:
                        return
                time.sleep(0.05)
            raise RuntimeError(f"redis-server did not start on port {port}")

        def stop(self):
            self.process.terminate()  # a clean shutdown: the append-only file is complete
            self.process.wait(timeout=30)

    server = Server()
    server.start()
    yield server
    if server.process.poll() is None:
        server.stop()


def test_an_edit_made_while_the_cache_server_was_down_shows_once_it_is_back(
    client, settings, restartable_redis, caplog
):
    settings.CACHES = _caches_from(restartable_redis.url)
    settings.PAGE_CACHE_SECONDS = 600
    article = PublishedArticleFactory(title="Before the outage")
    url = article.get_absolute_url()
    client.get(url)
    assert client.get(url)["X-Page-Cache"] == "hit"

    restartable_redis.stop()
    with caplog.at_level(logging.WARNING):
        article.title = "Edited during the outage"
        article.save()
        during = client.get(url)
    assert during.status_code == 200
    assert "Edited during the outage" in during.content.decode()
    assert any(r.name == "django_redis.cache" for r in caplog.records)

    # Back with what it held before: the version from before the edit, and the page.
    restartable_redis.start()
    after = client.get(url)
    assert after.status_code == 200
    assert "X-Page-Cache" not in after
    html = after.content.decode()
    assert "Edited during the outage" in html
    assert "Before the outage" not in html
    assert client.get(url)["X-Page-Cache"] == "hit"


def test_an_import_while_the_cache_server_is_down_warns_that_cached_pages_may_be_stale(
    settings, tmp_path
):
    settings.CACHES = _caches_from(f"redis://127.0.0.1:{closed_port()}/0")
    path = tmp_path / "articles.jsonl"
    record = {"type": "article", "title": "Imported while the cache was down"}
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()

    call_command("import_content", str(path), stdout=out, stderr=err)

    assert Article.objects.filter(title="Imported while the cache was down").exists()
    assert "The cache server could not be reached" in out.getvalue() + err.getvalue()
