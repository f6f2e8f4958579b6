"""Admin for publications and their series; contributors are edited inline; with revisions."""

from django.contrib import admin
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from charhar.admin import RevisionAdmin, TaxonomyAdmin

from .models import Publication, PublicationAuthor, Series


@admin.register(Series)
class SeriesAdmin(TaxonomyAdmin):
    pass


class PublicationAuthorInline(admin.TabularInline):
    """The institute's experts credited on the publication, with their part, in credit order."""

    model = PublicationAuthor
    fields = ["expert", "role", "order"]
    autocomplete_fields = ["expert"]
    extra = 1


@admin.register(Publication)
class PublicationAdmin(RevisionAdmin):
    list_display = ["title", "series", "published_on", "status", "isbn", "is_featured"]
    list_filter = ["status", "series", "topics", "regions", "is_featured"]
    search_fields = ["title", "slug", "summary", "byline", "publisher", "isbn"]
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["series", "topics", "regions"]
    date_hierarchy = "published_on"
    readonly_fields = ["created_at", "updated_at"]
    inlines = [PublicationAuthorInline]
    fieldsets = [
        (None, {"fields": ["title", "slug", "series", "byline", "publisher", "summary"]}),
        (_("Edition"), {"fields": ["published_on", ("volume", "issue"), "isbn"]}),
        (_("Files and links"), {"fields": ["cover", "pdf", "purchase_url"]}),
        (_("Classification"), {"fields": ["topics", "regions"]}),
        (_("Publishing"), {"fields": ["status", "is_featured", "created_at", "updated_at"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("series")

    def view_on_site(self, obj):
        """The public page once readers can see it; until then, the preview."""
        if Publication.objects.published().filter(pk=obj.pk).exists():
            return obj.get_absolute_url()
        return reverse("preview:publication", args=[obj.pk])
