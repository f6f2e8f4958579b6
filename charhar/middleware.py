"""Site-wide middleware: a log line for every request, redirects for addresses that moved,
and a 503 while the database is unreachable.

Redirects are consulted only when a request would be a 404, and for the site root with a
query string (WordPress's default permalinks are /?p=123, which would otherwise show the
home page): no other page pays a query for them.
"""

import logging
import re
import sys
import time
import uuid
from urllib.parse import parse_qsl, urlencode

from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.db.models import F
from django.dispatch import receiver
from django.http import HttpResponse, HttpResponsePermanentRedirect
from django.template import loader
from django.urls import Resolver404, URLResolver, get_resolver, resolve
from django.urls.resolvers import RoutePattern
from django.utils.cache import add_never_cache_headers
from django.utils.functional import SimpleLazyObject, empty

from .health import HEALTH_PATH, READY_PATH
from .logs import current_request_id
from .models import Redirect, normalize_path
from .security import client_ip

# --- A log line for every request -------------------------------------------------------------

request_logger = logging.getLogger("charhar.requests")

REQUEST_ID_HEADER = "X-Request-ID"
# An id from the proxy in front (nginx's $request_id, a load balancer's trace id) is kept when
# it is short and plain; anything else (spaces, quotes, line breaks, markup) is replaced.
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:=-]{1,128}")
# Address parts that are secrets (the newsletter's confirmation, preferences and unsubscribe
# links) and query parameters whose names say they may hold one: logged as REDACTED.
SECRET_URL_ARGUMENTS = frozenset({"token"})
_SECRET_PARAMETER = re.compile(
    r"token|key|secret|pass|pwd|sig|auth|session|csrf|code|nonce|mail", re.IGNORECASE
)
REDACTED = "[redacted]"
_MAX_LOGGED_LENGTH = 1024
_PROBES = {HEALTH_PATH, READY_PATH}


def request_id_from(header: str | None) -> str:
    """The incoming id when it is safe to log and to send back, else a new one."""
    if header and _SAFE_REQUEST_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


def _secret_prefixes(resolver, prefix: str = "/") -> tuple[str, ...]:
    """The beginnings of the addresses whose URL patterns take a secret argument.

    Read from the URL conf itself; a pattern whose fixed beginning cannot be read (a regular
    expression, a language prefix) gives its include's own beginning, so such addresses are
    still resolved before they are logged.
    """
    found = []
    for entry in resolver.url_patterns:
        pattern = entry.pattern
        route = isinstance(pattern, RoutePattern)
        literal = str(pattern).split("<", 1)[0] if route else ""
        if isinstance(entry, URLResolver):
            if route and not pattern.converters:
                found.extend(_secret_prefixes(entry, prefix + literal))
            else:
                found.append(prefix + literal)
        elif any(name in SECRET_URL_ARGUMENTS for name in pattern.regex.groupindex):
            found.append(prefix + literal)
    return tuple(found)


_SECRET_PREFIXES: dict = {}


def _may_hold_secret(request) -> bool:
    resolver = get_resolver(getattr(request, "urlconf", None))
    prefixes = _SECRET_PREFIXES.get(resolver)
    if prefixes is None:
        if len(_SECRET_PREFIXES) > 16:  # URL confs swapped in by tests
            _SECRET_PREFIXES.clear()
        prefixes = _SECRET_PREFIXES[resolver] = _secret_prefixes(resolver)
    return request.path_info.startswith(prefixes)


def loggable_path(request) -> str:
    """The request's path with the secrets of its address replaced by REDACTED.

    A page served by the page cache was never resolved: its address is resolved here, so
    that a secret in it is found whoever answered, when its beginning is one of those of
    the URL patterns that take a secret (the newsletter's links); no other address can
    hold one, and resolving every address costs a tenth of a page served from the cache.
    """
    match = getattr(request, "resolver_match", None)
    if match is None and _may_hold_secret(request):
        try:
            match = resolve(request.path_info)
        except Resolver404:
            match = None
    path = request.path
    secrets = {
        str(value)
        for name, value in (match.kwargs.items() if match else ())
        if name in SECRET_URL_ARGUMENTS and str(value)
    }
    if secrets:
        path = "/".join(REDACTED if part in secrets else part for part in path.split("/"))
    return path[:_MAX_LOGGED_LENGTH]


def loggable_query(query_string: str) -> str:
    """The query string, with the values of parameters that may hold secrets replaced."""
    if not query_string:
        return ""
    pairs = parse_qsl(query_string, keep_blank_values=True)
    return urlencode(
        [(name, REDACTED if _SECRET_PARAMETER.search(name) else value) for name, value in pairs],
        safe="[]",
    )[:_MAX_LOGGED_LENGTH]


def _signed_in_user_id(request):
    """The signed-in user's id when the request has already loaded its user, else None.

    Loading it here would cost a query the answer did not need (and fail while the
    database is away); every page that depends on who is signed in has loaded it.
    """
    user = request.__dict__.get("user")
    if user is None or (isinstance(user, SimpleLazyObject) and user._wrapped is empty):
        return None
    return user.pk if user.is_authenticated else None


class RequestLogMiddleware:
    """Gives each request an id and logs one line for it when it has been answered.

    The id is `request.id`, the X-Request-ID response header and, for every record logged
    while the request is served, the record's `request_id` (charhar/logs.py). The line
    ("charhar.requests", INFO) holds the id, method, path and query (secrets redacted),
    status, duration in milliseconds, the signed-in user's id, the client's address and
    whether the page cache answered. Successful health probes are logged at DEBUG only.
    Never logged: request bodies (passwords), headers (cookies), e-mail addresses.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
        token = current_request_id.set(request.id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request.id
            self._log(request, response, time.perf_counter() - started)
            return response
        finally:
            current_request_id.reset(token)

    @staticmethod
    def _log(request, response, seconds):
        status = response.status_code
        level = logging.DEBUG if request.path_info in _PROBES and status < 500 else logging.INFO
        if not request_logger.isEnabledFor(level):
            return
        path = loggable_path(request)
        request_logger.log(
            level,
            "%s %s %s",
            request.method,
            path,
            status,
            extra={
                "method": request.method,
                "path": path,
                "query": loggable_query(request.META.get("QUERY_STRING", "")),
                "status": status,
                "duration_ms": round(seconds * 1000, 1),
                "user_id": _signed_in_user_id(request),
                "remote_addr": client_ip(request),
                "page_cache": response.get("X-Page-Cache", "") == "hit",
            },
        )


# --- Redirects for addresses that moved -------------------------------------------------------


class RedirectFallbackMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            return response
        if response.status_code != 404 and not (request.path == "/" and request.GET):
            return response
        full = normalize_path(request.get_full_path())
        candidates = {full, normalize_path(request.path)}
        path = request.path
        candidates.add(path[:-1] if path.endswith("/") and len(path) > 1 else f"{path}/")
        redirect = (
            Redirect.objects.filter(old_path__in=candidates)
            .select_related("content_type")
            .order_by("-old_path")  # the full path, query included, before the bare one
            .first()
        )
        if redirect is None:
            return response
        url = redirect.target_url()
        if not url or normalize_path(url) in candidates:
            return response
        Redirect.objects.filter(pk=redirect.pk).update(hits=F("hits") + 1)
        query = request.META.get("QUERY_STRING", "")
        if query and "?" not in redirect.old_path and "?" not in url:
            # Campaign tags and the like travel on to the new address.
            url = f"{url}?{query}"
        return HttpResponsePermanentRedirect(url)


# --- The database going away ------------------------------------------------------------------

logger = logging.getLogger(__name__)

# How long readers and crawlers are asked to wait before trying again.
DATABASE_RETRY_AFTER = 30
# PostgreSQL's codes for a server that cannot take the connection: class 08 (connection
# exception) and the shutdown codes; psycopg leaves sqlstate empty when no server answered.
_PG_UNAVAILABLE = {"57P01", "57P02", "57P03"}
_SQLITE_UNAVAILABLE = {"SQLITE_CANTOPEN"}
_UNSET = object()
# Headers describing the failed page's body, not the answer as a whole.
_BODY_HEADERS = {"content-length", "content-type", "etag", "last-modified"}


def is_database_unavailable(error: BaseException) -> bool:
    """Whether `error` says the database cannot be reached, as opposed to a query it refused.

    A bad query, a timeout or a deadlock stays a 500: it is this site's fault and is not
    cured by waiting.
    """
    if isinstance(error, InterfaceError):
        return True
    if not isinstance(error, OperationalError):
        return False
    cause = error.__cause__
    sqlstate = getattr(cause, "sqlstate", _UNSET)
    if sqlstate is not _UNSET:
        return sqlstate is None or sqlstate.startswith("08") or sqlstate in _PG_UNAVAILABLE
    return getattr(cause, "sqlite_errorname", None) in _SQLITE_UNAVAILABLE


def database_unavailable_response() -> HttpResponse:
    # Rendered like the 500 page, without the request or context processors: no query.
    content = loader.get_template("503.html").render()
    response = HttpResponse(content, status=503)
    response["Retry-After"] = str(DATABASE_RETRY_AFTER)
    add_never_cache_headers(response)
    return response


@receiver(got_request_exception, dispatch_uid="charhar-database-unavailable")
def _note_database_unavailable(sender, request=None, **kwargs):
    # Django turns an exception raised inside a middleware into a 500 before any outer
    # middleware sees it; the signal is sent while the exception is being handled.
    error = sys.exc_info()[1]
    if request is not None and error is not None and is_database_unavailable(error):
        request.database_unavailable = error


class DatabaseUnavailableMiddleware:
    """A readable 503 with Retry-After, instead of a 500, while the database is unreachable.

    Pages in the page cache need no database (charhar/pagecache.py) and keep being served.
    Put it before every middleware that may query: a failure in the view is caught by
    process_exception, one in an inner middleware (the page cache's content state, the
    session) replaces the 500 it became.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        error = getattr(request, "database_unavailable", None)
        if error is None or response.status_code != 500:
            return response
        logger.error(
            "Database unavailable, answered 503 for %s %s: %s", request.method, request.path, error
        )
        unavailable = database_unavailable_response()
        for name, value in response.items():
            # Headers the inner middleware set on the way out (frame denial and the like).
            if name.lower() not in unavailable and name.lower() not in _BODY_HEADERS:
                unavailable[name] = value
        return unavailable

    def process_exception(self, request, exception):
        if not is_database_unavailable(exception):
            return None
        logger.error(
            "Database unavailable, answered 503 for %s %s",
            request.method,
            request.path,
            exc_info=exception,
        )
        return database_unavailable_response()
