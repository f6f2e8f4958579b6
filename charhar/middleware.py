"""Redirects for addresses that moved.

Consulted only when a request would be a 404, and for the site root with a query string
(WordPress's default permalinks are /?p=123, which would otherwise show the home page): no
other page pays a query for them.
"""

from django.db.models import F
from django.http import HttpResponsePermanentRedirect

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
