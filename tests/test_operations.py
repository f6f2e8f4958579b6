"""Operations: the health checks load balancers probe, and the request log with request ids."""

import json
import logging
import logging.config
import re
import uuid

import pytest
import redis
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections
from django.urls import reverse
from django.utils import timezone

from articles.factories import PublishedArticleFactory
from charhar.logs import logging_config
from charhar.middleware import loggable_path
from charhar.views import HomeView
from newsletter.factories import PendingSubscriberFactory
from newsletter.tokens import make_confirmation_token, make_subscriber_token
from tests.processes import setting_in_new_process
from tests.test_faults import _caches_from, _unreachable, closed_port
from tests.test_page_cache import _CacheCalls

pytestmark = pytest.mark.django_db
REDIS_DB = 12
HEX_ID = re.compile(r"[0-9a-f]{32}")


@pytest.fixture(params=["postgresql", "sqlite"])
def database_down(request, tmp_path):
    """The default connection replaced by one to a database nothing answers at."""
    real = connections[DEFAULT_DB_ALIAS]
    connections[DEFAULT_DB_ALIAS] = _unreachable(request.param, tmp_path)
    yield
    connections[DEFAULT_DB_ALIAS] = real


@pytest.fixture
def shared_redis(settings):
    """The cache on the real Redis server, under a key prefix of this test's own; its keys
    are removed afterwards."""
    prefix = f"test-ops-{uuid.uuid4().hex}"
    url = f"redis://127.0.0.1:6379/{REDIS_DB}"
    settings.CACHES = _caches_from(f"{url}?key_prefix={prefix}")
    server = redis.Redis.from_url(url)
    yield server, prefix
    for key in server.scan_iter(f"{prefix}:*"):
        server.delete(key)
    server.close()


def _request_lines(caplog) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "charhar.requests"]


# --- /healthz -----------------------------------------------------------------------------------


def test_healthz_answers_ok_without_touching_the_database_or_the_cache(
    client, django_assert_num_queries, monkeypatch
):
    cache_calls = _CacheCalls(monkeypatch)

    with django_assert_num_queries(0):
        response = client.get("/healthz")

    assert response.status_code == 200
    assert response.content == b"ok"
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert cache_calls.calls == []


def test_health_probes_are_never_cached_by_anyone(client, settings):
    settings.PAGE_CACHE_SECONDS = 600

    for url in ("/healthz", "/readyz", "/healthz", "/readyz"):
        response = client.get(url)
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"]
        assert "X-Page-Cache" not in response
        assert "ETag" not in response


def test_healthz_stays_up_while_the_database_is_unreachable(client, database_down):
    client.raise_request_exception = False

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.content == b"ok"


def test_health_probes_accept_get_and_head_only(client):
    for url in ("/healthz", "/readyz"):
        assert client.head(url).status_code == 200
        refused = client.post(url)
        assert refused.status_code == 405
        assert refused["Allow"] == "GET, HEAD"


def _production_setting(name: str):
    """A setting as production builds it, read in a process of its own."""
    return setting_in_new_process(
        name,
        DJANGO_SETTINGS_MODULE="charhar.settings.production",
        SECRET_KEY="x" * 50,
        ALLOWED_HOSTS="www.example.org",
        DEBUG="0",
    )


def test_probes_over_plain_http_to_the_servers_own_address_are_answered_in_production(settings):
    from django.test import Client

    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_REDIRECT_EXEMPT = _production_setting("SECURE_REDIRECT_EXEMPT")
    settings.ALLOWED_HOSTS = ["www.example.org"]
    client = Client(raise_request_exception=False)

    # A load balancer addresses each app server by its own address, over plain HTTP.
    for url in ("/healthz", "/readyz"):
        assert client.get(url, headers={"host": "10.0.3.7:8000"}).status_code == 200
    # Everything else still goes to HTTPS, on the site's own name only.
    home = client.get("/", headers={"host": "www.example.org"})
    assert home.status_code == 301
    assert home["Location"] == "https://www.example.org/"
    assert client.get("/", headers={"host": "10.0.3.7:8000"}).status_code == 400


# --- /readyz ------------------------------------------------------------------------------------


def test_readyz_answers_200_when_the_database_and_the_cache_answer(client):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"database": "ok", "cache": "ok"}


def test_readyz_answers_503_naming_the_database_while_it_is_unreachable(
    client, database_down, caplog
):
    client.raise_request_exception = False

    with caplog.at_level(logging.WARNING, logger="charhar.health"):
        response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json() == {"database": "unavailable", "cache": "ok"}
    assert "no-store" in response["Cache-Control"]
    assert "Readiness: the database is unreachable" in caplog.text
    # The reason is in the log, not in an answer anyone on the network can read.
    assert "refused" not in response.content.decode()


def test_readyz_answers_503_naming_the_cache_when_redis_is_unreachable(client, settings, caplog):
    # As production configures it: Redis errors are swallowed, so only a value that does
    # not come back shows the cache is gone.
    settings.CACHES = _caches_from(f"redis://127.0.0.1:{closed_port()}/{REDIS_DB}")
    assert settings.CACHES["default"]["OPTIONS"]["IGNORE_EXCEPTIONS"] is True

    with caplog.at_level(logging.WARNING):
        response = client.get("/readyz")
        health = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"database": "ok", "cache": "unavailable"}
    assert health.status_code == 200
    assert "Readiness: the cache did not give back the value" in caplog.text


def test_readyz_answers_200_with_a_real_redis_and_leaves_no_key_behind(client, shared_redis):
    server, prefix = shared_redis

    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"database": "ok", "cache": "ok"}
    assert [key for key in server.scan_iter(f"{prefix}:*") if b"readyz" in key] == []


# --- The request log ----------------------------------------------------------------------------


def test_each_request_is_logged_once_with_its_id_and_facts(client, caplog):
    article = PublishedArticleFactory()

    with caplog.at_level(logging.INFO, logger="charhar.requests"):
        response = client.get(article.get_absolute_url() + "?page=2&utm_source=mail")

    (line,) = _request_lines(caplog)
    assert HEX_ID.fullmatch(response["X-Request-ID"])
    assert line.request_id == response["X-Request-ID"]
    assert line.levelno == logging.INFO
    assert line.method == "GET"
    assert line.path == article.get_absolute_url()
    assert line.query == "page=2&utm_source=mail"
    assert line.status == response.status_code == 200
    assert isinstance(line.duration_ms, float)
    assert line.duration_ms >= 0
    assert line.user_id is None
    assert line.remote_addr == "127.0.0.1"
    assert line.page_cache is False
    assert line.getMessage() == f"GET {article.get_absolute_url()} 200"


def test_every_request_gets_an_id_of_its_own(client):
    first = client.get("/healthz")["X-Request-ID"]
    second = client.get("/healthz")["X-Request-ID"]

    assert HEX_ID.fullmatch(first)
    assert HEX_ID.fullmatch(second)
    assert first != second


def test_the_signed_in_users_id_is_logged_and_never_their_address(admin_client, admin_user, caplog):
    with caplog.at_level(logging.INFO, logger="charhar.requests"):
        admin_client.get(reverse("admin:index"))

    (line,) = _request_lines(caplog)
    assert line.user_id == admin_user.pk
    assert admin_user.email not in caplog.text


def test_the_client_address_is_the_one_the_trusted_proxy_saw(client, settings, caplog):
    settings.TRUSTED_PROXY_COUNT = 1

    with caplog.at_level(logging.INFO, logger="charhar.requests"):
        client.get("/", headers={"x-forwarded-for": "6.6.6.6, 203.0.113.9"})

    (line,) = _request_lines(caplog)
    assert line.remote_addr == "203.0.113.9"


def test_a_page_from_the_page_cache_is_logged_too(client, settings, caplog):
    settings.PAGE_CACHE_SECONDS = 600
    article = PublishedArticleFactory()
    client.get(article.get_absolute_url())
    caplog.clear()

    with caplog.at_level(logging.INFO, logger="charhar.requests"):
        response = client.get(article.get_absolute_url())

    assert response["X-Page-Cache"] == "hit"
    (line,) = _request_lines(caplog)
    assert line.page_cache is True
    assert line.status == 200
    assert line.request_id == response["X-Request-ID"]


def test_an_incoming_request_id_is_kept(client, caplog):
    with caplog.at_level(logging.INFO, logger="charhar.requests"):
        response = client.get("/", headers={"x-request-id": "lb-7f3a.2:trace=9"})

    assert response["X-Request-ID"] == "lb-7f3a.2:trace=9"
    (line,) = _request_lines(caplog)
    assert line.request_id == "lb-7f3a.2:trace=9"


@pytest.mark.parametrize(
    "hostile",
    [
        "two words",
        '"}, "status": 200, "x": "',
        "<script>alert(1)</script>",
        "a" * 129,
        "line\tbreak",
        "café",
    ],
)
def test_an_unsafe_request_id_is_replaced(client, caplog, hostile):
    with caplog.at_level(logging.INFO, logger="charhar.requests"):
        response = client.get("/healthz", headers={"x-request-id": hostile})
        client.get("/", headers={"x-request-id": hostile})

    assert HEX_ID.fullmatch(response["X-Request-ID"])
    (line,) = _request_lines(caplog)
    assert HEX_ID.fullmatch(line.request_id)
    assert hostile not in caplog.text


def test_errors_logged_while_serving_carry_the_request_id(client, caplog, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the home page broke")

    monkeypatch.setattr(HomeView, "get_context_data", broken)
    client.raise_request_exception = False

    with caplog.at_level(logging.INFO):
        response = client.get("/", headers={"x-request-id": "req-500"})

    assert response.status_code == 500
    assert response["X-Request-ID"] == "req-500"
    (error,) = [r for r in caplog.records if r.name == "django.request"]
    assert error.levelno == logging.ERROR
    assert error.request_id == "req-500"
    assert error.exc_info is not None
    (line,) = _request_lines(caplog)
    assert (line.status, line.request_id) == (500, "req-500")


def test_the_database_outage_log_carries_the_request_id(client, database_down, caplog):
    client.raise_request_exception = False

    with caplog.at_level(logging.INFO):
        response = client.get("/articles/", headers={"x-request-id": "req-503"})

    assert response.status_code == 503
    records = [r for r in caplog.records if r.name == "charhar.middleware"]
    assert records
    assert {r.request_id for r in records} == {"req-503"}
    (line,) = _request_lines(caplog)
    assert line.status == 503


def test_newsletter_links_passwords_and_cookies_never_reach_the_log(client, settings, caplog):
    settings.PAGE_CACHE_SECONDS = 600
    subscriber = PendingSubscriberFactory(confirmation_sent_at=timezone.now())
    confirm_token = make_confirmation_token(subscriber)
    preferences_token = make_subscriber_token(subscriber.pk)
    password = "a password nobody may read"
    cookie = "cookie-value-nobody-may-read"
    client.cookies["analytics"] = cookie

    with caplog.at_level(logging.INFO):
        confirm = reverse("newsletter:confirm", args=[confirm_token])
        assert client.get(confirm).status_code == 200
        client.get(confirm)  # from the page cache, if it kept it
        client.get(reverse("newsletter:preferences", args=[preferences_token]))
        client.get(reverse("newsletter:unsubscribe", args=[preferences_token]))
        client.post(reverse("admin:login"), {"username": "editor", "password": password})
        client.get(f"/search/?q=trade&page=1&token={confirm_token}&email={subscriber.email}")

    lines = _request_lines(caplog)
    assert len(lines) == 6
    for secret in (confirm_token, preferences_token, password, cookie, subscriber.email):
        assert secret not in caplog.text
        assert all(secret not in json.dumps(vars(line), default=str) for line in lines)
    assert lines[0].path == "/newsletter/confirm/[redacted]/"
    assert lines[1].path == "/newsletter/confirm/[redacted]/"
    assert lines[2].path == "/newsletter/preferences/[redacted]/"
    assert lines[5].query == "q=trade&page=1&token=[redacted]&email=[redacted]"


def test_a_secret_in_an_address_nothing_resolved_yet_is_redacted_too(rf):
    # A page the page cache answers never reaches the URL resolver.
    token = make_subscriber_token(41)
    request = rf.get(reverse("newsletter:unsubscribe", args=[token]))
    assert getattr(request, "resolver_match", None) is None

    assert loggable_path(request) == "/newsletter/unsubscribe/[redacted]/"
    # An address that is none of the site's links names no secret of its own.
    assert loggable_path(rf.get(f"/no/such/{token}/")) == f"/no/such/{token}/"


def test_successful_health_probes_are_logged_at_debug_only(client, database_down, caplog):
    client.raise_request_exception = False

    with caplog.at_level(logging.INFO, logger="charhar.requests"):
        client.get("/healthz")
        client.get("/readyz")

    # A load balancer's probe every few seconds would drown the log; a failing one shows.
    (line,) = _request_lines(caplog)
    assert (line.path, line.status, line.levelno) == ("/readyz", 503, logging.INFO)


# --- The log format -----------------------------------------------------------------------------


@pytest.fixture
def log_format(capsys):
    """Logging configured as the settings do for a format, writing to the captured stderr;
    the test settings' configuration comes back afterwards."""

    def configure(name: str):
        logging.config.dictConfig(logging_config(name, "INFO"))
        return lambda: capsys.readouterr().err.splitlines()

    yield configure
    logging.config.dictConfig(django_settings.LOGGING)


def test_json_logs_are_one_object_a_line_with_the_request_id(client, log_format, monkeypatch):
    article = PublishedArticleFactory()
    read_lines = log_format("json")
    read_lines()  # what came before

    client.get(article.get_absolute_url(), headers={"x-request-id": "req-json"})
    monkeypatch.setattr(HomeView, "get_context_data", lambda *a, **k: 1 / 0)
    client.raise_request_exception = False
    client.get("/", headers={"x-request-id": "req-json-500"})

    entries = [json.loads(line) for line in read_lines()]
    page, error, failed = entries
    assert page["logger"] == "charhar.requests"
    assert page["level"] == "INFO"
    assert page["request_id"] == "req-json"
    assert page["message"] == f"GET {article.get_absolute_url()} 200"
    assert page["status"] == 200
    assert page["path"] == article.get_absolute_url()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", page["time"])
    assert {"method", "query", "duration_ms", "user_id", "remote_addr", "page_cache"} <= set(page)
    assert (error["logger"], error["request_id"]) == ("django.request", "req-json-500")
    assert "ZeroDivisionError" in error["exception"]
    assert (failed["status"], failed["request_id"]) == (500, "req-json-500")


def test_text_logs_are_readable_lines_with_the_request_id(client, log_format):
    read_lines = log_format("text")
    read_lines()

    client.get("/", headers={"x-request-id": "req-text"})
    logging.getLogger("charhar").info("outside any request")

    served, outside = read_lines()
    assert served.endswith("INFO charhar.requests [req-text] GET / 200")
    assert outside.endswith("INFO charhar [-] outside any request")


def test_an_unknown_log_format_stops_start_up():
    with pytest.raises(ImproperlyConfigured, match="LOG_FORMAT"):
        logging_config("xml", "INFO")


def test_only_addresses_of_secret_taking_url_patterns_are_resolved_for_the_log():
    from django.urls import get_resolver, include, path, re_path
    from django.urls.resolvers import RegexPattern, URLResolver

    from charhar.middleware import _secret_prefixes

    token = "TOKEN"
    expected = {
        reverse(name, args=[token]).removesuffix(f"{token}/")
        for name in ("newsletter:confirm", "newsletter:preferences", "newsletter:unsubscribe")
    }
    assert set(_secret_prefixes(get_resolver())) == expected

    # A pattern whose fixed beginning cannot be read falls back on its include's beginning.
    view = HomeView.as_view()
    patterns = [
        path("about/", view),
        path("links/", include([re_path(r"^(?P<token>\w+)/$", view), path("all/", view)])),
        path("<slug:section>/", include([path("open/<str:token>/", view)])),
    ]
    resolver = URLResolver(RegexPattern(r"^/"), patterns)
    assert set(_secret_prefixes(resolver)) == {"/links/", "/"}
