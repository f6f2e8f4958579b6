"""Each reader's CSRF token in a page served from the page cache, made the way Django's
`get_token` makes it, at a fraction of the cost.

Django draws every character of a new secret and of each token's mask with
`secrets.choice`: 64 calls to the system's random source for a new reader, about a fifth
of the cost of a cached page. Here the characters come from one `secrets.token_bytes`
draw each, turned into characters by a table. Bytes at or above 248 (4 × 62) are dropped
rather than folded, so every character of the 62 stays exactly as likely as with Django's
draw. The token has Django's format (a 32-character mask, then the secret enciphered with
it) and is checked by Django's `CsrfViewMiddleware` like any other; the secret goes to the
reader's cookie through the same `request.META` keys `get_token` sets.
"""

import secrets

from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH

_CHARS = CSRF_ALLOWED_CHARS
_COUNT = len(_CHARS)
_INDEX = {char: index for index, char in enumerate(_CHARS)}
_KEPT = 256 - 256 % _COUNT
_TABLE = bytes(_CHARS.encode()[byte % _COUNT] for byte in range(256))
_DROPPED = bytes(range(_KEPT, 256))
# Enough bytes that the drops leave 32 characters all but always in one draw.
_DRAW = CSRF_SECRET_LENGTH + 16


def characters(raw: bytes) -> bytes:
    """The characters random bytes give: one for each byte below 248, none for the rest."""
    return raw.translate(_TABLE, _DROPPED)


def random_string(length: int = CSRF_SECRET_LENGTH) -> str:
    """`length` characters of CSRF_ALLOWED_CHARS, each uniformly and secretly drawn."""
    drawn = b""
    while len(drawn) < length:
        drawn += characters(secrets.token_bytes(_DRAW))
    return drawn[:length].decode("ascii")


def mask(secret: str) -> str:
    """A new token for `secret`: a fresh mask, then the secret enciphered with it, as
    Django's `_mask_cipher_secret` makes it."""
    mask = random_string()
    index = _INDEX
    cipher = "".join(
        _CHARS[(index[s] + index[m]) % _COUNT] for s, m in zip(secret, mask, strict=True)
    )
    return mask + cipher


def reader_token(request) -> str:
    """What `django.middleware.csrf.get_token(request)` returns, with the same effects on
    the request: a new secret when the reader has none (its cookie is then set by
    `CsrfViewMiddleware`), and the cookie renewed in either case."""
    secret = request.META.get("CSRF_COOKIE")
    if secret is None:
        secret = random_string()
        request.META["CSRF_COOKIE"] = secret
    request.META["CSRF_COOKIE_NEEDS_UPDATE"] = True
    return mask(secret)
