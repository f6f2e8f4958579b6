"""Admin for the institute's experts: full bios in the rich-text editor, with revisions."""

from django.contrib import admin
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from charhar.admin import LookupOnlyMixin, RevisionAdmin
from charhar.widgets import RichTextarea

from .models import Expert


@admin.register(Expert)
class ExpertAdmin(LookupOnlyMixin, RevisionAdmin):
    list_display = ["name", "title", "affiliation", "order", "is_active"]
    list_editable = ["order", "is_active"]
    list_filter = ["is_active", "topics", "regions"]
    search_fields = ["name", "slug", "title", "affiliation", "short_bio"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["topics", "regions"]
    readonly_fields = ["created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "title", "affiliation", "photo"]}),
        (_("Biography"), {"fields": ["short_bio", "bio"]}),
        (_("Expertise"), {"fields": ["topics", "regions"]}),
        (_("Listing"), {"fields": ["order", "is_active", "created_at", "updated_at"]}),
    ]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "bio":
            kwargs["widget"] = RichTextarea()
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def view_on_site(self, obj):
        if obj.is_active:
            return obj.get_absolute_url()
        return reverse("preview:expert", args=[obj.pk])
