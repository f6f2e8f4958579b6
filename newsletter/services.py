"""Newsletter operations across models: sign-up, confirmation email, a campaign's content, its
messages and its sending. Views, admin actions, tasks and commands all call these."""

import contextlib
import csv
import datetime
import os
import re
import secrets
import smtplib
import socket
import time
from dataclasses import dataclass, field
from email import message_from_bytes
from email import policy as email_policy
from email.utils import formatdate, make_msgid
from html import escape

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.utils import DNS_NAME
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q, Value
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from articles.models import Article
from charhar.models import SiteSettings
from publications.models import Publication

from .models import Campaign, Delivery, Interest, Subscriber, normalize_email
from .tokens import make_confirmation_token, make_subscriber_token

# --- Sign-up -----------------------------------------------------------------------------


def sign_up(email: str, interests, source: str, *, now=None) -> None:
    """Record a request to subscribe and queue a confirmation email when one is due.

    Returns nothing on purpose: the caller answers the same whether the address was new,
    pending, confirmed or unsubscribed. A confirmed subscriber is left as they are (nobody
    may change someone else's interests by typing their address); anyone else gets a
    confirmation email at most once per NEWSLETTER_RESEND_INTERVAL.
    """
    from .tasks import send_confirmation

    now = now or timezone.now()
    email = normalize_email(email)
    subscriber = Subscriber.objects.with_email(email).first()
    if subscriber is None:
        subscriber = Subscriber(email=email, consent_source=source, consent_at=now)
        subscriber.set_interests(interests)
        subscriber.request_confirmation(now=now)
        try:
            # The task row commits with the subscriber: the worker never sees one without
            # the other.
            with transaction.atomic():
                subscriber.save()
                send_confirmation.enqueue(
                    subscriber.pk, subscriber.confirmation_sent_at.isoformat()
                )
        except IntegrityError:
            # Someone signed the same address up a moment ago; theirs stands.
            return
        return
    if not subscriber.request_confirmation(now=now):
        return
    subscriber.set_interests(interests)
    subscriber.consent_at = now
    subscriber.consent_source = source
    with transaction.atomic():
        subscriber.save()
        send_confirmation.enqueue(subscriber.pk, subscriber.confirmation_sent_at.isoformat())


def absolute_url(viewname: str, **kwargs) -> str:
    return settings.SITE_URL + reverse(viewname, kwargs=kwargs)


def _institute_name() -> str:
    return SiteSettings.load().institute_name or "The Charhar Institute"


def send_confirmation_email(subscriber: Subscriber) -> bool:
    """Email the subscriber their confirmation link; False when none is due any more."""
    if subscriber.status == Subscriber.Status.CONFIRMED or not subscriber.confirmation_sent_at:
        return False
    token = make_confirmation_token(subscriber)
    context = {
        "confirm_url": absolute_url("newsletter:confirm", token=token),
        "institute_name": _institute_name(),
        "max_age_days": settings.NEWSLETTER_CONFIRM_MAX_AGE // 86400,
    }
    message = EmailMultiAlternatives(
        subject=_("Please confirm your subscription"),
        body=render_to_string("newsletter/email/confirm.txt", context),
        from_email=settings.NEWSLETTER_FROM_EMAIL,
        to=[subscriber.email],
    )
    message.attach_alternative(
        render_to_string("newsletter/email/confirm.html", context), "text/html"
    )
    message.send()
    return True


# --- Staff export ------------------------------------------------------------------------

CSV_HEADER = ["email", "confirmed_at", "consent_at", "consent_source", *Interest.values]


def _csv_cell(value) -> str:
    text = "" if value is None else str(value)
    # A spreadsheet would run a cell starting with these as a formula.
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        text = "'" + text
    return text


class _Echo:
    def write(self, value):
        return value


def confirmed_subscribers_csv():
    """CSV lines of every confirmed subscriber, produced as the rows stream from the database."""
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_HEADER)
    rows = (
        Subscriber.objects.confirmed()
        .order_by("pk")
        .values_list(
            "email",
            "confirmed_at",
            "consent_at",
            "consent_source",
            *(interest.field for interest in Interest),
        )
        .iterator(chunk_size=2000)
    )
    for email, confirmed_at, consent_at, source, *wants in rows:
        yield writer.writerow(
            [
                _csv_cell(email),
                confirmed_at.isoformat() if confirmed_at else "",
                consent_at.isoformat() if consent_at else "",
                source,
                *("1" if flag else "0" for flag in wants),
            ]
        )


# --- A campaign's content ----------------------------------------------------------------


@dataclass(frozen=True)
class SectionSpec:
    key: str
    title: str
    interest: Interest
    kind: str | None  # an Article kind, or None for publications


def section_specs() -> list[SectionSpec]:
    """The order and grouping of a newsletter: each kind of content under one interest."""
    Kind = Article.Kind
    return [
        SectionSpec("news", _("News"), Interest.NEWS, Kind.NEWS),
        SectionSpec("announcements", _("Announcements"), Interest.NEWS, Kind.ANNOUNCEMENT),
        SectionSpec("media", _("In the media"), Interest.NEWS, Kind.MEDIA),
        SectionSpec("events", _("Events"), Interest.EVENTS, Kind.EVENT),
        SectionSpec("opinion", _("Opinion"), Interest.OPINION, Kind.COMMENTARY),
        SectionSpec("research", _("Research"), Interest.PUBLICATIONS, Kind.RESEARCH),
        SectionSpec("publications", _("Publications"), Interest.PUBLICATIONS, None),
    ]


INTEREST_BITS = {interest: 1 << index for index, interest in enumerate(Interest)}
ALL_INTERESTS = sum(INTEREST_BITS.values())


def interest_mask(flags) -> int:
    """The bit mask of a subscriber's `wants_*` flags, in Interest order."""
    return sum(bit for bit, flag in zip(INTEREST_BITS.values(), flags, strict=True) if flag)


@dataclass(frozen=True)
class Item:
    title: str
    url: str
    date: datetime.date | datetime.datetime | None
    summary: str
    starts_at: datetime.datetime | None = None


@dataclass
class Section:
    spec: SectionSpec
    items: list[Item] = field(default_factory=list)

    @property
    def title(self):
        return self.spec.title

    @property
    def bit(self) -> int:
        return INTEREST_BITS[self.spec.interest]


def previous_content_until(campaign: Campaign):
    """Where the last campaign that went (or is going) out stopped picking content."""
    return (
        Campaign.objects.exclude(pk=campaign.pk)
        .exclude(status=Campaign.Status.DRAFT)
        .exclude(content_until=None)
        .order_by("-content_until")
        .values_list("content_until", flat=True)
        .first()
    )


def pick_content(campaign: Campaign, *, now=None) -> None:
    """Fill the campaign with what was published since the last campaign sent, newest first,
    at most NEWSLETTER_MAX_ITEMS_PER_KIND of each kind, nothing a sent campaign announced."""
    now = now or timezone.now()
    since = previous_content_until(campaign) or now - datetime.timedelta(
        days=settings.NEWSLETTER_FIRST_CAMPAIGN_DAYS
    )
    limit = settings.NEWSLETTER_MAX_ITEMS_PER_KIND
    announced = Campaign.objects.exclude(pk=campaign.pk).exclude(status=Campaign.Status.DRAFT)
    article_ids = []
    for spec in section_specs():
        if spec.kind is None:
            continue
        article_ids += (
            Article.objects.published(now)
            .filter(kind=spec.kind, published_at__gt=since)
            .exclude(campaigns__in=announced)
            .order_by("-published_at", "-pk")
            .values_list("pk", flat=True)[:limit]
        )
    publication_ids = (
        Publication.objects.published(timezone.localdate(now))
        .filter(published_on__gte=timezone.localdate(since))
        .exclude(campaigns__in=announced)
        .order_by("-published_on", "-pk")
        .values_list("pk", flat=True)[:limit]
    )
    with transaction.atomic():
        campaign.articles.set(article_ids)
        campaign.publications.set(list(publication_ids))
        campaign.content_until = now
        campaign.save(update_fields=["content_until", "updated_at"])


def campaign_sections(campaign: Campaign) -> list[Section]:
    """The campaign's chosen content grouped by kind, empty sections left out (two queries)."""
    sections = {spec.key: Section(spec) for spec in section_specs()}
    by_kind = {spec.kind: sections[spec.key] for spec in section_specs() if spec.kind}
    articles = campaign.articles.select_related("event").order_by("-published_at", "-pk")
    for article in articles:
        section = by_kind.get(article.kind)
        if section is None:
            continue
        event = getattr(article, "event", None) if article.kind == Article.Kind.EVENT else None
        section.items.append(
            Item(
                title=article.title,
                url=settings.SITE_URL + article.get_absolute_url(),
                date=article.published_at,
                summary=article.summary,
                starts_at=event.starts_at if event else None,
            )
        )
    for publication in campaign.publications.order_by("-published_on", "-pk"):
        sections["publications"].items.append(
            Item(
                title=publication.title,
                url=settings.SITE_URL + publication.get_absolute_url(),
                date=publication.published_on,
                summary=publication.summary,
            )
        )
    return [section for section in sections.values() if section.items]


def campaign_interests_q(sections: list[Section]) -> Q:
    """Subscribers who want at least one interest the campaign has content for."""
    q = Q(pk__in=[])
    for interest in Interest:
        if any(section.spec.interest == interest for section in sections):
            q |= Q(**{interest.field: True})
    return q


# --- Messages ----------------------------------------------------------------------------

# Where each recipient's token goes. As long as a short token, so that the List-Unsubscribe
# header is folded in the template exactly as it is with a real token.
_TOKEN_SLOT = "PERSONALLINKSLOT" + "X" * 24
_RECIPIENT_SLOT = "recipientslot@slot.invalid"
_MSGID_SLOT = "<messageidslot@slot.invalid>"
_DATE_SLOT = "dateslot"
_SLOTS = re.compile(
    b"("
    + b"|".join(
        re.escape(slot.encode()) for slot in (_TOKEN_SLOT, _RECIPIENT_SLOT, _MSGID_SLOT, _DATE_SLOT)
    )
    + b")"
)
# Addresses whose To header is the address itself, byte for byte (plain dot-atom, ASCII,
# lower-case domain): the prepared path serves these; any other goes the standard way.
_PLAIN_ADDRESS = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@[a-z0-9-]+(?:\.[a-z0-9-]+)+\Z"
)


class _PreparedMIME:
    """What an email backend gets from PreparedMessage.message(): finished bytes.

    Backends call as_bytes() (SMTP with CRLF line ends, file and console with LF) and
    get_charset(); reading a header parses the bytes, for tests and the admin."""

    def __init__(self, data: bytes):
        self._data = data

    def as_bytes(self, unixfrom=False, linesep="\n"):
        # The bytes were generated with LF line ends only, so this is exactly what the
        # email generator would write with `linesep`.
        return self._data if linesep == "\n" else self._data.replace(b"\n", linesep.encode())

    def as_string(self, unixfrom=False, linesep="\n"):
        return self.as_bytes(linesep=linesep).decode()

    def get_charset(self):
        return None

    def __getitem__(self, name):
        value = message_from_bytes(self._data, policy=email_policy.default)[name]
        return None if value is None else str(value).strip()


class PreparedMessage(EmailMultiAlternatives):
    """A campaign message whose MIME bytes were made from its mask's prepared template."""

    prepared: bytes = b""

    def message(self):
        return _PreparedMIME(self.prepared)


class CampaignMessages:
    """Builds each recipient's message of a campaign.

    The body depends only on which interests a recipient has, so each of the (at most 15)
    combinations is rendered once; the personal links are put in by string replacement.
    Turning a message into MIME bytes is most of the cost of a send, so for each
    combination one message is generated with slots for the recipient's address, links,
    Message-ID and date, and each recipient's bytes are that template with the slots
    filled. The first message of each combination is also generated the standard way and
    compared byte for byte; should they ever differ, that combination goes the standard way.
    """

    def __init__(self, campaign: Campaign, sections: list[Section] | None = None):
        self.campaign = campaign
        self.sections = campaign_sections(campaign) if sections is None else sections
        self.mask = sum({section.bit for section in self.sections})
        self.from_email = settings.NEWSLETTER_FROM_EMAIL
        self.institute_name = _institute_name()
        self.preferences_url = absolute_url("newsletter:preferences", token=_TOKEN_SLOT)
        self.unsubscribe_url = absolute_url("newsletter:unsubscribe", token=_TOKEN_SLOT)
        self.boundary = f"=====charhar-{secrets.token_hex(12)}====="
        self._bodies: dict[int, tuple[list[str], list[str]]] = {}
        self._templates: dict[int, list[bytes] | None] = {}

    def wants_any(self, mask: int) -> bool:
        return bool(mask & self.mask)

    def _render(self, mask: int) -> tuple[list[str], list[str]]:
        sections = [section for section in self.sections if section.bit & mask]
        context = {
            "campaign": self.campaign,
            "sections": sections,
            "institute_name": self.institute_name,
            "preferences_url": self.preferences_url,
            "unsubscribe_url": self.unsubscribe_url,
            "site_url": settings.SITE_URL,
        }
        text = render_to_string("newsletter/email/campaign.txt", context)
        html = render_to_string("newsletter/email/campaign.html", context)
        return text.split(_TOKEN_SLOT), html.split(_TOKEN_SLOT)

    def bodies(self, mask: int) -> tuple[list[str], list[str]]:
        mask &= self.mask
        if mask not in self._bodies:
            self._bodies[mask] = self._render(mask)
        return self._bodies[mask]

    def build(
        self,
        *,
        email: str,
        subscriber_pk: int | None,
        mask: int,
        connection=None,
        test=False,
        token=None,
        headers=None,
        cls=EmailMultiAlternatives,
    ) -> EmailMultiAlternatives:
        """The message the standard way (Django generates its MIME when it is sent)."""
        if token is None:
            token = make_subscriber_token(subscriber_pk) if subscriber_pk else "preview"
        text_parts, html_parts = self.bodies(mask)
        unsubscribe_url = self.unsubscribe_url.replace(_TOKEN_SLOT, token)
        subject = self.campaign.subject
        if test:
            subject = _("[Test] %(subject)s") % {"subject": subject}
        message = cls(
            subject=subject,
            body=token.join(text_parts),
            from_email=self.from_email,
            to=[email],
            connection=connection,
            headers={
                # RFC 8058: mail clients offer an unsubscribe button that POSTs to this URL.
                "List-Unsubscribe": f"<{unsubscribe_url}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                **(headers or {}),
            },
        )
        message.attach_alternative(escape(token).join(html_parts), "text/html")
        return message

    def _mime(self, message) -> bytes:
        mime = message.message()
        mime.set_boundary(self.boundary)
        return mime.as_bytes()

    def _template(self, mask: int, email: str, token: str, msgid: str, date: str):
        """The mask's MIME template, checked against the standard way on first use."""
        if mask not in self._templates:
            slots = {"Message-ID": _MSGID_SLOT, "Date": _DATE_SLOT}
            template = _SLOTS.split(
                self._mime(
                    self.build(
                        email=_RECIPIENT_SLOT,
                        subscriber_pk=None,
                        mask=mask,
                        token=_TOKEN_SLOT,
                        headers=slots,
                    )
                )
            )
            standard = self._mime(
                self.build(
                    email=email,
                    subscriber_pk=None,
                    mask=mask,
                    token=token,
                    headers={"Message-ID": msgid, "Date": date},
                )
            )
            filled = self._fill(template, email, token, msgid, date)
            self._templates[mask] = template if filled == standard else None
        return self._templates[mask]

    @staticmethod
    def _fill(template, email, token, msgid, date) -> bytes:
        values = {
            _TOKEN_SLOT.encode(): token.encode(),
            _RECIPIENT_SLOT.encode(): email.encode(),
            _MSGID_SLOT.encode(): msgid.encode(),
            _DATE_SLOT.encode(): date.encode(),
        }
        return b"".join(values[part] if index % 2 else part for index, part in enumerate(template))

    def prepared(
        self, *, email: str, subscriber_pk: int, mask: int, connection=None, date=None
    ) -> EmailMultiAlternatives:
        """The recipient's message, its MIME made from the mask's template when possible."""
        mask &= self.mask
        if not _PLAIN_ADDRESS.match(email):
            return self.build(
                email=email, subscriber_pk=subscriber_pk, mask=mask, connection=connection
            )
        token = make_subscriber_token(subscriber_pk)
        msgid = make_msgid(domain=DNS_NAME)
        date = date or formatdate(localtime=settings.EMAIL_USE_LOCALTIME)
        template = self._template(mask, email, token, msgid, date)
        message = self.build(
            email=email,
            subscriber_pk=subscriber_pk,
            mask=mask,
            connection=connection,
            token=token,
            headers={"Message-ID": msgid, "Date": date},
            cls=PreparedMessage if template else EmailMultiAlternatives,
        )
        if template:
            message.prepared = self._fill(template, email, token, msgid, date)
        return message


def preview_message(campaign: Campaign) -> EmailMultiAlternatives:
    """The campaign as a subscriber with every interest receives it (links not personal)."""
    return CampaignMessages(campaign).build(
        email="subscriber@example.org", subscriber_pk=None, mask=ALL_INTERESTS
    )


def send_test_email(campaign: Campaign, email: str) -> None:
    """Send the all-interests version to `email`, with that address's own links if it is a
    subscriber's."""
    subscriber_pk = Subscriber.objects.with_email(email).values_list("pk", flat=True).first()
    CampaignMessages(campaign).build(
        email=email, subscriber_pk=subscriber_pk, mask=ALL_INTERESTS, test=True
    ).send()


# --- Sending -----------------------------------------------------------------------------

LOCK_STALE_AFTER = datetime.timedelta(minutes=5)

# Errors about one message or address: recorded against that delivery, the batch goes on.
# Anything else raised while sending means the connection is unusable: the run stops.
PER_MESSAGE_ERRORS = (
    smtplib.SMTPRecipientsRefused,
    smtplib.SMTPDataError,
    smtplib.SMTPNotSupportedError,
    ValueError,  # an address or header Django refuses to put in a message
    UnicodeError,
)


class CampaignBusy(Exception):
    """Another process is sending this campaign."""


class SendAborted(Exception):
    """The mail server could not be used; what was sent is recorded, run again to resume."""

    def __init__(self, error, report):
        super().__init__(str(error))
        self.error = error
        self.report = report


@dataclass
class SendReport:
    total: int = 0  # deliveries this run set out to make
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    retryable: int = 0  # failed deliveries another run will try again
    finished: bool = False
    started: float = field(default_factory=time.monotonic)

    @property
    def done(self) -> int:
        return self.sent + self.failed + self.skipped

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    @property
    def rate(self) -> float:
        return self.sent / self.elapsed if self.elapsed else 0.0


def _lock_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _owner_is_dead(owner: str) -> bool:
    """Whether `owner` is a process on this machine that no longer runs."""
    host, _sep, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def acquire_lock(campaign: Campaign, *, now=None) -> bool:
    """Claim the right to send `campaign`: free, ours, its holder died or went silent."""
    now = now or timezone.now()
    owner = _lock_owner()
    free = Q(lock_owner="") | Q(lock_owner=owner) | Q(lock_heartbeat__lt=now - LOCK_STALE_AFTER)
    current = Campaign.objects.filter(pk=campaign.pk).values_list("lock_owner", flat=True).first()
    if current and _owner_is_dead(current):
        free |= Q(lock_owner=current)
    claimed = (
        Campaign.objects.filter(pk=campaign.pk)
        .filter(free)
        .update(lock_owner=owner, lock_heartbeat=now)
    )
    return claimed == 1


def _heartbeat(campaign: Campaign) -> None:
    Campaign.objects.filter(pk=campaign.pk, lock_owner=_lock_owner()).update(
        lock_heartbeat=timezone.now()
    )


def release_lock(campaign: Campaign) -> None:
    Campaign.objects.filter(pk=campaign.pk, lock_owner=_lock_owner()).update(
        lock_owner="", lock_heartbeat=None
    )


def prepare_recipients(campaign: Campaign, sections: list[Section], *, now=None) -> int:
    """Write one pending delivery for each confirmed subscriber the campaign is for; once.

    The list is drawn the first time a campaign is sent and kept: a resumed send goes to the
    same people, however the subscriber list changed in between.
    """
    if campaign.recipients_at:
        return 0
    now = now or timezone.now()
    recipients = (
        Subscriber.objects.confirmed()
        .filter(campaign_interests_q(sections))
        .order_by()
        .annotate(
            _campaign=Value(campaign.pk),
            _status=Value(Delivery.Status.PENDING.value),
            _attempts=Value(0),
            _error=Value(""),
        )
        .values_list("_campaign", "pk", "_status", "_attempts", "_error")
    )
    select_sql, params = recipients.query.sql_with_params()
    quote = connection.ops.quote_name
    columns = ", ".join(
        quote(Delivery._meta.get_field(name).column)
        for name in ("campaign", "subscriber", "status", "attempts", "error")
    )
    # One INSERT … SELECT: the database copies the rows, none pass through Python.
    insert_sql = f"INSERT INTO {quote(Delivery._meta.db_table)} ({columns}) {select_sql}"
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(insert_sql, params)
            count = cursor.rowcount
        campaign.recipients_at = now
        campaign.save(update_fields=["recipients_at", "updated_at"])
    return count


def eligible_deliveries(max_attempts: int) -> Q:
    Status = Delivery.Status
    return Q(status=Status.PENDING) | Q(status=Status.FAILED, attempts__lt=max_attempts)


_WANTS = tuple(f"subscriber__{interest.field}" for interest in Interest)


def send_campaign(
    campaign: Campaign,
    *,
    batch_size: int | None = None,
    max_attempts: int | None = None,
    progress=None,
) -> SendReport:
    """Send `campaign` to every recipient who has not had it yet; safe to run again.

    Each batch goes over one connection of the configured email backend. Accepted messages
    are recorded as sent within moments (see _SentRecorder), and always before the run
    ends, so a run stopped at any point (an exception, Ctrl-C, SIGTERM, a mail server going
    away) leaves exactly the unsent deliveries pending, and the next run sends those. A
    delivery that fails is recorded with its error and tried again by later runs, up to
    `max_attempts` times in all.
    """
    batch_size = batch_size or settings.NEWSLETTER_BATCH_SIZE
    max_attempts = max_attempts or settings.NEWSLETTER_MAX_ATTEMPTS
    report = SendReport()
    if campaign.status == Campaign.Status.SENT:
        report.finished = True
        return report
    if not acquire_lock(campaign):
        raise CampaignBusy(
            _("Another process (%(owner)s) is sending this campaign.")
            % {"owner": Campaign.objects.get(pk=campaign.pk).lock_owner}
        )
    try:
        messages = CampaignMessages(campaign)
        campaign.start_sending()
        prepare_recipients(campaign, messages.sections)
        deliveries = Delivery.objects.filter(campaign=campaign).filter(
            eligible_deliveries(max_attempts)
        )
        report.total = deliveries.count()
        with _fast_commits():
            _send_all(campaign, messages, deliveries, batch_size, max_attempts, report, progress)
        report.retryable = deliveries.count()
        if report.retryable == 0:
            campaign.finish_sending()
            report.finished = True
    finally:
        release_lock(campaign)
    return report


def _send_all(campaign, messages, deliveries, batch_size, max_attempts, report, progress):
    """Walk the deliveries still to make in primary-key order, one batch in memory at once."""
    last_pk = 0
    while True:
        batch = list(
            deliveries.filter(pk__gt=last_pk)
            .order_by("pk")
            .values_list("pk", "subscriber_id", "subscriber__email", "subscriber__status", *_WANTS)[
                :batch_size
            ]
        )
        if not batch:
            return
        last_pk = batch[-1][0]
        _send_batch(messages, batch, report, max_attempts)
        _heartbeat(campaign)
        if progress:
            progress(report)


class _SentRecorder:
    """Records accepted messages as sent, a few at a time.

    Each flush is one UPDATE committed at once. It runs every RECORD_EVERY messages or
    RECORD_INTERVAL seconds, whichever comes first, and when the batch ends for any reason,
    an exception, Ctrl-C or SIGTERM included: a stop that lets Python run leaves exactly the
    unsent deliveries pending. Only a stop that does not (kill -9, power loss) can lose the
    last few records, and those few recipients would get the message again. Committing
    every message instead costs a database round trip each and halves the send rate.
    """

    RECORD_EVERY = 100
    RECORD_INTERVAL = 0.25

    def __init__(self):
        self.pending: list[int] = []
        self.last_flush = time.monotonic()

    def add(self, pk: int) -> None:
        self.pending.append(pk)
        if (
            len(self.pending) >= self.RECORD_EVERY
            or time.monotonic() - self.last_flush >= self.RECORD_INTERVAL
        ):
            self.flush()

    def flush(self) -> None:
        if self.pending:
            sql = (
                f"UPDATE {connection.ops.quote_name(Delivery._meta.db_table)} "  # noqa: S608
                "SET status = %s, sent_at = %s, attempts = attempts + 1, error = '' "
                f"WHERE id IN ({', '.join(['%s'] * len(self.pending))})"
            )
            # Plain SQL: compiling the ORM's UPDATE was a fifth of a send's time.
            with connection.cursor() as cursor:
                cursor.execute(sql, [Delivery.Status.SENT.value, timezone.now(), *self.pending])
            self.pending = []
        self.last_flush = time.monotonic()


@contextlib.contextmanager
def _fast_commits():
    """Commit without waiting for the disk while sending, outside any transaction.

    A commit then survives this process being killed (the database server, or for SQLite
    the operating system, has it) but not the database machine losing power: at worst the
    last fraction of a second of 'sent' records is lost and those few would be sent again.
    Waiting for the disk on every record would cap a send at a few hundred a second.
    """
    if connection.in_atomic_block or connection.vendor not in ("postgresql", "sqlite"):
        yield
        return
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET synchronous_commit TO off")
        else:
            # PERSIST keeps the rollback journal file between commits instead of creating
            # and deleting it each time; it is as safe as the default against a crash.
            cursor.execute("PRAGMA synchronous")
            synchronous = int(cursor.fetchone()[0])
            cursor.execute("PRAGMA journal_mode")
            journal_mode = cursor.fetchone()[0]
            cursor.execute("PRAGMA synchronous = OFF")
            if journal_mode.lower() == "delete":
                cursor.execute("PRAGMA journal_mode = PERSIST")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("RESET synchronous_commit")
            else:
                cursor.execute(f"PRAGMA synchronous = {synchronous}")
                if journal_mode.lower() == "delete":
                    cursor.execute("PRAGMA journal_mode = DELETE")


def _record_failure(pk: int, error: BaseException) -> None:
    text = f"{type(error).__name__}: {error}"[:2000]
    Delivery.objects.filter(pk=pk).update(
        status=Delivery.Status.FAILED, attempts=F("attempts") + 1, error=text
    )


def _send_batch(messages: CampaignMessages, batch, report: SendReport, max_attempts: int):
    skipped = []
    sendable = []
    for pk, subscriber_pk, email, status, *wants in batch:
        mask = interest_mask(wants)
        # Someone who unsubscribed or changed interests since the list was drawn is spared.
        if status != Subscriber.Status.CONFIRMED or not messages.wants_any(mask):
            skipped.append(pk)
        else:
            sendable.append((pk, subscriber_pk, email, mask))
    if skipped:
        Delivery.objects.filter(pk__in=skipped).update(status=Delivery.Status.SKIPPED)
        report.skipped += len(skipped)
    if not sendable:
        return
    date = formatdate(localtime=settings.EMAIL_USE_LOCALTIME)
    connection = get_connection()
    try:
        connection.open()
    except Exception as exc:
        raise SendAborted(exc, report) from exc
    recorder = _SentRecorder()
    try:
        for pk, subscriber_pk, email, mask in sendable:
            try:
                message = messages.prepared(
                    email=email,
                    subscriber_pk=subscriber_pk,
                    mask=mask,
                    connection=connection,
                    date=date,
                )
                accepted = connection.send_messages([message])
            except PER_MESSAGE_ERRORS as exc:
                _record_failure(pk, exc)
                report.failed += 1
                continue
            except Exception as exc:
                # Whether the server took this one is unknown to the protocol; it failed
                # in transit, so it counts as an attempt and is retried, at most max times.
                _record_failure(pk, exc)
                report.failed += 1
                raise SendAborted(exc, report) from exc
            if accepted:
                recorder.add(pk)
                report.sent += 1
            else:
                _record_failure(pk, RuntimeError("The email backend did not send the message."))
                report.failed += 1
    finally:
        recorder.flush()
        # A connection that broke may fail to close too.
        with contextlib.suppress(Exception):
            connection.close()
