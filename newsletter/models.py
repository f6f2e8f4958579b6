"""Newsletter subscribers: who asked for which emails, when they consented and how; campaigns
(the issues sent to them) and one delivery row per recipient of each campaign."""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from charhar.models import TimeStampedModel

EMAIL_MAX_LENGTH = 320


def normalize_email(value: str) -> str:
    """Trim the address and lower-case its domain; the local part is the owner's to spell."""
    value = (value or "").strip()
    local, sep, domain = value.rpartition("@")
    if not sep:
        return value
    return f"{local}@{domain.lower()}"


class SubscriberQuerySet(models.QuerySet):
    def confirmed(self):
        """The only subscribers a newsletter may ever be sent to."""
        return self.filter(status=Subscriber.Status.CONFIRMED)

    def with_email(self, email: str):
        # Lower() matches the unique expression index, so the look-up is an index probe.
        return self.alias(email_lower=Lower("email")).filter(
            email_lower=normalize_email(email).lower()
        )


class Interest(models.TextChoices):
    """What a subscriber may ask to receive; each is a `wants_*` field of Subscriber."""

    NEWS = "news", _("News")
    EVENTS = "events", _("Events")
    OPINION = "opinion", _("Opinion")
    PUBLICATIONS = "publications", _("Publications")

    @property
    def field(self) -> str:
        return f"wants_{self.value}"


class Subscriber(TimeStampedModel):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending confirmation")
        CONFIRMED = "confirmed", _("Confirmed")
        UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")

    class Source(models.TextChoices):
        SIGNUP_PAGE = "signup_page", _("Sign-up page")
        STAY_INFORMED = "stay_informed", _("Stay Informed form")
        ADMIN = "admin", _("Added by staff")
        IMPORT = "import", _("Imported")

    email = models.EmailField(
        _("email"), max_length=EMAIL_MAX_LENGTH, validators=[EmailValidator()]
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    wants_news = models.BooleanField(_("news"), default=True)
    wants_events = models.BooleanField(_("events"), default=True)
    wants_opinion = models.BooleanField(_("opinion"), default=True)
    wants_publications = models.BooleanField(_("publications"), default=True)
    consent_at = models.DateTimeField(_("consent given"), null=True, blank=True)
    consent_source = models.CharField(
        _("consent source"), max_length=20, choices=Source.choices, blank=True
    )
    confirmation_sent_at = models.DateTimeField(_("confirmation sent"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    unsubscribed_at = models.DateTimeField(_("unsubscribed"), null=True, blank=True)

    objects = SubscriberQuerySet.as_manager()

    INTEREST_FIELDS = ("wants_news", "wants_events", "wants_opinion", "wants_publications")

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("subscriber")
        verbose_name_plural = _("subscribers")
        permissions = [("export_subscriber", _("Can export confirmed subscribers as CSV"))]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="subscriber_email_unique_ci",
                violation_error_message=_("This address is already subscribed."),
            ),
        ]

    def __str__(self):
        return self.email

    @property
    def interests(self) -> list[str]:
        return [
            str(self._meta.get_field(name).verbose_name)
            for name in self.INTEREST_FIELDS
            if getattr(self, name)
        ]

    @property
    def interest_values(self) -> list[str]:
        return [interest.value for interest in Interest if getattr(self, interest.field)]

    def set_interests(self, values) -> None:
        """Tick exactly the interests in `values` (Interest values); not saved."""
        for interest in Interest:
            setattr(self, interest.field, interest.value in values)

    def update_interests(self, values) -> None:
        self.set_interests(values)
        self.save(update_fields=[*self.INTEREST_FIELDS, "updated_at"])

    def clean(self):
        self.email = normalize_email(self.email)
        if self.email and Subscriber.objects.with_email(self.email).exclude(pk=self.pk).exists():
            raise ValidationError(
                {"email": _("A subscriber with this address (in any letter case) already exists.")}
            )

    def validate_constraints(self, exclude=None):
        # clean() reports the case-insensitive duplicate on the email field itself.
        super().validate_constraints(exclude={*(exclude or ()), "email"})

    def save(self, *args, **kwargs):
        self.email = normalize_email(self.email)
        super().save(*args, **kwargs)

    def set_status(self, status: str, *, now=None) -> None:
        """Move to `status`, keeping the consent record's timestamps in step (not saved)."""
        now = now or timezone.now()
        self.status = status
        if status == self.Status.CONFIRMED:
            self.confirmed_at = now
            self.unsubscribed_at = None
        elif status == self.Status.UNSUBSCRIBED:
            self.unsubscribed_at = now

    def confirm(self) -> None:
        self.set_status(self.Status.CONFIRMED)
        self.save(update_fields=["status", "confirmed_at", "unsubscribed_at", "updated_at"])

    def unsubscribe(self) -> None:
        self.set_status(self.Status.UNSUBSCRIBED)
        self.save(update_fields=["status", "unsubscribed_at", "updated_at"])

    def request_confirmation(self, *, now=None) -> bool:
        """Note that a confirmation email is due, unless one went out within the resend interval.

        Returns whether one is due (the caller sends it); saves nothing. A confirmed subscriber
        needs none.
        """
        now = now or timezone.now()
        if self.status == self.Status.CONFIRMED:
            return False
        interval = datetime.timedelta(seconds=settings.NEWSLETTER_RESEND_INTERVAL)
        if self.confirmation_sent_at and self.confirmation_sent_at > now - interval:
            return False
        self.confirmation_sent_at = now
        return True


class CampaignQuerySet(models.QuerySet):
    def with_delivery_counts(self):
        """Annotate sent, failed and pending counts (the admin's list shows them)."""
        Status = Delivery.Status
        return self.annotate(
            sent_count=models.Count("deliveries", filter=Q(deliveries__status=Status.SENT)),
            failed_count=models.Count("deliveries", filter=Q(deliveries__status=Status.FAILED)),
            pending_count=models.Count("deliveries", filter=Q(deliveries__status=Status.PENDING)),
        )


class Campaign(TimeStampedModel):
    """One issue of the newsletter: a subject, an intro and the content it announces."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        QUEUED = "queued", _("Queued for sending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")

    subject = models.CharField(_("subject"), max_length=200)
    intro = models.TextField(
        _("introduction"), blank=True, help_text=_("Plain text; blank lines start paragraphs.")
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    articles = models.ManyToManyField(
        "articles.Article", blank=True, related_name="campaigns", verbose_name=_("articles")
    )
    publications = models.ManyToManyField(
        "publications.Publication",
        blank=True,
        related_name="campaigns",
        verbose_name=_("publications"),
    )
    content_until = models.DateTimeField(
        _("content picked up to"),
        null=True,
        blank=True,
        help_text=_("The next campaign picks what was published after this time."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    queued_at = models.DateTimeField(_("queued"), null=True, blank=True)
    started_at = models.DateTimeField(_("sending started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("sending finished"), null=True, blank=True)
    recipients_at = models.DateTimeField(
        _("recipients fixed"),
        null=True,
        blank=True,
        help_text=_("When the list of recipients was drawn; resumed sends keep that list."),
    )
    # Which process is sending (host:pid) and when it last showed it was alive.
    lock_owner = models.CharField(_("sending process"), max_length=200, blank=True)
    lock_heartbeat = models.DateTimeField(_("sending process last seen"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    objects = CampaignQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")

    def __str__(self):
        return self.subject

    def clean(self):
        # A subject is a mail header: a line break in it would start another header.
        if "\r" in self.subject or "\n" in self.subject:
            raise ValidationError({"subject": _("The subject must be a single line.")})

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT

    def queue(self, *, now=None) -> None:
        self.status = self.Status.QUEUED
        self.queued_at = now or timezone.now()
        self.save(update_fields=["status", "queued_at", "updated_at"])

    def start_sending(self, *, now=None) -> None:
        self.status = self.Status.SENDING
        self.started_at = self.started_at or now or timezone.now()
        self.save(update_fields=["status", "started_at", "updated_at"])

    def finish_sending(self, *, now=None) -> None:
        self.status = self.Status.SENT
        self.finished_at = now or timezone.now()
        self.save(update_fields=["status", "finished_at", "updated_at"])


class Delivery(models.Model):
    """One campaign to one subscriber: whether it went out, and why not if it did not."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped")

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("campaign")
    )
    subscriber = models.ForeignKey(
        Subscriber,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("subscriber"),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    error = models.TextField(_("last error"), blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        indexes = [models.Index(fields=["campaign", "status"], name="delivery_campaign_status")]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "subscriber"], name="delivery_once_per_subscriber"
            ),
        ]

    def __str__(self):
        return f"{self.campaign} → {self.subscriber_id}"
