"""Admin for the institute's experts."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import Expert


@admin.register(Expert)
class ExpertAdmin(admin.ModelAdmin):
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
