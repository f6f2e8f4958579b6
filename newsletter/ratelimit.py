"""Fixed-window request counters in the cache (shared by every app server when CACHE_URL is
Redis), for the sign-up form."""

import hashlib

from django.core.cache import cache


def _key(scope: str, value: str) -> str:
    digest = hashlib.sha256(value.encode()).hexdigest()[:32]
    return f"newsletter:rate:{scope}:{digest}"


def hit(scope: str, value: str, rate: tuple[int, int]) -> bool:
    """Count one attempt; True while `value` stays within `rate` (count, seconds)."""
    limit, window = rate
    key = _key(scope, value)
    # add() starts a window only if none is open; incr() is atomic in Redis and memcached.
    cache.add(key, 0, timeout=window)
    try:
        count = cache.incr(key)
    except ValueError:
        # The window ended between add() and incr(): this attempt opens a new one.
        cache.set(key, 1, timeout=window)
        count = 1
    return count <= limit
