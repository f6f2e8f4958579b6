"""Newsletter operations across models: sign-up, confirmation email, a campaign's content, its
messages and its sending. Views, admin actions, tasks and commands all call these."""

import contextlib
import csv
import datetime
import itertools
import os
import smtplib
import socket
import time
from dataclasses import dataclass, field
from html import escape

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, transaction
from django.db.models import F, Q
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
                send_confirmation.enqueue(subscriber.pk)
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
        send_confirmation.enqueue(subscriber.pk)


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

_PERSONAL_SLOT = "PERSONALLINKSLOT"  # where each recipient's token goes in the rendered body


class CampaignMessages:
    """Builds each recipient's message of a campaign.

    The body depends only on which interests a recipient has, so each of the (at most 15)
    combinations is rendered once; the personal links are put in by string replacement.
    """

    def __init__(self, campaign: Campaign, sections: list[Section] | None = None):
        self.campaign = campaign
        self.sections = campaign_sections(campaign) if sections is None else sections
        self.mask = sum({section.bit for section in self.sections})
        self.from_email = settings.NEWSLETTER_FROM_EMAIL
        self.institute_name = _institute_name()
        self.preferences_url = absolute_url("newsletter:preferences", token=_PERSONAL_SLOT)
        self.unsubscribe_url = absolute_url("newsletter:unsubscribe", token=_PERSONAL_SLOT)
        self._bodies: dict[int, tuple[list[str], list[str]]] = {}

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
        return text.split(_PERSONAL_SLOT), html.split(_PERSONAL_SLOT)

    def bodies(self, mask: int) -> tuple[list[str], list[str]]:
        mask &= self.mask
        if mask not in self._bodies:
            self._bodies[mask] = self._render(mask)
        return self._bodies[mask]

    def build(
        self, *, email: str, subscriber_pk: int | None, mask: int, connection=None, test=False
    ) -> EmailMultiAlternatives:
        token = make_subscriber_token(subscriber_pk) if subscriber_pk else "preview"
        text_parts, html_parts = self.bodies(mask)
        unsubscribe_url = self.unsubscribe_url.replace(_PERSONAL_SLOT, token)
        subject = self.campaign.subject
        if test:
            subject = _("[Test] %(subject)s") % {"subject": subject}
        message = EmailMultiAlternatives(
            subject=subject,
            body=token.join(text_parts),
            from_email=self.from_email,
            to=[email],
            connection=connection,
            headers={
                # RFC 8058: mail clients offer an unsubscribe button that POSTs to this URL.
                "List-Unsubscribe": f"<{unsubscribe_url}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
        )
        message.attach_alternative(escape(token).join(html_parts), "text/html")
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


def _chunks(iterable, size):
    iterator = iter(iterable)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


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
        .order_by("pk")
        .values_list("pk", flat=True)
        .iterator(chunk_size=5000)
    )
    count = 0
    with transaction.atomic():
        for chunk in _chunks(recipients, 5000):
            Delivery.objects.bulk_create(
                [Delivery(campaign=campaign, subscriber_id=pk) for pk in chunk],
                ignore_conflicts=True,
            )
            count += len(chunk)
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

    Each batch goes over one connection of the configured email backend. Each message is
    recorded as sent the moment the backend accepts it, so a run that is stopped at any
    point (an exception, Ctrl-C, a mail server going away) leaves exactly the unsent
    deliveries pending, and the next run sends those. A delivery that fails is recorded
    with its error and tried again by later runs, up to `max_attempts` times in all.
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
        last_pk = 0
        while True:
            batch = list(
                deliveries.filter(pk__gt=last_pk)
                .order_by("pk")
                .values_list(
                    "pk", "subscriber_id", "subscriber__email", "subscriber__status", *_WANTS
                )[:batch_size]
            )
            if not batch:
                break
            last_pk = batch[-1][0]
            _send_batch(messages, batch, report, max_attempts)
            _heartbeat(campaign)
            if progress:
                progress(report)
        report.retryable = deliveries.count()
        if report.retryable == 0:
            campaign.finish_sending()
            report.finished = True
    finally:
        release_lock(campaign)
    return report


def _record_sent(pks: list[int]) -> None:
    Delivery.objects.filter(pk__in=pks).update(
        status=Delivery.Status.SENT, sent_at=timezone.now(), attempts=F("attempts") + 1, error=""
    )


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
    connection = get_connection()
    try:
        connection.open()
    except Exception as exc:
        raise SendAborted(exc, report) from exc
    try:
        for pk, subscriber_pk, email, mask in sendable:
            message = messages.build(
                email=email, subscriber_pk=subscriber_pk, mask=mask, connection=connection
            )
            try:
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
                _record_sent([pk])
                report.sent += 1
            else:
                _record_failure(pk, RuntimeError("The email backend did not send the message."))
                report.failed += 1
    finally:
        # A connection that broke may fail to close too.
        with contextlib.suppress(Exception):
            connection.close()
