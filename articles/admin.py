"""Admin for articles: the editorial workflow.

Editors see everything and publish, schedule, unpublish and feature (one by one or in bulk).
Contributors see their own articles only, edit them while they are drafts or in review, and
submit them for review; the publishing fields are read-only for them and every save goes
through `Article.check_change`, so a forged POST is refused (403) like any other path.
"""

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from charhar.admin import RevisionAdmin, TaxonomyAdmin
from charhar.editorial import duplicate_article
from charhar.widgets import FocalPointInput, RichTextarea

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


class StateFilter(admin.SimpleListFilter):
    """Status as readers experience it: a published piece whose time is ahead is scheduled."""

    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [
            (Article.Status.DRAFT, _("Draft")),
            (Article.Status.REVIEW, _("In review")),
            ("scheduled", _("Scheduled")),
            (Article.Status.PUBLISHED, _("Published")),
            (Article.Status.ARCHIVED, _("Archived")),
        ]

    def queryset(self, request, queryset):
        value, now = self.value(), timezone.now()
        if value == "scheduled":
            return queryset.filter(status=Article.Status.PUBLISHED, published_at__gt=now)
        if value == Article.Status.PUBLISHED:
            return queryset.published(now)
        if value in Article.Status.values:
            return queryset.filter(status=value)
        return queryset


class AuthorFilter(admin.SimpleListFilter):
    """Articles by one of the institute's experts (only experts who have articles are listed)."""

    title = _("author")
    parameter_name = "author"

    def lookups(self, request, model_admin):
        from experts.models import Expert

        return list(
            Expert.objects.filter(authorships__isnull=False)
            .distinct()
            .order_by("name")
            .values_list("pk", "name")
        )

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(authorships__expert_id=self.value())
        return queryset


@admin.register(Article)
class ArticleAdmin(RevisionAdmin):
    list_display = [
        "title",
        "state",
        "kind",
        "section",
        "author_names",
        "published_at",
        "is_featured",
        "created_by",
        "links",
    ]
    list_filter = [
        StateFilter,
        "kind",
        "section",
        "topics",
        "regions",
        AuthorFilter,
        "created_by",
        "is_featured",
        "published_at",
    ]
    search_fields = ["title", "slug", "summary", "byline", "legacy_url"]
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["section", "topics", "regions"]
    date_hierarchy = "published_at"
    inlines = [ArticleAuthorInline, EventDetailsInline]
    actions = [
        "publish_selected",
        "unpublish_selected",
        "feature_selected",
        "unfeature_selected",
        "duplicate_selected",
    ]
    # Stamped by the workflow, never typed in.
    WORKFLOW_FIELDS = [
        "created_by",
        "submitted_by",
        "submitted_at",
        "published_by",
        "published_by_at",
        "created_at",
        "updated_at",
    ]
    # What only editors may set.
    PUBLISHING_FIELDS = ["status", "published_at", "is_featured"]

    def get_fieldsets(self, request, obj=None):
        return [
            (None, {"fields": ["title", "slug", "byline", "summary", "body"]}),
            (
                _("Hero image"),
                {
                    "fields": [
                        "hero_image",
                        ("hero_focal_x", "hero_focal_y"),
                        "hero_alt",
                        "hero_caption",
                        "hero_credit",
                    ],
                    "description": _(
                        "Click the image to mark its subject: thumbnails and cards are cropped "
                        "around that point. The text alternative is required to publish."
                    ),
                },
            ),
            (_("Classification"), {"fields": ["kind", "section", "topics", "regions", "tags"]}),
            (
                _("Publishing"),
                {
                    "fields": [*self.PUBLISHING_FIELDS, *self.WORKFLOW_FIELDS],
                    "description": _(
                        "A publication time in the future schedules the article: it appears "
                        "by itself at that time."
                    ),
                },
            ),
            (
                _("Source and legacy address"),
                {"fields": ["source_name", "source_url", "legacy_url"], "classes": ["collapse"]},
            ),
        ]

    def get_readonly_fields(self, request, obj=None):
        if Article.can_publish(request.user):
            return self.WORKFLOW_FIELDS
        return [*self.PUBLISHING_FIELDS, *self.WORKFLOW_FIELDS]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "body":
            kwargs["widget"] = RichTextarea()
        elif db_field.name in ("hero_focal_x", "hero_focal_y"):
            kwargs["widget"] = FocalPointInput(axis=db_field.name[-1], image_field="hero_image")
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_queryset(self, request):
        queryset = (
            super()
            .get_queryset(request)
            .select_related("section", "created_by")
            .prefetch_related(
                Prefetch(
                    "authorships",
                    queryset=ArticleAuthor.objects.select_related("expert").order_by("order", "pk"),
                )
            )
        )
        if not Article.can_publish(request.user):
            # A contributor's admin holds their own work only: others' articles are absent.
            queryset = queryset.filter(created_by=request.user)
        return queryset

    # Permissions: the role decides, then the article's state.

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or obj.can_be_edited_by(request.user))

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and Article.can_publish(request.user)

    def has_publish_permission(self, request):
        return Article.can_publish(request.user)

    def save_model(self, request, obj, form, change):
        previous = Article.objects.get(pk=obj.pk) if change else None
        if not change:
            obj.created_by = request.user
        if "_submit_for_review" in request.POST:
            obj.status = Article.Status.REVIEW
        obj.check_change(request.user, previous)
        obj.record_change(request.user, previous)
        super().save_model(request, obj, form, change)

    def response_add(self, request, obj, post_url_continue=None):
        if "_submit_for_review" in request.POST:
            self._submitted_message(request, obj)
            return HttpResponseRedirect(reverse("admin:articles_article_changelist"))
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        if "_submit_for_review" in request.POST:
            self._submitted_message(request, obj)
            return HttpResponseRedirect(reverse("admin:articles_article_changelist"))
        return super().response_change(request, obj)

    def _submitted_message(self, request, obj):
        self.message_user(
            request,
            _("“%(title)s” is in the editors' review queue.") % {"title": obj.title},
            messages.SUCCESS,
        )

    # Columns

    @admin.display(description=_("state"), ordering="status")
    def state(self, obj):
        """The status, except that a published piece still waiting for its time is “Scheduled”."""
        if obj.is_scheduled:
            return _("Scheduled")
        return obj.get_status_display()

    @admin.display(description=_("authors"))
    def author_names(self, obj):
        return ", ".join(expert.name for expert in obj.ordered_authors) or obj.byline

    @admin.display(description=_("links"))
    def links(self, obj):
        links = [(reverse("preview:article", args=[obj.pk]), _("Preview"))]
        if obj.is_live:
            links.append((obj.get_absolute_url(), _("View on site")))
        return format_html_join(" · ", '<a href="{}">{}</a>', links)

    def view_on_site(self, obj):
        """The public page once readers can see it; until then, the preview."""
        if obj.is_live:
            return obj.get_absolute_url()
        return reverse("preview:article", args=[obj.pk])

    # Bulk actions: editors only (absent for contributors, refused if forged).

    def _apply(self, request, queryset, change, done_message):
        done, refused = 0, []
        for article in queryset:
            try:
                change(article)
            except ValidationError as error:
                refused.append(f"{article.title}: {' '.join(error.messages)}")
            else:
                done += 1
        if done:
            self.message_user(request, done_message(done), messages.SUCCESS)
        for message in refused:
            self.message_user(request, message, messages.ERROR)

    @admin.action(description=_("Publish selected articles"), permissions=["publish"])
    def publish_selected(self, request, queryset):
        self._apply(
            request,
            queryset,
            lambda article: article.publish(by=request.user),
            lambda n: ngettext("Published %d article.", "Published %d articles.", n) % n,
        )

    @admin.action(
        description=_("Unpublish selected articles (back to draft)"), permissions=["publish"]
    )
    def unpublish_selected(self, request, queryset):
        self._apply(
            request,
            queryset.filter(status=Article.Status.PUBLISHED),
            lambda article: article.unpublish(by=request.user),
            lambda n: ngettext("Unpublished %d article.", "Unpublished %d articles.", n) % n,
        )

    @admin.action(description=_("Feature selected articles"), permissions=["publish"])
    def feature_selected(self, request, queryset):
        self._apply(
            request,
            queryset,
            lambda article: article.set_featured(True, by=request.user),
            lambda n: ngettext("Featured %d article.", "Featured %d articles.", n) % n,
        )

    @admin.action(description=_("Stop featuring selected articles"), permissions=["publish"])
    def unfeature_selected(self, request, queryset):
        self._apply(
            request,
            queryset,
            lambda article: article.set_featured(False, by=request.user),
            lambda n: (
                ngettext("Stopped featuring %d article.", "Stopped featuring %d articles.", n) % n
            ),
        )

    @admin.action(description=_("Duplicate as new drafts"), permissions=["add"])
    def duplicate_selected(self, request, queryset):
        copies = [duplicate_article(article, by=request.user) for article in queryset]
        self.message_user(
            request,
            ngettext("Made %d new draft.", "Made %d new drafts.", len(copies)) % len(copies),
        )

    # Duplicate from the change form

    def get_urls(self):
        info = self.model._meta.app_label, self.model._meta.model_name
        return [
            path(
                "<path:object_id>/duplicate/",
                self.admin_site.admin_view(self.duplicate_view),
                name="{}_{}_duplicate".format(*info),
            ),
            *super().get_urls(),
        ]

    def duplicate_view(self, request, object_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        article = get_object_or_404(self.get_queryset(request), pk=unquote(object_id))
        if not self.has_add_permission(request) or not self.has_view_permission(request, article):
            raise PermissionDenied
        copy = duplicate_article(article, by=request.user)
        self.message_user(
            request, _("This is a new draft copied from “%(title)s”.") % {"title": article.title}
        )
        return HttpResponseRedirect(reverse("admin:articles_article_change", args=[copy.pk]))

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["preview_url"] = reverse("preview:article", args=[obj.pk])
            context["duplicate_url"] = reverse("admin:articles_article_duplicate", args=[obj.pk])
        context["can_submit_for_review"] = not Article.can_publish(request.user) and (
            obj is None or obj.status == Article.Status.DRAFT
        )
        return super().render_change_form(request, context, add, change, form_url, obj)


@admin.register(EventDetails)
class EventDetailsAdmin(admin.ModelAdmin):
    """Events by date, for editors planning the calendar; details are also edited on the
    article (where contributors edit their own drafts' details)."""

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

    # Outside the article's own form this would reach published events: editors only.
    def has_module_permission(self, request):
        return Article.can_publish(request.user) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return Article.can_publish(request.user) and super().has_view_permission(request, obj)

    def has_add_permission(self, request):
        return Article.can_publish(request.user) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return Article.can_publish(request.user) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return Article.can_publish(request.user) and super().has_delete_permission(request, obj)
