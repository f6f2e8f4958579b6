"""Fixed-window request counters in the cache (shared by every app server when CACHE_URL is
Redis), for the sign-up form."""

import hashlib
import logging

from django.core.cache import cache

logger = logging.getLogger(__name__)


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
    if count is None:
        # The cache server is unreachable (its backend ignores and logs the error): nothing
        # can be counted, and refusing every reader would be worse than a while unlimited.
        logger.warning("Sign-up rate limit (%s) not applied: the cache cannot count.", scope)
        return True
    return count <= limit
