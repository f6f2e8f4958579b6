"""Admin for the newsletter: subscribers (the consent record is shown, not typed) and
campaigns (preview, test send, queued sending, delivery counts and failed addresses)."""

from email import message_from_bytes

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import services, tasks
from .models import Campaign, Delivery, Subscriber


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
    actions = ["unsubscribe_selected"]
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

    def get_urls(self):
        return [
            path(
                "export/",
                self.admin_site.admin_view(self.export_view),
                name="newsletter_subscriber_export",
            ),
            *super().get_urls(),
        ]

    def has_export_permission(self, request) -> bool:
        return request.user.has_perm("newsletter.export_subscriber")

    def export_view(self, request):
        """Every confirmed subscriber as CSV, streamed: 100,000 rows never sit in memory."""
        if not self.has_export_permission(request):
            raise PermissionDenied
        filename = f"subscribers-confirmed-{timezone.localdate():%Y-%m-%d}.csv"
        return StreamingHttpResponse(
            services.confirmed_subscribers_csv(),
            content_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

    def changelist_view(self, request, extra_context=None):
        counts = dict(Subscriber.objects.order_by().values_list("status").annotate(n=Count("pk")))
        extra_context = {
            **(extra_context or {}),
            "status_counts": [
                (label, counts.get(value, 0)) for value, label in Subscriber.Status.choices
            ],
            "can_export": self.has_export_permission(request),
        }
        return super().changelist_view(request, extra_context=extra_context)

    def get_changeform_initial_data(self, request):
        return {
            "consent_source": Subscriber.Source.ADMIN,
            **super().get_changeform_initial_data(request),
        }

    @admin.display(description=_("interests"))
    def interest_list(self, obj):
        return ", ".join(obj.interests)

    @admin.action(description=_("Unsubscribe selected subscribers"), permissions=["change"])
    def unsubscribe_selected(self, request, queryset):
        count = 0
        for subscriber in queryset.exclude(status=Subscriber.Status.UNSUBSCRIBED):
            subscriber.unsubscribe()
            count += 1
        self.message_user(
            request,
            ngettext(
                "%(count)d subscriber unsubscribed.", "%(count)d subscribers unsubscribed.", count
            )
            % {"count": count},
            messages.SUCCESS,
        )

    def save_model(self, request, obj, form, change):
        now = timezone.now()
        if not change and obj.consent_at is None:
            obj.consent_at = now
        # Keep the consent record in step with a status staff set by hand.
        if "status" in form.changed_data:
            obj.set_status(obj.status, now=now)
        super().save_model(request, obj, form, change)


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = [
        "subject",
        "status",
        "created_at",
        "finished_at",
        "sent_count",
        "failed_count",
        "pending_count",
    ]
    list_filter = ["status"]
    search_fields = ["subject"]
    autocomplete_fields = ["articles", "publications"]
    actions = ["queue_for_sending", "send_test_to_me", "refresh_content"]
    fields = ["subject", "intro", "articles", "publications"]
    status_fields = [
        "status",
        "content_until",
        "created_by",
        "queued_at",
        "started_at",
        "finished_at",
        "recipients_at",
        "last_error",
        "failed_deliveries",
        "preview_link",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).with_delivery_counts()

    def get_fields(self, request, obj=None):
        return [*self.fields, *self.status_fields] if obj else self.fields

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        if not obj.is_draft:
            # What went out is the record of what was sent: no edits after queueing.
            return [*self.fields, *self.status_fields]
        return self.status_fields

    @admin.display(description=_("sent"), ordering="sent_count")
    def sent_count(self, obj):
        return obj.sent_count

    @admin.display(description=_("failed"), ordering="failed_count")
    def failed_count(self, obj):
        return obj.failed_count

    @admin.display(description=_("pending"), ordering="pending_count")
    def pending_count(self, obj):
        return obj.pending_count

    @admin.display(description=_("failed addresses"))
    def failed_deliveries(self, obj):
        failed = (
            obj.deliveries.filter(status=Delivery.Status.FAILED)
            .select_related("subscriber")
            .order_by("pk")[:50]
        )
        if not failed:
            return "—"
        return format_html_join(
            "\n",
            "<div>{} ({} × {}): {}</div>",
            ((d.subscriber.email, d.attempts, _("tried"), d.error) for d in failed),
        )

    @admin.display(description=_("preview"))
    def preview_link(self, obj):
        url = reverse("admin:newsletter_campaign_preview", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Preview the email"))

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        campaign = form.instance
        # A new campaign with no content chosen gets what was published since the last one.
        if not change and not campaign.articles.exists() and not campaign.publications.exists():
            services.pick_content(campaign)

    def get_urls(self):
        return [
            path(
                "<int:pk>/preview/",
                self.admin_site.admin_view(self.preview_view),
                name="newsletter_campaign_preview",
            ),
            *super().get_urls(),
        ]

    def preview_view(self, request, pk):
        """The campaign exactly as the email is built: headers, HTML and plain-text parts."""
        campaign = get_object_or_404(Campaign, pk=pk)
        if not self.has_view_permission(request, campaign):
            raise PermissionDenied
        parsed = message_from_bytes(services.preview_message(campaign).message().as_bytes())
        parts = {"text/plain": "", "text/html": ""}
        for part in parsed.walk():
            if part.get_content_type() in parts and not parts[part.get_content_type()]:
                charset = part.get_content_charset() or "utf-8"
                parts[part.get_content_type()] = part.get_payload(decode=True).decode(charset)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": campaign,
            "title": _("Preview: %(subject)s") % {"subject": campaign.subject},
            "headers": [
                (name, parsed[name])
                for name in (
                    "Subject",
                    "From",
                    "To",
                    "List-Unsubscribe",
                    "List-Unsubscribe-Post",
                )
            ],
            "html_part": parts["text/html"],
            "text_part": parts["text/plain"],
        }
        return TemplateResponse(request, "admin/newsletter/campaign/preview.html", context)

    @admin.action(description=_("Send or resume selected campaigns (queued for the worker)"))
    def queue_for_sending(self, request, queryset):
        queued = 0
        # A campaign already sending is queued again to resume it (after a worker was
        # stopped, say); the campaign's lock keeps two workers from sending it at once.
        resumable = [Campaign.Status.DRAFT, Campaign.Status.QUEUED, Campaign.Status.SENDING]
        for campaign in queryset.filter(status__in=resumable):
            if campaign.is_draft:
                campaign.queue()
            tasks.send_campaign.enqueue(campaign.pk)
            queued += 1
        self.message_user(
            request,
            ngettext(
                "%(count)d campaign queued; the task worker sends it.",
                "%(count)d campaigns queued; the task worker sends them.",
                queued,
            )
            % {"count": queued},
            messages.SUCCESS if queued else messages.WARNING,
        )

    @admin.action(description=_("Send a test of selected campaigns to me"))
    def send_test_to_me(self, request, queryset):
        if not request.user.email:
            self.message_user(request, _("Your user account has no email address."), messages.ERROR)
            return
        for campaign in queryset:
            tasks.send_test.enqueue(campaign.pk, request.user.email)
        self.message_user(
            request,
            _("A test email is queued for %(email)s.") % {"email": request.user.email},
            messages.SUCCESS,
        )

    @admin.action(description=_("Pick content again (drafts only)"))
    def refresh_content(self, request, queryset):
        count = 0
        for campaign in queryset.filter(status=Campaign.Status.DRAFT):
            services.pick_content(campaign)
            count += 1
        self.message_user(
            request,
            ngettext(
                "Content picked again for %(count)d campaign.",
                "Content picked again for %(count)d campaigns.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )
