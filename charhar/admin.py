"""Admin for the site-wide content: taxonomy, offices, site settings, pages, menus and
redirects; the revisions shared by every content admin."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from .editorial import import_redirects
from .models import Menu, MenuItem, Office, Page, Redirect, Region, SiteSettings, Topic
from .widgets import RichTextarea


class RevisionAdmin(SimpleHistoryAdmin):
    """Every change kept with who, when and what changed; any version can be restored.

    Restoring goes through the model admin's own form and `save_model`, so it obeys the
    same rules as editing; it needs the right to change the object as it stands now.
    """

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            current = self.get_object(request, unquote(object_id))
            if current is None or not self.has_change_permission(request, current):
                raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)


class LookupOnlyMixin:
    """Contributors may search these rows (to file their drafts) but have nothing to do on
    their pages: the admin index and menu leave them out."""

    def has_module_permission(self, request):
        return super().has_module_permission(request) and (
            self.has_add_permission(request) or self.has_change_permission(request)
        )


class TaxonomyAdmin(LookupOnlyMixin, admin.ModelAdmin):
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
class SiteSettingsAdmin(RevisionAdmin):
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
class PageAdmin(RevisionAdmin):
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

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "body":
            kwargs["widget"] = RichTextarea()
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def view_on_site(self, obj):
        if obj.is_published:
            return obj.get_absolute_url()
        return reverse("preview:page", args=[obj.pk])


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


class RedirectImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "Two columns: the old address and the new one (a path such as /experts/ or a "
            "full URL), one redirect a line; a header line is optional. Existing old "
            "addresses are updated."
        ),
    )
    dry_run = forms.BooleanField(
        label=_("Check only"), required=False, help_text=_("Validate the file, save nothing.")
    )

    MAX_BYTES = 2 * 1024 * 1024

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > self.MAX_BYTES:
            raise forms.ValidationError(_("The file is larger than 2 MB."))
        try:
            return upload.read().decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise forms.ValidationError(_("Save the file as UTF-8 CSV.")) from error


@admin.register(Redirect)
class RedirectAdmin(admin.ModelAdmin):
    """Redirects staff add by hand or import from a CSV file; renames add their own.

    Saving runs the model's validation, which refuses a redirect that would lead back to
    its own address, directly or through other redirects.
    """

    list_display = ["old_path", "destination", "hits", "created_at"]
    search_fields = ["old_path", "new_path"]
    list_filter = ["content_type"]
    date_hierarchy = "created_at"
    readonly_fields = ["hits", "created_at", "updated_at"]
    fields = ["old_path", "new_path", "content_type", "object_id", "hits", "created_at"]
    change_list_template = "admin/charhar/redirect/change_list.html"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("content_type")

    def get_urls(self):
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="charhar_redirect_import",
            ),
            *super().get_urls(),
        ]

    def import_view(self, request):
        if not self.has_add_permission(request) or not self.has_change_permission(request):
            raise PermissionDenied
        form = RedirectImportForm(request.POST or None, request.FILES or None)
        result = None
        if request.method == "POST" and form.is_valid():
            dry_run = form.cleaned_data["dry_run"]
            result = import_redirects(form.cleaned_data["file"], dry_run=dry_run)
            if not result.errors and not dry_run:
                self.message_user(
                    request,
                    _("Imported redirects: %(created)d new, %(updated)d updated.")
                    % {"created": result.created, "updated": result.updated},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:charhar_redirect_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Import redirects"),
            "opts": self.model._meta,
            "form": form,
            "result": result,
        }
        return TemplateResponse(request, "admin/charhar/redirect/import.html", context)

    @admin.display(description=_("new address"))
    def destination(self, obj):
        if obj.object_id:
            return f"{obj.content_type.name} #{obj.object_id}" if obj.content_type else ""
        return obj.new_path
