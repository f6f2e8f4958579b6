"""The page cache and conditional requests: fast for readers, never stale, never shared."""

import datetime
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.middleware.csrf import _does_token_match
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from articles.factories import PublishedArticleFactory, ScheduledArticleFactory
from articles.models import Article
from charhar import csrf, pagecache
from charhar.factories import TopicFactory
from charhar.pagecache import BOUNDARY_KEY, VERSION_KEY

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


def test_a_change_marks_pages_stale_again_when_its_transaction_commits(
    django_capture_on_commit_callbacks,
):
    """Until the admin's transaction commits, the other app servers still read the content
    as it was: a page one of them renders then must not stay cached under the version the
    change made."""
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        article = PublishedArticleFactory()
        article.topics.add(TopicFactory())
        article.save()
        during = cache.get(VERSION_KEY)
    assert len(callbacks) == 1  # once for the transaction, however many rows it wrote
    assert cache.get(VERSION_KEY) != during


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
def test_a_change_made_by_another_app_server_shows_here(client, shared_redis):
    """Two processes sharing one Redis: an edit in one invalidates the other's pages."""
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
        CACHE_URL=shared_redis,
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


class _CacheCalls:
    """Counts the calls the site makes to the real cache backend (each one is a round trip
    to Redis in production), passing every call through. Calls the backend makes to itself
    (local memory's get_many asks get for each key) are not the site's and are not counted."""

    METHODS = ("get", "get_many", "set", "set_many", "add", "delete", "incr", "touch")

    def __init__(self, monkeypatch):
        from django.core.cache import caches

        self.calls = []
        self.keys = []
        self._depth = 0
        backend = caches["default"]
        for name in self.METHODS:
            original = getattr(backend, name)

            def spy(*args, _name=name, _original=original, **kwargs):
                if self._depth == 0:
                    self.calls.append(_name)
                    keys = args[0] if args else ()
                    self.keys.extend([keys] if isinstance(keys, str) else keys)
                self._depth += 1
                try:
                    return _original(*args, **kwargs)
                finally:
                    self._depth -= 1

            monkeypatch.setattr(backend, name, spy)


def test_a_cached_page_costs_one_round_trip_to_the_cache_and_no_query(
    client, page_cache, monkeypatch
):
    PublishedArticleFactory()
    _get(client)
    calls = _CacheCalls(monkeypatch)
    with CaptureQueriesContext(connection) as queries:
        response = _get(client)
    assert response["X-Page-Cache"] == "hit"
    assert calls.calls == ["get_many"]
    assert len(queries) == 0


def test_a_cached_page_opens_no_session_and_sets_only_the_csrf_cookie(client, page_cache):
    PublishedArticleFactory()
    _get(client)
    response = _get(client)
    assert response["X-Page-Cache"] == "hit"
    assert set(response.cookies) == {"csrftoken"}
    assert "sessionid" not in client.cookies
    # Frame denial comes with cached pages as with rendered ones.
    assert response["X-Frame-Options"] == "DENY"


def test_a_listing_counts_and_renders_with_the_state_its_etag_was_made_from(client, monkeypatch):
    PublishedArticleFactory.create_batch(3)
    _get(client)
    calls = _CacheCalls(monkeypatch)
    response = _get(client)
    assert response.status_code == 200
    # The state is read once, at the start; the listing's total comes from the cache
    # without reading the state again.
    assert calls.calls[0] == "get_many"
    assert calls.keys.count(VERSION_KEY) == 1
    assert calls.keys.count(BOUNDARY_KEY) == 1
    assert any(key.startswith("charhar:count:") for key in calls.keys)


def test_a_page_stored_for_an_older_state_is_rendered_again_not_served(client, page_cache):
    from charhar.pagecache import bump_content_version

    PublishedArticleFactory(title="First")
    _get(client)
    assert _get(client)["X-Page-Cache"] == "hit"
    bump_content_version()
    response = _get(client)
    assert "X-Page-Cache" not in response
    assert _get(client)["X-Page-Cache"] == "hit"


def test_a_boundary_computed_for_another_version_is_not_trusted(time_machine):
    from django.core.cache import cache

    from charhar.pagecache import bump_content_version, content_state

    start = datetime.datetime(2026, 3, 1, 8, 0, tzinfo=datetime.UTC)
    time_machine.move_to(start, tick=False)
    bump_content_version()
    version, boundary = content_state()
    assert boundary is None
    # Another server, still on an older version, writes its boundary after the change.
    at = start + datetime.timedelta(hours=3)
    ScheduledArticleFactory(published_at=at)
    version, _ = content_state()
    cache.set(BOUNDARY_KEY, ("an older version", None))
    assert content_state() == (version, at)


# --- Hits served from this process's own copy of a page -----------------------------------------


def test_a_hit_asks_the_cache_for_the_state_only_and_serves_this_processs_copy(
    client, page_cache, monkeypatch
):
    PublishedArticleFactory()
    _get(client)
    calls = _CacheCalls(monkeypatch)
    response = _get(client)
    assert response["X-Page-Cache"] == "hit"
    assert calls.calls == ["get_many"]
    assert calls.keys == [VERSION_KEY, BOUNDARY_KEY]


def test_a_page_another_process_stored_costs_one_round_trip_then_is_kept_here(
    client, page_cache, monkeypatch
):
    PublishedArticleFactory(title="Stored by another server")
    first = _get(client)
    pagecache.local_pages.clear()  # as another app server, which never rendered it, has it
    calls = _CacheCalls(monkeypatch)
    fetched = _get(client)
    assert fetched["X-Page-Cache"] == "hit"
    assert calls.calls == ["get_many"]
    assert any(key.startswith("charhar:page:") for key in calls.keys)
    assert fetched.content.count(b"Stored by another server") == first.content.count(
        b"Stored by another server"
    )

    calls.calls.clear()
    calls.keys.clear()
    assert _get(client)["X-Page-Cache"] == "hit"
    assert calls.keys == [VERSION_KEY, BOUNDARY_KEY]


def test_without_copies_in_the_process_a_hit_brings_the_page_in_the_same_round_trip(
    client, page_cache, monkeypatch
):
    page_cache.PAGE_CACHE_LOCAL_BYTES = 0
    PublishedArticleFactory()
    _get(client)
    assert len(pagecache.local_pages) == 0
    calls = _CacheCalls(monkeypatch)
    assert _get(client)["X-Page-Cache"] == "hit"
    assert calls.calls == ["get_many"]
    assert any(key.startswith("charhar:page:") for key in calls.keys)


def test_the_copies_in_the_process_stay_within_their_byte_limit(client, page_cache):
    PublishedArticleFactory.create_batch(3)
    size = len(_get(client, "/articles/").content)
    page_cache.PAGE_CACHE_LOCAL_BYTES = size * 3 // 2
    pagecache.local_pages.clear()
    for url in ("/articles/", "/", "/articles/?page=1", "/research/"):
        assert _get(client, url).status_code == 200
        assert pagecache.local_pages.size <= page_cache.PAGE_CACHE_LOCAL_BYTES
    assert len(pagecache.local_pages) == 1
    # The one dropped is served from the shared cache all the same.
    assert _get(client, "/articles/")["X-Page-Cache"] == "hit"


@pytest.fixture
def shared_redis(settings):
    """The page cache on Redis (this suite's database, keys of this test's own), as app
    servers share it; yields the cache URL another process uses to join them."""
    from django.core.cache import cache

    prefix = f"test-hits-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/10",
            "KEY_PREFIX": prefix,
        }
    }
    settings.PAGE_CACHE_SECONDS = 600
    yield f"redis://127.0.0.1:6379/10?key_prefix={prefix}"
    cache.delete_many(cache.keys("*"))
    pagecache.change_watch.reset()


def _bump_in_another_process(cache_url):
    script = (
        "import django; django.setup(); from charhar.pagecache import bump_content_version; "
        "assert bump_content_version()"
    )
    environment = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="charhar.settings.base",
        DEBUG="1",
        CACHE_URL=cache_url,
    )
    subprocess.run(
        [sys.executable, "-c", script], cwd=PROJECT, env=environment, check=True, timeout=60
    )


def test_with_redis_a_hit_makes_no_round_trip_to_the_cache(client, shared_redis, monkeypatch):
    PublishedArticleFactory()
    _get(client)
    calls = _CacheCalls(monkeypatch)
    response = _get(client)
    assert response["X-Page-Cache"] == "hit"
    assert calls.calls == []


def test_without_the_subscription_a_hit_reads_the_state_from_redis(
    client, shared_redis, settings, monkeypatch
):
    settings.PAGE_CACHE_SUBSCRIBE = False
    PublishedArticleFactory()
    _get(client)
    calls = _CacheCalls(monkeypatch)
    assert _get(client)["X-Page-Cache"] == "hit"
    assert calls.calls == ["get_many"]


def test_a_copy_in_this_process_is_not_served_after_another_process_marks_pages_stale(
    client, shared_redis, monkeypatch
):
    """Two processes sharing one Redis: the other one's new content version makes this
    process's own copy and its kept state stale at once, on the very next request."""
    PublishedArticleFactory()
    _get(client)
    calls = _CacheCalls(monkeypatch)
    assert _get(client)["X-Page-Cache"] == "hit"
    assert calls.calls == []
    assert len(pagecache.local_pages) == 1

    _bump_in_another_process(shared_redis)
    assert "X-Page-Cache" not in _get(client)
    assert _get(client)["X-Page-Cache"] == "hit"


def test_a_change_made_while_the_subscription_was_cut_still_shows_on_the_next_request(
    client, shared_redis
):
    import redis

    PublishedArticleFactory()
    _get(client)
    assert _get(client)["X-Page-Cache"] == "hit"
    # Cut this process's subscription from the server's side, as a Redis restart or a
    # network fault would; the announcement below reaches nobody here.
    host, port = pagecache.change_watch._pubsub.connection._sock.getsockname()[:2]
    redis.Redis.from_url("redis://127.0.0.1:6379/10").client_kill(f"{host}:{port}")
    _bump_in_another_process(shared_redis)

    assert "X-Page-Cache" not in _get(client)
    assert _get(client)["X-Page-Cache"] == "hit"


def test_a_state_read_before_an_announcement_another_thread_saw_is_not_kept(client, shared_redis):
    from django.utils import timezone

    watch = pagecache.change_watch
    _get(client)
    kept, generation = watch.state(timezone.now())
    assert kept is not None
    # This thread reads the state; meanwhile another one takes in an announcement.
    watch.forget()
    watch.keep(*kept, generation)
    assert watch.state(timezone.now())[0] is None


def test_every_hit_carries_a_csrf_token_of_its_own_that_django_accepts(page_cache):
    from django.test import Client

    PublishedArticleFactory()
    reader = Client(enforce_csrf_checks=True)
    _get(reader)
    hits = [_get(reader) for _ in range(3)]
    assert all(hit["X-Page-Cache"] == "hit" for hit in hits)
    marker = 'name="csrfmiddlewaretoken" value="'
    tokens = [hit.content.decode().split(marker, 1)[1].split('"', 1)[0] for hit in hits]
    assert len(set(tokens)) == 3
    secret = reader.cookies["csrftoken"].value
    assert all(len(token) == 64 and _does_token_match(token, secret) for token in tokens)

    response = reader.post(
        reverse("newsletter:subscribe"),
        {"email": "reader@example.org", "interests": ["events"], "csrfmiddlewaretoken": tokens[0]},
    )
    assert response.status_code == 302
    forged = Client(enforce_csrf_checks=True)
    forged.cookies["csrftoken"] = csrf.random_string()
    refused = forged.post(
        reverse("newsletter:subscribe"),
        {"email": "other@example.org", "interests": ["events"], "csrfmiddlewaretoken": tokens[1]},
    )
    assert refused.status_code == 403


def test_csrf_characters_are_the_allowed_ones_each_byte_value_maps_evenly():
    from django.middleware.csrf import CSRF_ALLOWED_CHARS

    # Every byte below 248 gives a character, the 62 four times over; the rest are dropped.
    assert csrf.characters(bytes(range(256))) == CSRF_ALLOWED_CHARS.encode() * 4
    drawn = "".join(csrf.random_string() for _ in range(2000))
    assert set(drawn) == set(CSRF_ALLOWED_CHARS)
    expected = len(drawn) / len(CSRF_ALLOWED_CHARS)
    assert all(abs(drawn.count(char) - expected) < expected / 3 for char in CSRF_ALLOWED_CHARS)
    assert len({csrf.random_string() for _ in range(100)}) == 100


def test_a_token_masked_here_unmasks_to_its_secret_as_djangos_does():
    from django.middleware.csrf import _unmask_cipher_token

    secret = csrf.random_string()
    tokens = {csrf.mask(secret) for _ in range(20)}
    assert len(tokens) == 20
    assert all(_unmask_cipher_token(token) == secret for token in tokens)
