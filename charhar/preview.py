"""Preview: staff see a draft, scheduled or hidden item exactly as readers will, with a banner.

Each view is the public detail view with the readers' visibility rule lifted and a staff
check put in its place: anyone else (readers, signed-in non-staff, a contributor looking at
someone else's draft) gets the same 404 as for an address that does not exist. Responses
are never cached (`Cache-Control: private, no-store`; the page cache skips /preview/ too)
and never indexed (`X-Robots-Tag` and a robots meta tag).
"""

from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.utils.translation import gettext_lazy as _

from articles.models import Article
from articles.views import ArticleDetailView
from experts.models import Expert
from experts.views import ExpertDetailView
from publications.models import Publication
from publications.views import PublicationDetailView

from .editorial import can_preview
from .models import Page
from .views import PageView


class PreviewMixin:
    """Look the item up by primary key among all rows; only staff allowed to see it get it."""

    def get_object(self, queryset=None):
        obj = super().get_object(queryset)
        if not can_preview(self.request.user, obj):
            raise Http404(_("There is nothing to preview here."))
        return obj

    def get_context_data(self, **kwargs):
        opts = self.object._meta
        return super().get_context_data(
            preview=True,
            preview_state=self.preview_state(self.object),
            admin_url=reverse(
                f"admin:{opts.app_label}_{opts.model_name}_change", args=[self.object.pk]
            ),
            **kwargs,
        )

    def preview_state(self, obj) -> str:
        return ""

    def render_to_response(self, context, **kwargs):
        response = super().render_to_response(context, **kwargs)
        add_never_cache_headers(response)
        patch_cache_control(response, private=True, no_store=True)
        response["X-Robots-Tag"] = "noindex, nofollow"
        return response


class ArticlePreview(PreviewMixin, ArticleDetailView):
    template_name = "preview/article.html"

    def get_queryset(self):
        return Article.objects.with_detail()

    def get_object(self, queryset=None):
        article = super().get_object(queryset)
        if article.published_at is None:
            # Shown with the date it would get if it were published now (never saved).
            article.published_at = timezone.now()
        return article

    def preview_state(self, obj):
        if obj.is_scheduled:
            return _("Scheduled")
        return obj.get_status_display()


class PublicationPreview(PreviewMixin, PublicationDetailView):
    template_name = "preview/publication.html"

    def get_queryset(self):
        return Publication.objects.with_detail()

    def preview_state(self, obj):
        return obj.get_status_display()


class ExpertPreview(PreviewMixin, ExpertDetailView):
    template_name = "preview/expert.html"

    def get_queryset(self):
        return Expert.objects.with_related()

    def preview_state(self, obj):
        return _("Listed") if obj.is_active else _("Not listed")


class PagePreview(PreviewMixin, PageView):
    template_name = "preview/page.html"

    def get_queryset(self):
        return Page.objects.all()

    def preview_state(self, obj):
        return _("Published") if obj.is_published else _("Not published")
