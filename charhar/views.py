from dataclasses import dataclass

from django.core.paginator import InvalidPage, Paginator
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from django.views.generic import DetailView, ListView, TemplateView

from .caching import cached_rows
from .models import Office, Page, Region, Topic
from .pagecache import CachedCountPaginator, listing_key
from .search import Filters, Search, SearchResults, active_filter_links, facet_links
from .services import home_page


@dataclass
class PageLink:
    label: str
    url: str = ""
    current: bool = False


def paginate(request, queryset, per_page: int, param: str = "page"):
    """The page of `queryset` that `?<param>=` asks for; a bad or missing page is a 404."""
    paginator = CachedCountPaginator(
        queryset, per_page, count_key=f"{param}:{listing_key(request, param)}"
    )
    try:
        return paginator.page(request.GET.get(param) or 1)
    except InvalidPage as exc:
        raise Http404(_("There is no such page.")) from exc


def page_link_list(request, page, param: str) -> list[PageLink]:
    """Links to the pages around `page` for a second pagination on one page (its own
    `param`), keeping every other parameter of the address."""
    if not page.has_other_pages():
        return []

    def url(number):
        query = request.GET.copy()
        query[param] = number
        return f"?{query.urlencode()}"

    ellipsis = page.paginator.ELLIPSIS
    return [
        PageLink(str(n)) if n == ellipsis else PageLink(str(n), url(n), n == page.number)
        for n in page.paginator.get_elided_page_range(page.number, on_each_side=2)
    ]


def page_links(page_obj):
    """Page numbers to link to around the current page, with ellipses for the gaps."""
    if page_obj is None:
        return []
    return list(page_obj.paginator.get_elided_page_range(page_obj.number, on_each_side=2))


class ListingView(ListView):
    """A paginated listing: 20 a page; a `?page=` out of range or not a number is a 404."""

    paginate_by = 20
    paginator_class = CachedCountPaginator

    def get_paginator(self, queryset, per_page, **kwargs):
        return super().get_paginator(
            queryset, per_page, count_key=listing_key(self.request), **kwargs
        )

    heading = ""
    description = ""

    def get_heading(self):
        return self.heading

    def get_description(self):
        return self.description

    def get_context_data(self, **kwargs):
        context = super().get_context_data(
            heading=self.get_heading(), description=self.get_description(), **kwargs
        )
        context["page_range"] = page_links(context.get("page_obj"))
        return context


class HomeView(TemplateView):
    template_name = "charhar/home.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(**home_page(), **kwargs)


class PageView(DetailView):
    template_name = "charhar/page.html"
    context_object_name = "page"

    def get_queryset(self):
        return Page.objects.filter(is_published=True)


class TaxonomyIndexView(TemplateView):
    """All topics or all regions, each linking to its articles."""

    template_name = "charhar/taxonomy_list.html"
    model = None
    heading = ""
    description = ""

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            groups=cached_rows(self.model),
            heading=self.heading,
            description=self.description,
            **kwargs,
        )


class TopicIndexView(TaxonomyIndexView):
    model = Topic
    heading = _("Topics")
    description = _("The institute's research and commentary by topic.")


class RegionIndexView(TaxonomyIndexView):
    model = Region
    heading = _("Regions")
    description = _("The institute's research and commentary by region of the world.")


class OfficeListView(ListView):
    model = Office
    template_name = "charhar/office_list.html"
    context_object_name = "offices"


class SearchView(TemplateView):
    """Articles, experts and publications matching what was typed, narrowed by the filters
    in the URL, with each filter's counts (see charhar/search.py)."""

    template_name = "charhar/search.html"
    paginate_by = 20

    def get_context_data(self, **kwargs):
        params = self.request.GET
        filters = Filters.from_query_dict(params)
        search = Search(params.get("q", ""), filters, params.get("sort", ""))
        paginator = Paginator(SearchResults(search), self.paginate_by)
        try:
            page = paginator.page(params.get("page") or 1)
        except InvalidPage as exc:
            raise Http404(_("There is no such page.")) from exc
        return super().get_context_data(
            query=search.query,
            search=search,
            sort=search.sort,
            filters=filters,
            facets=facet_links(params, search.facets()),
            active_filters=active_filter_links(params, filters),
            hits=page.object_list,
            page_obj=page,
            paginator=paginator,
            is_paginated=page.has_other_pages(),
            page_range=page_links(page),
            **kwargs,
        )
