"""Newsletter subscribers: who asked for which emails, when they consented and how."""

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import models
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
        return self.filter(email__iexact=normalize_email(email))


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
