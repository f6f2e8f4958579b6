"""Admin for the site-wide content: taxonomy, offices, site settings, pages and menus."""

from django.contrib import admin
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .models import Menu, MenuItem, Office, Page, Redirect, Region, SiteSettings, Topic


class TaxonomyAdmin(admin.ModelAdmin):
    """Shared by every `TaxonomyModel` (topics, regions, sections, series)."""

    list_display = ["name", "slug", "order"]
    list_editable = ["order"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}
    fields = ["name", "slug", "description", "order"]


@admin.register(Topic)
class TopicAdmin(TaxonomyAdmin):
    pass


@admin.register(Region)
class RegionAdmin(TaxonomyAdmin):
    pass


@admin.register(Office)
class OfficeAdmin(admin.ModelAdmin):
    list_display = ["city", "phone", "email", "order"]
    list_editable = ["order"]
    search_fields = ["city", "address", "phone", "email"]
    prepopulated_fields = {"slug": ["city"]}
    fields = ["city", "slug", "address", "phone", "email", "order"]


@admin.register(SiteSettings)
class SiteSettingsAdmin(admin.ModelAdmin):
    """The one settings row: no list, no second row, no deleting it."""

    fieldsets = [
        (
            _("Institute"),
            {
                "fields": [
                    "institute_name",
                    "tagline",
                    "chairman_quote",
                    "chairman_attribution",
                    "footer_text",
                ]
            },
        ),
        (_("Contact"), {"fields": ["phone", "fax", "email"]}),
        (
            _("Social networks"),
            {
                "fields": [
                    ("twitter_url", "twitter_handle"),
                    ("facebook_url", "facebook_name"),
                    "linkedin_url",
                    "youtube_url",
                    "soundcloud_url",
                    "instagram_url",
                ]
            },
        ),
    ]

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not SiteSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        # Templates read the row on every page; without it the site falls back to defaults.
        return False

    def changelist_view(self, request, extra_context=None):
        """A list of one row is a detour: go straight to that row, or to adding it."""
        settings = SiteSettings.objects.only("pk").first()
        opts = self.model._meta
        if settings is None:
            url = reverse(f"admin:{opts.app_label}_{opts.model_name}_add")
        else:
            url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[settings.pk])
        return HttpResponseRedirect(url)


@admin.register(Page)
class PageAdmin(admin.ModelAdmin):
    list_display = ["title", "slug", "is_published", "order", "updated_at"]
    list_editable = ["is_published", "order"]
    list_filter = ["is_published"]
    search_fields = ["title", "slug", "summary", "body"]
    prepopulated_fields = {"slug": ["title"]}
    date_hierarchy = "updated_at"
    fields = [
        "title",
        "slug",
        "summary",
        "body",
        "order",
        "is_published",
        "created_at",
        "updated_at",
    ]
    readonly_fields = ["created_at", "updated_at"]


class MenuItemInline(admin.TabularInline):
    model = MenuItem
    fields = ["label", "page", "url", "description", "order", "parent"]
    autocomplete_fields = ["page", "parent"]
    extra = 1


@admin.register(Menu)
class MenuAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "item_count"]
    ordering = ["name"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MenuItemInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(item_count=Count("items"))

    @admin.display(description=_("items"), ordering="item_count")
    def item_count(self, obj):
        return obj.item_count


@admin.register(MenuItem)
class MenuItemAdmin(admin.ModelAdmin):
    list_display = ["label", "menu", "parent", "link", "order"]
    list_filter = ["menu"]
    search_fields = ["label", "url", "description", "page__title"]
    autocomplete_fields = ["menu", "parent", "page"]
    fields = ["menu", "parent", "label", "page", "url", "description", "order"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("menu", "parent", "page")

    @admin.display(description=_("link"))
    def link(self, obj):
        return obj.href


@admin.register(Redirect)
class RedirectAdmin(admin.ModelAdmin):
    list_display = ["old_path", "destination", "hits", "created_at"]
    search_fields = ["old_path", "new_path"]
    list_filter = ["content_type"]
    date_hierarchy = "created_at"
    readonly_fields = ["hits", "created_at", "updated_at"]
    fields = ["old_path", "new_path", "content_type", "object_id", "hits", "created_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("content_type")

    @admin.display(description=_("new address"))
    def destination(self, obj):
        if obj.object_id:
            return f"{obj.content_type.name} #{obj.object_id}" if obj.content_type else ""
        return obj.new_path
