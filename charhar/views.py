from django.utils.translation import gettext_lazy as _
from django.views.generic import DetailView, ListView, TemplateView

from articles.models import Article

from .models import Office, Page, Region, Topic


class HomeView(TemplateView):
    template_name = "charhar/home.html"

    def get_context_data(self, **kwargs):
        articles = Article.objects.published().with_related()
        return super().get_context_data(
            featured=articles.filter(is_featured=True)[:1],
            latest=articles[:10],
            **kwargs,
        )


class PageView(DetailView):
    template_name = "charhar/page.html"
    context_object_name = "page"

    def get_queryset(self):
        return Page.objects.filter(is_published=True)


class TaxonomyIndexView(ListView):
    """All topics or all regions, each linking to its articles."""

    template_name = "charhar/taxonomy_list.html"
    context_object_name = "groups"
    heading = ""

    def get_context_data(self, **kwargs):
        return super().get_context_data(heading=self.heading, **kwargs)


class TopicIndexView(TaxonomyIndexView):
    model = Topic
    heading = _("Topics")


class RegionIndexView(TaxonomyIndexView):
    model = Region
    heading = _("Regions")


class OfficeListView(ListView):
    model = Office
    template_name = "charhar/office_list.html"
    context_object_name = "offices"
