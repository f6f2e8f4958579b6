"""Signed tokens for the links in newsletter emails; nothing secret is stored in the database.

A confirmation token names the subscriber and the moment its confirmation email was requested,
and expires; asking for a new confirmation replaces the old link. A subscriber token names
only the subscriber: it is the key to the preferences page and the one-click unsubscribe,
which must keep working for as long as old newsletters sit in inboxes.
"""

from django.conf import settings
from django.core import signing

CONFIRM_SALT = "newsletter.confirm"
SUBSCRIBER_SALT = "newsletter.subscriber"


class InvalidToken(Exception):
    """The token was tampered with, is malformed or names nobody."""


class ExpiredToken(InvalidToken):
    """The token was genuine but is too old."""


def _stamp(moment) -> int:
    return int(moment.timestamp())


def make_confirmation_token(subscriber) -> str:
    return signing.dumps(
        [subscriber.pk, _stamp(subscriber.confirmation_sent_at)], salt=CONFIRM_SALT
    )


def read_confirmation_token(token: str) -> tuple[int, int]:
    """(subscriber pk, stamp of the confirmation request) or InvalidToken/ExpiredToken."""
    try:
        pk, stamp = signing.loads(
            token, salt=CONFIRM_SALT, max_age=settings.NEWSLETTER_CONFIRM_MAX_AGE
        )
    except signing.SignatureExpired as exc:
        raise ExpiredToken from exc
    except (signing.BadSignature, TypeError, ValueError) as exc:
        raise InvalidToken from exc
    if not isinstance(pk, int) or not isinstance(stamp, int):
        raise InvalidToken
    return pk, stamp


def confirmation_matches(subscriber, stamp: int) -> bool:
    """Whether the token belongs to the subscriber's latest confirmation request."""
    return (
        subscriber.confirmation_sent_at is not None
        and _stamp(subscriber.confirmation_sent_at) == stamp
    )


def make_subscriber_token(pk: int) -> str:
    # Signer rather than dumps(): one HMAC over a short string, cheap enough to make one
    # for every message of a 100,000-recipient send.
    return signing.Signer(salt=SUBSCRIBER_SALT).sign(str(pk))


def read_subscriber_token(token: str) -> int:
    try:
        value = signing.Signer(salt=SUBSCRIBER_SALT).unsign(token)
    except signing.BadSignature as exc:
        raise InvalidToken from exc
    if not value.isdecimal():
        raise InvalidToken
    return int(value)
