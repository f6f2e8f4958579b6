"""Health checks for load balancers and orchestrators.

- `/healthz`: the process is alive and answers. It touches neither the database nor the
  cache, so a database outage does not get every app server killed and restarted.
- `/readyz`: the process can serve: the database answers a query and the cache stores and
  returns a value. 200 while both do, 503 naming the one that does not.

`HealthCheckMiddleware` answers both right after the security middleware: before the host
check (probes address the server by its own IP), sessions, authentication and the page
cache. Production exempts both from the redirect to HTTPS (`SECURE_REDIRECT_EXEMPT`).
"""

import logging
import uuid

from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.http import HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.utils.cache import add_never_cache_headers

logger = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"
READY_PATH = "/readyz"
OK = "ok"
UNAVAILABLE = "unavailable"


def database_is_reachable() -> bool:
    """Whether the database answers a trivial query."""
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except DatabaseError:
        logger.warning("Readiness: the database is unreachable", exc_info=True)
        return False


def cache_is_reachable() -> bool:
    """Whether the cache stores a value and gives it back.

    The Redis cache is configured to swallow its errors (IGNORE_EXCEPTIONS: a cache server
    that goes away makes the site slower, not broken), so a failed `set` is silent and a
    failed `get` answers "not cached". A value written under a key of its own and read back
    tells the two apart.
    """
    key = f"charhar:readyz:{uuid.uuid4().hex}"
    value = uuid.uuid4().hex
    try:
        cache.set(key, value, timeout=10)
        stored = cache.get(key)
        cache.delete(key)
    except Exception:
        # A backend configured to raise: any error of its own means the same thing here.
        logger.warning("Readiness: the cache is unreachable", exc_info=True)
        return False
    if stored != value:
        logger.warning("Readiness: the cache did not give back the value it was given")
        return False
    return True


def readiness() -> dict[str, str]:
    """What /readyz reports: each dependency, "ok" or "unavailable"."""
    return {
        "database": OK if database_is_reachable() else UNAVAILABLE,
        "cache": OK if cache_is_reachable() else UNAVAILABLE,
    }


def _probe(request, respond):
    if request.method not in ("GET", "HEAD"):
        response = HttpResponseNotAllowed(["GET", "HEAD"])
    else:
        response = respond()
    add_never_cache_headers(response)
    return response


def healthz(request):
    return _probe(request, lambda: HttpResponse(OK, content_type="text/plain; charset=utf-8"))


def readyz(request):
    def respond():
        report = readiness()
        ready = all(state == OK for state in report.values())
        return JsonResponse(report, status=200 if ready else 503)

    return _probe(request, respond)


class HealthCheckMiddleware:
    """Serves the probes before anything else of the site runs (see the module docstring)."""

    views = {HEALTH_PATH: healthz, READY_PATH: readyz}

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        view = self.views.get(request.path_info)
        if view is None:
            return self.get_response(request)
        return view(request)
