"""Admin for newsletter subscribers: the consent record is shown, not typed."""

from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import Subscriber


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    list_display = [
        "email",
        "status",
        "interest_list",
        "consent_at",
        "consent_source",
        "confirmed_at",
    ]
    list_filter = ["status", "consent_source", *Subscriber.INTEREST_FIELDS]
    search_fields = ["email"]
    date_hierarchy = "created_at"
    # When and how someone agreed is evidence; staff read it, the code writes it.
    readonly_fields = [
        "consent_at",
        "confirmation_sent_at",
        "confirmed_at",
        "unsubscribed_at",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (None, {"fields": ["email", "status"]}),
        (_("Interests"), {"fields": list(Subscriber.INTEREST_FIELDS)}),
        (
            _("Consent"),
            {
                "fields": [
                    "consent_source",
                    "consent_at",
                    "confirmation_sent_at",
                    "confirmed_at",
                    "unsubscribed_at",
                    "created_at",
                    "updated_at",
                ]
            },
        ),
    ]

    def get_changeform_initial_data(self, request):
        return {
            "consent_source": Subscriber.Source.ADMIN,
            **super().get_changeform_initial_data(request),
        }

    @admin.display(description=_("interests"))
    def interest_list(self, obj):
        return ", ".join(obj.interests)

    def save_model(self, request, obj, form, change):
        now = timezone.now()
        if not change and obj.consent_at is None:
            obj.consent_at = now
        # Keep the consent record in step with a status staff set by hand.
        if "status" in form.changed_data:
            obj.set_status(obj.status, now=now)
        super().save_model(request, obj, form, change)
