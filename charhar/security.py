"""Site-wide security pieces: the client's address behind the reverse proxies (for the
admin's sign-in throttling) and the headers uploaded files are served with.
"""

import math

from django.conf import settings
from django.contrib import admin
from django.http import Http404
from django.shortcuts import render
from django.utils.http import content_disposition_header
from django.views import static


def client_ip(request) -> str:
    """The address of the client, as the outermost trusted proxy saw it.

    Each of the `TRUSTED_PROXY_COUNT` proxies appends the address it received the request
    from to X-Forwarded-For (nginx: `$proxy_add_x_forwarded_for`), so the client is that
    many entries from the right. Anything further left was written by the client and could be
    anything; with no trusted proxy, the header is ignored altogether.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    forwarded = [
        address.strip()
        for address in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if address.strip()
    ]
    if len(forwarded) < proxies:
        # Fewer hops than configured: the request did not come through every proxy.
        return remote
    return forwarded[-proxies]


# Media that browsers may show in the page: raster images only. Everything else (PDFs, and any
# other file an import brought in) is a download, so no uploaded file renders as a document
# of this site's origin.
INLINE_MEDIA_TYPES = {"image/jpeg", "image/png", "image/gif", "image/webp", "image/avif"}


def media_headers(response, path: str):
    """Headers for an uploaded file: `nosniff`, and `Content-Disposition: attachment` unless
    it is a raster image. nginx sets the same in production (docs/security.md)."""
    response["X-Content-Type-Options"] = "nosniff"
    content_type = response.get("Content-Type", "").split(";")[0].strip().lower()
    if content_type not in INLINE_MEDIA_TYPES:
        filename = path.rsplit("/", 1)[-1]
        response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


def serve_media(request, path: str):
    """Uploaded files, when the app server serves them itself (development)."""
    response = static.serve(request, path, document_root=settings.MEDIA_ROOT)
    return media_headers(response, path)


def lockout_response(request, original_response=None, credentials=None):
    """The page a sign-in gets during a lockout (django-axes): what happened and how long to
    wait, with 429 Too Many Requests."""
    from axes.helpers import get_cool_off, get_failure_limit

    cool_off = get_cool_off(request)
    context = {
        "failure_limit": get_failure_limit(request, credentials),
        "cooloff_minutes": math.ceil(cool_off.total_seconds() / 60) if cool_off else None,
        "site_header": admin.site.site_header,
        "site_title": admin.site.site_title,
    }
    return render(request, "admin/lockout.html", context, status=429)


class NulInAddressMiddleware:
    """An address with a NUL character in it names nothing: answer 404 before any view or
    redirect looks it up. PostgreSQL refuses NUL in any text it is given, so the lookup of a
    slug such as `/articles/a%00b/` would otherwise fail as a server error. (Form fields
    refuse NUL themselves, and search cleans it out of what was typed.)"""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path_info:
            raise Http404("There is no such page.")
        return self.get_response(request)
