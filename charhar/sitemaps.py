"""sitemap.xml (an index of per-type sitemaps, each with lastmod) and robots.txt.

Built on django.contrib.sitemaps without the Sites framework: every address is made from
SITE_URL, the public address, whichever host the request came through. Only what readers
may see is listed: the same ``published()`` querysets the pages use.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.contrib.sitemaps.views import sitemap as sitemap_view
from django.core.paginator import EmptyPage, PageNotAnInteger
from django.db.models import Max
from django.http import Http404, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_GET

from articles.models import Article, Section
from experts.models import Expert
from publications.models import Publication, Series

from .caching import cached_rows
from .models import Page, Region, Topic


class SiteSitemap(Sitemap):
    """A sitemap whose addresses are on SITE_URL."""

    limit = 5000  # URLs a file; an index page lists the files

    def get_protocol(self, protocol=None):
        return urlsplit(settings.SITE_URL).scheme

    def get_domain(self, site=None):
        return urlsplit(settings.SITE_URL).netloc


class ContentSitemap(SiteSitemap):
    """Rows of one model that readers may see (its `published()`), oldest first (so a page's
    contents stay put), dated by their last change; the newest change is one aggregate, not
    a walk over every row."""

    model = None

    def queryset(self):
        return self.model.objects.published()

    def items(self):
        return self.queryset().order_by("pk").only("slug", "updated_at")

    def lastmod(self, item):
        return item.updated_at

    def get_latest_lastmod(self):
        return self.queryset().aggregate(latest=Max("updated_at"))["latest"]


class ArticleSitemap(ContentSitemap):
    model = Article


class PublicationSitemap(ContentSitemap):
    model = Publication


class ExpertSitemap(ContentSitemap):
    model = Expert


class PageSitemap(ContentSitemap):
    def queryset(self):
        return Page.objects.filter(is_published=True)


class ListingSitemap(SiteSitemap):
    """The listings: the site's fixed pages and every section, topic, region and series."""

    changefreq = "daily"

    def items(self):
        fixed = [
            reverse(name)
            for name in (
                "home",
                "articles:list",
                "articles:news",
                "articles:research",
                "articles:events",
                "articles:past_events",
                "experts:list",
                "publications:list",
                "topics",
                "regions",
                "offices",
            )
        ]
        groups = [
            row.get_absolute_url()
            for model in (Section, Topic, Region, Series)
            for row in cached_rows(model)
        ]
        return fixed + groups

    def location(self, item):
        return item

    def lastmod(self, item):
        return self.get_latest_lastmod()

    def get_latest_lastmod(self):
        # A listing changes when anything is published: the newest live article's time.
        if not hasattr(self, "_latest"):
            self._latest = Article.objects.published().aggregate(latest=Max("published_at"))[
                "latest"
            ]
        return self._latest


SITEMAPS = {
    "listings": ListingSitemap,
    "articles": ArticleSitemap,
    "publications": PublicationSitemap,
    "experts": ExpertSitemap,
    "pages": PageSitemap,
}


def index(request):
    """sitemap.xml: every per-type sitemap file, with the newest change in it."""
    entries = []
    for section, sitemap_class in SITEMAPS.items():
        site_map = sitemap_class()
        url = settings.SITE_URL + reverse("sitemap_section", kwargs={"section": section})
        lastmod = site_map.get_latest_lastmod()
        pages = site_map.paginator.num_pages
        for page in range(1, pages + 1):
            entries.append(
                {"location": url if page == 1 else f"{url}?p={page}", "lastmod": lastmod}
            )
    return TemplateResponse(
        request, "sitemaps/index.xml", {"sitemaps": entries}, content_type="application/xml"
    )


def section(request, section):
    if section not in SITEMAPS:
        raise Http404("There is no such sitemap.")
    try:
        return sitemap_view(
            request,
            {section: SITEMAPS[section]},
            section=section,
            template_name="sitemaps/urlset.xml",
        )
    except (EmptyPage, PageNotAnInteger) as exc:
        raise Http404("There is no such page of this sitemap.") from exc


DEFAULT_ADMIN_URL = "admin/"


@require_GET
def robots_txt(request):
    """Crawlers may read everything readers can, except search results and the admin.

    An admin moved off the well-known path by `ADMIN_URL` is not named: robots.txt is public,
    and naming it would hand the path to the scanners it is hidden from. Nothing links to it,
    and its pages answer signed-out visitors with the sign-in form only.
    """
    lines = ["User-agent: *", "Disallow: " + reverse("search")]
    if settings.ADMIN_URL == DEFAULT_ADMIN_URL:
        lines.append("Disallow: " + reverse("admin:index"))
    lines += ["", "Sitemap: " + settings.SITE_URL + reverse("sitemap")]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")
