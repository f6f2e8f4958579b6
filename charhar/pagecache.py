"""Whole-page caching and conditional requests for anonymous readers.

Every public page depends on the site's content and on the clock (a scheduled article
appears at its time, an event moves from upcoming to past when it ends). Both are folded
into one *content state*:

- a **version**, replaced on every save or delete of content and again when its
  transaction commits (signals below; bulk writers call `bump_content_version()`
  themselves), shared by all app servers through the cache;
- a **boundary**: the next moment at which the clock alone changes what readers see.

A page's ETag is derived from the state and the request, so a repeated request answers
304 without rendering. A cached page is stored under its address (path, language, method)
with the ETag it was rendered for, and is served only while that ETag is still the current
one: a content change or a boundary passing makes every stored page stale at once, and an
entry never outlives the next boundary. A hit is one round trip to the cache: the version
and the boundary, plus the page when this process holds no copy of it (`_LocalPages`: each
process keeps the pages it serves, checked against the same ETag, so a hit moves no page
from the cache server). The state read then is the one the whole request sees (listing
totals, the site's chrome in `charhar.templatetags.fragments`). A page is stored cut at the
places of the reader's own CSRF token and CSP nonce, which each hit fills in anew.
Requests with a session (staff, anyone signed in) or a messages cookie are never cached.
"""

import contextlib
import contextvars
import datetime
import functools
import hashlib
import os
import re
import threading
import time
import uuid
from collections import OrderedDict
from functools import cached_property

from django.conf import settings
from django.core.cache import cache, caches
from django.core.paginator import Paginator
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import Min, Q
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.http import HttpResponse, HttpResponseNotModified
from django.urls import get_resolver, get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import parse_etags, quote_etag
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from .csrf import reader_token

VERSION_KEY = "charhar:content-version"
# (the version it was computed for, the boundary): one key, so that it is read together
# with the version; a value left by an older version is recomputed, never trusted.
BOUNDARY_KEY = "charhar:content-boundary"
PAGE_KEY = "charhar:page:{address}"
# Where each new version is announced to every app server (Redis publish and subscribe).
CHANGES_CHANNEL = "charhar:content-changes"
# Content apps whose rows appear on public pages.
CONTENT_APPS = {"articles", "charhar", "experts", "publications", "taggit"}
_UNCACHED_MODELS = {"charhar.redirect"}  # counts hits with update(); shows on no page
_TOKEN = re.compile(rb'(name="csrfmiddlewaretoken" value=")[^"]*(")')
_TOKEN_PLACEHOLDER = b"\x00csrf\x00"
# The Content Security Policy nonce is the response's own too (charhar/settings: CSP).
_NONCE_PLACEHOLDER = b"\x00nonce\x00"
# A page is stored cut at its placeholders, so that a hit joins the pieces with the
# reader's own token and nonce instead of searching the whole page for them.
_PLACEHOLDERS = re.compile(b"(" + _TOKEN_PLACEHOLDER + b"|" + _NONCE_PLACEHOLDER + b")")


# Set when this process could not store a new content version; see bump_content_version.
_lost_bump = False


def bump_content_version(**kwargs) -> bool:
    """Mark every cached page and ETag as stale, on all app servers sharing the cache.

    Returns whether the cache server took the new version. Its errors are ignored so that
    the site keeps serving while it is down (`CACHE_URL` in charhar/settings), and a version
    written then is lost: the pages cached before the outage would be served again once the
    server is back, edits or not. So a lost version is written again at the start of each of
    this process's next requests (`PageCacheMiddleware`) until it lands.
    """
    global _lost_bump
    version = uuid.uuid4().hex
    change_watch.forget()
    cache.set(VERSION_KEY, version, timeout=None)
    # Reading back another process's newer version counts as lost too: writing once more
    # costs only an extra round of rendering, a version really lost costs stale pages.
    _lost_bump = cache.get(VERSION_KEY) != version or not _announce(version)
    return not _lost_bump


def _announce(version: str) -> bool:
    """Tell every app server's `change_watch` that the version changed; whether Redis took
    the announcement (always true with a cache that has no channel)."""
    client = _redis_client(caches["default"])
    if client is None:
        return True
    try:
        client.publish(_channel(caches["default"], client), version)
    except (RedisError, OSError):
        return False
    return True


CACHE_NOT_TOLD = (
    "The cache server could not be reached to mark cached pages stale: readers may see pages "
    "from before this change until they expire (PAGE_CACHE_SECONDS) or until the next save "
    "in the admin once the cache server is back."
)


def _content_changed(sender, using=DEFAULT_DB_ALIAS, **kwargs):
    """A change to content marks every cached page stale at once, and again when its
    transaction commits: until then other app servers still read the content as it was,
    and a page one of them rendered in between would be kept under the new version."""
    meta = sender._meta
    if meta.app_label in CONTENT_APPS and meta.label_lower not in _UNCACHED_MODELS:
        bump_content_version()
        connection = connections[using]
        if connection.in_atomic_block and not any(
            func is _bump_after_commit for _ids, func, _robust in connection.run_on_commit
        ):
            # Once per transaction, however many rows it writes.
            transaction.on_commit(_bump_after_commit, using=using)


def _bump_after_commit():
    bump_content_version()


post_save.connect(_content_changed, dispatch_uid="charhar-content-saved")
post_delete.connect(_content_changed, dispatch_uid="charhar-content-deleted")
m2m_changed.connect(_content_changed, dispatch_uid="charhar-content-related")


def _next_boundary(now) -> datetime.datetime | None:
    """The next time at which the clock alone changes a public page."""
    from articles.models import Article
    from publications.models import Publication

    scheduled = Article.objects.filter(
        status=Article.Status.PUBLISHED, published_at__gt=now
    ).aggregate(at=Min("published_at"))
    events = (
        Article.objects.events()
        .filter(status=Article.Status.PUBLISHED)
        .aggregate(
            starts=Min("event__starts_at", filter=Q(event__starts_at__gt=now)),
            ends=Min("event__ends_at", filter=Q(event__ends_at__gt=now)),
        )
    )
    candidates = [scheduled["at"], events["starts"], events["ends"]]
    next_publication_day = Publication.objects.filter(
        status=Publication.Status.PUBLISHED, published_on__gt=timezone.localdate(now)
    ).aggregate(day=Min("published_on"))["day"]
    if next_publication_day:
        candidates.append(
            timezone.make_aware(datetime.datetime.combine(next_publication_day, datetime.time()))
        )
    candidates = [moment for moment in candidates if moment is not None]
    return min(candidates) if candidates else None


# The content state of the request being served, read once by the page cache middleware.
_request_state: contextvars.ContextVar = contextvars.ContextVar("content_state", default=None)


def content_state(now=None) -> tuple[str, datetime.datetime | None]:
    """(version, boundary): what every public page currently depends on.

    During an anonymous read it is the state the page cache read at the start of the
    request, so every part of the page agrees with its ETag at no further cost.
    """
    state = _request_state.get()
    if state is not None:
        return state
    version, boundary, _values = _read_state(now or timezone.now())
    return version, boundary


def content_version() -> str:
    """The content version alone: what depends on content but not on the clock (the site's
    header and footer). Never queries the database."""
    state = _request_state.get()
    if state is not None:
        return state[0]
    return _version(cache.get(VERSION_KEY))


def _version(stored: str | None) -> str:
    if stored is not None:
        return stored
    version = uuid.uuid4().hex
    if not cache.add(VERSION_KEY, version, timeout=None):
        version = cache.get(VERSION_KEY, version)
    return version


def _read_state(now, *keys: str) -> tuple[str, datetime.datetime | None, dict]:
    """The content state and the values of `keys`, in one round trip to the cache."""
    values = cache.get_many([VERSION_KEY, BOUNDARY_KEY, *keys])
    version = _version(values.get(VERSION_KEY))
    stored = values.get(BOUNDARY_KEY)
    if (
        isinstance(stored, tuple)
        and stored[0] == version
        and (stored[1] is None or stored[1] > now)
    ):
        return version, stored[1], values
    boundary = _next_boundary(now)
    timeout = None if boundary is None else max(1, int((boundary - now).total_seconds()))
    cache.set(BOUNDARY_KEY, (version, boundary), timeout=timeout)
    return version, boundary, values


def _is_anonymous_read(request) -> bool:
    return (
        request.method in ("GET", "HEAD")
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and "messages" not in request.COOKIES
        and not request.path.startswith((_admin_prefix(), "/preview/"))
    )


def _digest(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


def _admin_prefix() -> str:
    return _admin_prefix_for(get_resolver(get_urlconf()), get_script_prefix())


@functools.lru_cache(maxsize=16)
def _admin_prefix_for(resolver, script_prefix) -> str:
    # Keyed by the URL conf's resolver, which Django builds anew when the URL conf changes.
    return reverse("admin:index", urlconf=resolver.urlconf_name)


class _ChangeWatch:
    """This process's subscription to the announcements of new content versions, so that a
    hit needs no round trip to the cache for the content state.

    `bump_content_version()` stores the new version, then publishes it on a channel of the
    cache's Redis; every app server process listens on that channel. A process keeps the
    state it last read from the cache only while its subscription has stood since before
    that read and nothing has been announced since: before each use it reads what the
    channel holds without waiting, and any announcement, any lost or renewed connection
    drops the kept state, which is then read from the cache again. Redis writes an
    announcement to every subscriber's connection in the same pass in which it answers the
    publisher, so by the time the saving request goes on, the announcement is waiting on
    every server's connection and the next request anywhere sees the change, as it did
    when each request read the state.

    Only with django-redis (`CACHE_URL=redis://...`) and `PAGE_CACHE_SUBSCRIBE`; otherwise
    every request reads the state from the cache.
    """

    RETRY_SECONDS = 5

    def __init__(self):
        self._backend = None
        self._pubsub = None
        self._pid = None
        self._confirmed = False
        self._state = None
        self._retry_at = 0.0
        # Counts what makes a state read earlier untrustworthy (an announcement, a renewed
        # or closed connection), so that a thread keeps no state another thread saw go stale.
        self._generation = 0
        # One subscription per process, read by one thread at a time.
        self._lock = threading.Lock()

    def state(self, now) -> tuple[tuple[str, datetime.datetime | None] | None, int | None]:
        """(the kept content state or None when it must be read from the cache, the
        generation to give `keep` with the state read then)."""
        with self._lock:
            if not self._listening():
                return None, None
            state = self._state
            if state is not None and state[1] is not None and state[1] <= now:
                state = self._state = None
            return state, self._generation

    def keep(self, version: str, boundary: datetime.datetime | None, generation) -> None:
        """Keep a state read from the cache, if the subscription stood before the read and
        nothing was announced since."""
        with self._lock:
            if generation == self._generation and self._pubsub is not None and self._confirmed:
                self._state = (version, boundary)

    def forget(self) -> None:
        with self._lock:
            self._drop()

    def _drop(self) -> None:
        self._state = None
        self._generation += 1

    def reset(self) -> None:
        """Close the subscription; the next request subscribes again."""
        with self._lock:
            self._close()
            self._backend = None
            self._retry_at = 0.0

    def _listening(self) -> bool:
        backend = caches["default"]
        if self._backend is not backend or self._pid != os.getpid():
            self._close()
            self._backend, self._pid = backend, os.getpid()
        if self._pubsub is None and not self._subscribe(backend):
            return False
        try:
            if not self._confirmed:
                # Until Redis confirms the subscription, a version published meanwhile could
                # be missed: no state is kept before.
                self._await_confirmation()
            while (message := self._pubsub.get_message(timeout=0)) is not None:
                if message["type"] == "message":
                    self._drop()
                elif message["type"] == "subscribe":  # again, on a renewed connection
                    self._confirmed = True
            return self._confirmed
        except (RedisError, OSError):
            self._close()
            self._retry_at = time.monotonic() + self.RETRY_SECONDS
            return False

    def _subscribe(self, backend) -> bool:
        client = _redis_client(backend)
        if client is None or not settings.PAGE_CACHE_SUBSCRIBE:
            return False
        if time.monotonic() < self._retry_at:
            return False
        try:
            pubsub = client.pubsub()
            pubsub.subscribe(_channel(backend, client))
            # A connection renewed behind our back may have missed announcements.
            pubsub.connection.register_connect_callback(self._connected)
        except (RedisError, OSError):
            self._retry_at = time.monotonic() + self.RETRY_SECONDS
            return False
        self._pubsub = pubsub
        self._confirmed = False
        return True

    def _await_confirmation(self) -> None:
        deadline = time.monotonic() + 1
        while (left := deadline - time.monotonic()) > 0:
            message = self._pubsub.get_message(timeout=left)
            if message is not None and message["type"] == "subscribe":
                self._confirmed = True
                return
        raise RedisTimeoutError("Redis did not confirm the subscription to content changes.")

    def _connected(self, connection) -> None:
        self._drop()
        self._confirmed = False

    def _close(self) -> None:
        self._drop()
        self._confirmed = False
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            if pubsub.connection is not None:
                # The connection goes back to the client's pool, for other commands.
                pubsub.connection.deregister_connect_callback(self._connected)
            with contextlib.suppress(RedisError, OSError):
                pubsub.close()


def _channel(backend, client) -> str:
    """The announcements' channel of this cache: channels belong to the whole Redis server,
    so the name carries the cache's database and key prefix, as its keys do."""
    database = client.connection_pool.connection_kwargs.get("db", 0)
    return backend.make_key(f"{CHANGES_CHANNEL}:db{database}")


def _redis_client(backend):
    """The Redis client of a django-redis cache, or None for any other cache."""
    client = getattr(getattr(backend, "client", None), "get_client", None)
    return client(write=True) if client is not None else None


change_watch = _ChangeWatch()


class _LocalPages:
    """This process's own copies of stored pages, so that a hit moves no page from the cache
    server: at most `PAGE_CACHE_LOCAL_BYTES` of them, the least recently served dropped first.

    A copy is served under the same rule as the stored page: only while its ETag is the one
    the state read from the cache at the start of the request gives. An edit on any app
    server changes that state, so a copy is never served after it.
    """

    def __init__(self):
        self._pages: OrderedDict[str, tuple] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def __contains__(self, key: str) -> bool:
        return key in self._pages

    def __len__(self) -> int:
        return len(self._pages)

    @property
    def size(self) -> int:
        """The bytes of page text held."""
        return self._bytes

    def get(self, key: str, etag: str):
        with self._lock:
            entry = self._pages.get(key)
            if entry is None:
                return None
            if entry[0] != etag or entry[1] <= time.monotonic():
                self._drop(key)
                return None
            self._pages.move_to_end(key)
            return entry[2]

    def put(self, key: str, etag: str, seconds: int, stored) -> None:
        limit = settings.PAGE_CACHE_LOCAL_BYTES
        size = sum(map(len, stored[0]))
        if size > limit:
            return
        with self._lock:
            self._drop(key)
            self._pages[key] = (etag, time.monotonic() + seconds, stored, size)
            self._bytes += size
            while self._bytes > limit:
                self._drop(next(iter(self._pages)))

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()
            self._bytes = 0

    def _drop(self, key: str) -> None:
        entry = self._pages.pop(key, None)
        if entry is not None:
            self._bytes -= entry[3]


local_pages = _LocalPages()


class PageCacheMiddleware:
    """ETags and 304s for every anonymous read; the page cache when PAGE_CACHE_SECONDS > 0."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if _lost_bump:
            bump_content_version()
        if not _is_anonymous_read(request):
            return self.get_response(request)
        now = timezone.now()
        seconds = settings.PAGE_CACHE_SECONDS
        address = _digest(request.get_full_path(), request.LANGUAGE_CODE, request.method)
        key = PAGE_KEY.format(address=address)
        # The stored page comes with the state unless this process holds a copy of it.
        fetch = seconds > 0 and key not in local_pages
        state, generation = change_watch.state(now)
        if state is not None:
            (version, boundary), values, fetch = state, {}, False
        else:
            version, boundary, values = _read_state(now, *([key] if fetch else []))
            change_watch.keep(version, boundary, generation)
        token = _request_state.set((version, boundary))
        try:
            return self._respond(request, now, version, boundary, address, key, values, fetch)
        finally:
            _request_state.reset(token)

    def _respond(self, request, now, version, boundary, address, key, values, fetched):
        stamp = boundary.isoformat() if boundary else ""
        etag = quote_etag(_digest(version, stamp, address))

        if etag in parse_etags(request.headers.get("If-None-Match", "")):
            response = HttpResponseNotModified()
            response["ETag"] = etag
            # A 304 updates the headers the browser stored with the page; a new policy would
            # not carry the nonce already in that page.
            response._csp_exempt = True
            return response

        seconds = settings.PAGE_CACHE_SECONDS
        if seconds > 0:
            stored = local_pages.get(key, etag)
            if stored is None:
                cached = values.get(key) if fetched else cache.get(key)
                if isinstance(cached, tuple) and len(cached) == 2 and cached[0] == etag:
                    stored = cached[1]
                    local_pages.put(key, etag, self._seconds(now, boundary), stored)
            if stored is not None:
                return self._from_cache(request, stored, etag)

        response = self.get_response(request)
        if response.status_code != 200 or response.streaming or not self._cacheable(response):
            return response
        response["ETag"] = etag
        patch_vary_headers(response, ["Cookie"])
        if seconds > 0:
            stored = self._to_cache(request, response)
            timeout = self._seconds(now, boundary)
            cache.set(key, (etag, stored), timeout=timeout)
            local_pages.put(key, etag, timeout, stored)
        return response

    @staticmethod
    def _seconds(now, boundary) -> int:
        """How long a page may be kept: never past the next boundary."""
        seconds = settings.PAGE_CACHE_SECONDS
        if boundary is not None:
            seconds = min(seconds, max(1, int((boundary - now).total_seconds())))
        return seconds

    @staticmethod
    def _cacheable(response) -> bool:
        control = response.get("Cache-Control", "")
        return "private" not in control and "no-store" not in control and not response.cookies

    @staticmethod
    def _to_cache(request, response):
        """(the page cut at its placeholders, its headers): the pieces of text and, between
        them, which of the reader's own values goes there."""
        # The CSRF token is the reader's own: cached pages hold a placeholder instead.
        content = _TOKEN.sub(rb"\1" + _TOKEN_PLACEHOLDER + rb"\2", response.content)
        nonce = getattr(request, "_csp_nonce", None)
        if nonce:
            content = content.replace(
                b'nonce="' + nonce.encode() + b'"', b'nonce="' + _NONCE_PLACEHOLDER + b'"'
            )
        pieces = _PLACEHOLDERS.split(content)
        headers = tuple(
            (name, value)
            for name, value in response.items()
            if name.lower() in {"content-type", "content-language", "vary", "cache-control"}
        )
        return tuple(pieces[0::2]), tuple(pieces[1::2]), headers

    @staticmethod
    def _from_cache(request, stored, etag):
        texts, slots, headers = stored
        if slots:
            values = {}
            if _TOKEN_PLACEHOLDER in slots:
                values[_TOKEN_PLACEHOLDER] = reader_token(request).encode()
            if _NONCE_PLACEHOLDER in slots:
                # A nonce of this response's own, which the CSP middleware puts in its header.
                values[_NONCE_PLACEHOLDER] = str(request.csp_nonce).encode()
            parts = [texts[0]]
            for slot, text in zip(slots, texts[1:], strict=True):
                parts += (values[slot], text)
            content = b"".join(parts)
        else:
            content = texts[0]
        response = HttpResponse(content)
        for name, value in headers:
            response[name] = value
        response["ETag"] = etag
        response["X-Page-Cache"] = "hit"
        return response


class CachedCountPaginator(Paginator):
    """A paginator whose COUNT is computed once per content state and shared by every app
    server: counting a big listing costs more than reading a page of it, and the total only
    changes when content does (or when a scheduled change comes due).

    `count_key` names the listing (its path and filters); without one, it counts every time.
    """

    def __init__(self, object_list, per_page, *args, count_key: str = "", **kwargs):
        super().__init__(object_list, per_page, *args, **kwargs)
        self.count_key = count_key

    @cached_property
    def count(self):
        if not self.count_key:
            return super().count
        version, boundary = content_state()
        stamp = boundary.isoformat() if boundary else ""
        digest = hashlib.sha256(f"{version}|{stamp}|{self.count_key}".encode()).hexdigest()[:32]
        key = f"charhar:count:{digest}"
        count = cache.get(key)
        if count is None:
            count = super().count
            cache.set(key, count, timeout=settings.PAGE_CACHE_SECONDS or 600)
        return count


def listing_key(request, *ignored: str) -> str:
    """What identifies a listing's total: its path and its parameters but the page's."""
    query = request.GET.copy()
    for name in ("page", *ignored):
        query.pop(name, None)
    return f"{request.path}?{query.urlencode()}"
