"""Admin for articles: the byline and event details edited inline, scheduled pieces flagged."""

from django.contrib import admin
from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _

from charhar.admin import TaxonomyAdmin

from .models import Article, ArticleAuthor, EventDetails, Section


@admin.register(Section)
class SectionAdmin(TaxonomyAdmin):
    pass


class ArticleAuthorInline(admin.TabularInline):
    """The institute's experts in byline order."""

    model = ArticleAuthor
    fields = ["expert", "order"]
    autocomplete_fields = ["expert"]
    extra = 1


class EventDetailsInline(admin.StackedInline):
    model = EventDetails
    fields = [("starts_at", "ends_at"), "time_zone", "venue", "city", "registration_url"]
    max_num = 1
    extra = 0


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "state",
        "kind",
        "section",
        "author_names",
        "published_at",
        "is_featured",
    ]
    list_filter = ["status", "kind", "section", "topics", "regions", "is_featured"]
    search_fields = ["title", "slug", "summary", "byline", "legacy_url"]
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["section", "topics", "regions"]
    date_hierarchy = "published_at"
    readonly_fields = ["created_at", "updated_at"]
    inlines = [ArticleAuthorInline, EventDetailsInline]
    fieldsets = [
        (None, {"fields": ["title", "slug", "byline", "summary", "body"]}),
        (_("Hero image"), {"fields": ["hero_image", "hero_alt", "hero_caption", "hero_credit"]}),
        (_("Classification"), {"fields": ["kind", "section", "topics", "regions", "tags"]}),
        (
            _("Publishing"),
            {"fields": ["status", "published_at", "is_featured", "created_at", "updated_at"]},
        ),
        (
            _("Source and legacy address"),
            {"fields": ["source_name", "source_url", "legacy_url"], "classes": ["collapse"]},
        ),
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("section")
            .prefetch_related(
                Prefetch(
                    "authorships",
                    queryset=ArticleAuthor.objects.select_related("expert").order_by("order", "pk"),
                )
            )
        )

    @admin.display(description=_("state"), ordering="status")
    def state(self, obj):
        """The status, except that a published piece still waiting for its time is “Scheduled”."""
        if obj.is_scheduled:
            return _("Scheduled")
        return obj.get_status_display()

    @admin.display(description=_("authors"))
    def author_names(self, obj):
        return ", ".join(expert.name for expert in obj.ordered_authors) or obj.byline


@admin.register(EventDetails)
class EventDetailsAdmin(admin.ModelAdmin):
    """Events by date, for staff planning the calendar; details are also edited on the article."""

    list_display = ["article", "starts_at", "ends_at", "city", "venue"]
    list_filter = ["city", "article__status"]
    search_fields = ["article__title", "venue", "city"]
    autocomplete_fields = ["article"]
    date_hierarchy = "starts_at"
    fields = [
        "article",
        ("starts_at", "ends_at"),
        "time_zone",
        "venue",
        "city",
        "registration_url",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("article")
