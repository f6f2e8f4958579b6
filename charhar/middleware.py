"""Site-wide middleware: redirects for addresses that moved, and a 503 while the database is
unreachable.

Redirects are consulted only when a request would be a 404, and for the site root with a
query string (WordPress's default permalinks are /?p=123, which would otherwise show the
home page): no other page pays a query for them.
"""

import logging
import sys

from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.db.models import F
from django.dispatch import receiver
from django.http import HttpResponse, HttpResponsePermanentRedirect
from django.template import loader
from django.utils.cache import add_never_cache_headers

from .models import Redirect, normalize_path


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
