from dataclasses import dataclass

from django.core.paginator import InvalidPage, Paginator
from django.db.models import QuerySet
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


class ListingPaginator(CachedCountPaginator):
    """Pages of a listing read so that a deep page costs about what the first one does.

    A subquery picks the page's primary keys alone, in the listing's order: with the listing
    indexes (articles' `article_published_order`, the link tables' `(topic_id, article_id)`
    and the like) that is an index-only scan, which skips the rows before the page without
    reading them. The query around it reads the page's rows by primary key, with everything
    the cards show. A page past the middle of the listing is picked from the far end in
    reverse order, so the last page costs what the first does.
    """

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        return self._get_page(self._rows(bottom, top), number, self)

    def _rows(self, bottom: int, top: int) -> list:
        queryset = self.object_list
        if not isinstance(queryset, QuerySet) or top <= bottom:
            return list(queryset[bottom:top])
        keys = queryset.select_related(None).prefetch_related(None).values("pk")
        if bottom > self.count - top and _ordered_to_the_row(queryset):
            # The same rows, counted from the end: the scan stops after count - bottom entries.
            keys = keys.reverse()[self.count - top : self.count - bottom]
        else:
            keys = keys[bottom:top]
        # One statement: the subquery picks the page's keys from the index, the outer query
        # reads those rows alone.
        return list(queryset.filter(pk__in=keys))


def _ordered_to_the_row(queryset) -> bool:
    """Whether the queryset's order ends on the primary key, so that it is a total order
    and reversing it gives exactly the same sequence backwards."""
    query = queryset.query
    ordering = query.order_by or (queryset.model._meta.ordering if query.default_ordering else ())
    if query.extra_order_by or not ordering:
        return False
    last = ordering[-1]
    return isinstance(last, str) and last.lstrip("-") in ("pk", queryset.model._meta.pk.name)


def paginate(request, queryset, per_page: int, param: str = "page"):
    """The page of `queryset` that `?<param>=` asks for; a bad or missing page is a 404."""
    paginator = ListingPaginator(
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
    paginator_class = ListingPaginator

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
