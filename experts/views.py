from django.http import Http404
from django.utils.translation import gettext_lazy as _
from django.views.generic import DetailView

from articles.models import Article
from charhar.caching import cached_rows
from charhar.models import Region, Topic
from charhar.views import ListingView, page_link_list, page_links, paginate
from publications.models import Publication

from .models import Expert


class ExpertListView(ListingView):
    """The institute's experts in staff's order, filterable by topic and region."""

    template_name = "experts/expert_list.html"
    context_object_name = "experts"
    heading = _("Experts")
    description = _("The institute's fellows and researchers and what they work on.")

    def _chosen(self, model, parameter):
        slug = self.request.GET.get(parameter, "")
        if not slug:
            return None
        for row in cached_rows(model):
            if row.slug == slug:
                return row
        raise Http404(_("There is no such topic or region."))

    def get_queryset(self):
        self.topic = self._chosen(Topic, "topic")
        self.region = self._chosen(Region, "region")
        experts = Expert.objects.published().with_related()
        if self.topic:
            experts = experts.filter(topics=self.topic)
        if self.region:
            experts = experts.filter(regions=self.region)
        return experts

    def get_heading(self):
        # A filtered list is its own page to readers (tabs, bookmarks): its title says so.
        chosen = [row.name for row in (self.topic, self.region) if row is not None]
        if not chosen:
            return self.heading
        return _("Experts: %(filters)s") % {"filters": ", ".join(chosen)}

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            topics=cached_rows(Topic),
            regions=cached_rows(Region),
            chosen_topic=self.topic,
            chosen_region=self.region,
            **kwargs,
        )


class ExpertDetailView(DetailView):
    """An expert's profile with their articles (paginated) and publications."""

    template_name = "experts/expert_detail.html"
    context_object_name = "expert"
    paginate_by = 10

    def get_queryset(self):
        return Expert.objects.published().with_related()

    def get_context_data(self, **kwargs):
        articles = Article.objects.published().cards().filter(authors=self.object)
        page = paginate(self.request, articles, self.paginate_by)
        publications = paginate(
            self.request,
            Publication.objects.published()
            .select_related("series")
            .filter(authors=self.object)
            .distinct(),
            self.paginate_by,
            param="publications_page",
        )
        return super().get_context_data(
            articles=page.object_list,
            page_obj=page,
            page_range=page_links(page),
            paginator=page.paginator,
            is_paginated=page.has_other_pages(),
            publications=publications.object_list,
            publication_pages=page_link_list(self.request, publications, "publications_page"),
            **kwargs,
        )
