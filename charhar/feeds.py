"""RSS 2.0 and Atom feeds: everything, and each section, topic, region, expert, kind and series.

Each feed follows a page of the site (the page links to it with ``<link rel="alternate">``,
see `feed_links`) and lists what that page lists, newest first, with full summaries,
authors, categories and an enclosure (the hero image, or a publication's PDF or cover).
An item's GUID is a tag URI built from the row's id: it never changes when the piece is
edited or its slug renamed. Every feed costs a fixed number of queries.
"""

import datetime
import mimetypes
from dataclasses import dataclass
from itertools import chain
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed, Enclosure, Rss201rev2Feed
from django.utils.html import escape, linebreaks, strip_tags
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from articles.models import Article, Section
from experts.models import Expert
from publications.models import Publication, Series

from .models import Region, SiteSettings, Topic

ITEMS = 30
FORMATS = {"rss": Rss201rev2Feed, "atom": Atom1Feed}
# (model, URL keyword) of every scope a feed can follow besides the whole site.
SCOPES = {
    "section": Section,
    "topic": Topic,
    "region": Region,
    "expert": Expert,
    "series": Series,
    "kind": None,
}


@dataclass
class Subject:
    """What a feed follows: the whole site (scope "") or one group, and the page it follows."""

    scope: str
    group: object
    title: str
    description: str
    page_url: str
    feed_path: str


def absolute(url: str) -> str:
    """`url` on the public site, unless it is absolute already (media on another host)."""
    return url if urlsplit(url).scheme else settings.SITE_URL + url


def feed_url(scope: str = "", slug: str = "", fmt: str = "rss") -> str:
    if not scope:
        return reverse("feeds:all", kwargs={"fmt": fmt})
    return reverse("feeds:scoped", kwargs={"scope": scope, "slug": slug, "fmt": fmt})


def _articles(queryset):
    return list(
        queryset.with_related().prefetch_related(
            Prefetch("topics", queryset=Topic.objects.order_by("order", "name")),
            Prefetch("regions", queryset=Region.objects.order_by("order", "name")),
        )[:ITEMS]
    )


def _publications(queryset):
    return list(queryset.with_detail()[:ITEMS])


def _moment(item) -> datetime.datetime:
    if isinstance(item, Publication):
        return timezone.make_aware(datetime.datetime.combine(item.published_on, datetime.time()))
    return item.published_at


def _newest(*lists):
    return sorted(chain(*lists), key=lambda item: (_moment(item), item.pk), reverse=True)[:ITEMS]


class ContentFeed(Feed):
    """One feed class for every scope; the URL says which scope and which format."""

    def __call__(self, request, *args, fmt="rss", **kwargs):
        if fmt not in FORMATS:
            raise Http404(_("There is no such feed format."))
        self.feed_type = FORMATS[fmt]  # a fresh instance serves each request (feed_view)
        return super().__call__(request, *args, **kwargs)

    def get_object(self, request, scope="", slug=""):
        name = SiteSettings.load().institute_name or "The Charhar Institute"
        if not scope:
            return Subject(
                "",
                None,
                name,
                _("Articles and publications from %(name)s, newest first.") % {"name": name},
                absolute(reverse("home")),
                request.path,
            )
        if scope not in SCOPES:
            raise Http404(_("There is no such feed."))
        if scope == "kind":
            if slug not in Article.Kind.values:
                raise Http404(_("There is no such kind of article."))
            group = Article.Kind(slug)
            label, page = group.label, reverse("articles:kind", args=[slug])
        else:
            model = SCOPES[scope]
            manager = Expert.objects.published() if model is Expert else model.objects
            group = get_object_or_404(manager, slug=slug)
            label, page = str(group), group.get_absolute_url()
        return Subject(
            scope,
            group,
            f"{label} | {name}",
            _("The latest from %(name)s: %(label)s.") % {"name": name, "label": label},
            absolute(page),
            request.path,
        )

    # The feed ------------------------------------------------------------------------------

    def title(self, obj):
        return obj.title

    def link(self, obj):
        return obj.page_url

    def description(self, obj):
        return obj.description

    def subtitle(self, obj):
        return obj.description

    def feed_url(self, obj):
        return absolute(obj.feed_path)

    def feed_guid(self, obj):
        return absolute(obj.feed_path)

    def author_name(self, obj):
        return SiteSettings.load().institute_name or "The Charhar Institute"

    def feed_copyright(self, obj):
        return f"© {timezone.localdate().year} {self.author_name(obj)}"

    def items(self, obj):
        articles = Article.objects.published()
        publications = Publication.objects.published()
        group = obj.group
        match obj.scope:
            case "":
                return _newest(_articles(articles), _publications(publications))
            case "section":
                return _articles(articles.filter(section=group))
            case "topic":
                return _articles(articles.filter(topics=group))
            case "region":
                return _articles(articles.filter(regions=group))
            case "kind":
                return _articles(articles.filter(kind=group))
            case "series":
                return _publications(publications.filter(series=group))
            case "expert":
                return _newest(
                    _articles(articles.filter(authors=group)),
                    _publications(publications.filter(authors=group).distinct()),
                )
        return []

    # Items ---------------------------------------------------------------------------------

    def item_title(self, item):
        return item.title

    def item_link(self, item):
        return absolute(item.get_absolute_url())

    def item_guid(self, item):
        host = urlsplit(settings.SITE_URL).hostname or "localhost"
        return f"tag:{host},2009:{item._meta.model_name}/{item.pk}"

    item_guid_is_permalink = False

    def item_description(self, item):
        text = item.summary or Truncator(strip_tags(getattr(item, "body", ""))).words(80)
        # Readers take RSS descriptions as HTML: the plain summary is escaped once more.
        return linebreaks(escape(text))

    def item_pubdate(self, item):
        return _moment(item)

    def item_updateddate(self, item):
        return max(item.updated_at, _moment(item))

    def item_author_name(self, item):
        if isinstance(item, Publication):
            names = [credit.expert.name for credit in item.contributions.all()]
        else:
            names = [expert.name for expert in item.ordered_authors]
        if item.byline:
            names.append(item.byline)
        return ", ".join(names) or None

    def item_categories(self, item):
        if isinstance(item, Publication):
            first = [_("Publication")] + ([item.series.name] if item.series else [])
        else:
            first = [item.get_kind_display()] + ([item.section.name] if item.section else [])
        return [
            *first,
            *(topic.name for topic in item.topics.all()),
            *(region.name for region in item.regions.all()),
        ]

    def item_enclosures(self, item):
        if isinstance(item, Publication):
            if item.pdf:
                size = str(item.pdf_size or 0)
                return [Enclosure(absolute(item.pdf.url), size, "application/pdf")]
            if item.cover:
                return [Enclosure(absolute(item.cover.url), "0", _mime(item.cover.name))]
            return []
        if item.hero_image:
            # The byte length of an image is not stored; reading it would ask (possibly
            # remote) storage once per item, so it is given as 0, as many feeds do.
            return [Enclosure(absolute(item.hero_image.url), "0", _mime(item.hero_image.name))]
        return []


def _mime(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def feed_view(request, **kwargs):
    """A fresh feed object per request: the format is set on it."""
    return ContentFeed()(request, **kwargs)
