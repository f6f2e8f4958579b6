"""What a page tells search engines and social networks about itself: Open Graph and Twitter
card values and schema.org JSON-LD (Organization on home, NewsArticle or ScholarlyArticle
with author Persons on articles, Event on events, Person on experts, Book or
PublicationIssue on publications, BreadcrumbList on listings).

Everything here reads what the page's view already loaded (prefetched authors, topics,
event details) and cached rows: no query of its own.
"""

import datetime
import json

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, strip_tags
from django.utils.safestring import mark_safe
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from articles.models import Article
from experts.models import Expert
from publications.models import Publication

from .models import Page, SiteSettings

SCHEMA = "https://schema.org"
# Characters that could end the script element or open a comment in it, as JSON escapes.
_SCRIPT_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


def json_ld(data, nonce: str = "") -> str:
    """`data` as a <script type="application/ld+json"> element that nothing in it can end,
    with the Content Security Policy nonce of the response when there is one."""
    text = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":"))
    return format_html(
        '<script type="application/ld+json"{}>{}</script>',
        format_html(' nonce="{}"', nonce) if nonce else "",
        mark_safe(text.translate(_SCRIPT_ESCAPES)),  # noqa: S308 - no <, > or & left
    )


def absolute(url: str) -> str:
    return url if url.startswith(("http://", "https://")) else settings.SITE_URL + url


def institute_name() -> str:
    return SiteSettings.load().institute_name or "The Charhar Institute"


def _plain(text: str, words: int = 60) -> str:
    return Truncator(" ".join(strip_tags(text).split())).words(words)


def _iso(moment) -> str | None:
    if moment is None:  # an unpublished piece, seen in a staff preview
        return None
    if isinstance(moment, datetime.datetime):
        return timezone.localtime(moment).isoformat()
    return moment.isoformat()


def organization(full: bool = False) -> dict:
    settings_row = SiteSettings.load()
    data = {"@type": "Organization", "name": institute_name(), "url": absolute(reverse("home"))}
    if full:
        if settings_row.tagline:
            data["description"] = settings_row.tagline
        if settings_row.email:
            data["email"] = settings_row.email
        if settings_row.phone:
            data["telephone"] = settings_row.phone
        same_as = [url for _, url in settings_row.social_links]
        if same_as:
            data["sameAs"] = same_as
    return data


def home_graph() -> dict:
    home = absolute(reverse("home"))
    return {
        "@context": SCHEMA,
        "@graph": [
            {**organization(full=True), "@id": home + "#organization"},
            {
                "@type": "WebSite",
                "@id": home + "#website",
                "name": institute_name(),
                "url": home,
                "publisher": {"@id": home + "#organization"},
                "potentialAction": {
                    "@type": "SearchAction",
                    "target": {
                        "@type": "EntryPoint",
                        "urlTemplate": absolute(reverse("search")) + "?q={search_term_string}",
                    },
                    "query-input": "required name=search_term_string",
                },
            },
        ],
    }


def person(expert: Expert) -> dict:
    data = {"@type": "Person", "name": expert.name}
    if expert.is_active:
        data["url"] = absolute(expert.get_absolute_url())
    if expert.title:
        data["jobTitle"] = expert.title
    return data


def _byline_people(experts, byline: str) -> list[dict]:
    people = [person(expert) for expert in experts]
    if byline.strip():
        people.append({"@type": "Person", "name": byline.strip()})
    return people


def image_url(obj) -> str:
    """The page's picture for link previews, as an absolute URL, or ""."""
    if isinstance(obj, Article) and obj.hero_image:
        return absolute(obj.social_image.url)  # 1200×630, the size link previews use
    if isinstance(obj, Publication) and obj.cover:
        return absolute(obj.cover_rendition.url)
    if isinstance(obj, Expert) and obj.photo:
        return absolute(obj.portrait.url)
    return ""


def article_graph(article: Article) -> dict:
    url = absolute(article.get_absolute_url())
    scholarly = article.kind == Article.Kind.RESEARCH
    data = {
        "@type": "ScholarlyArticle" if scholarly else "NewsArticle",
        "@id": url + "#article",
        "headline": Truncator(article.title).chars(110),
        "name": article.title,
        "url": url,
        "mainEntityOfPage": url,
        "datePublished": _iso(article.published_at),
        "dateModified": _iso(max(article.updated_at, article.published_at or article.updated_at)),
        "author": _byline_people(article.ordered_authors, article.byline) or [organization()],
        "publisher": organization(),
        "inLanguage": settings.LANGUAGE_CODE,
    }
    description = article.summary or _plain(article.body)
    if description:
        data["description"] = description
    image = image_url(article)
    if image:
        data["image"] = [image]
    if article.section:
        data["articleSection"] = article.section.name
    keywords = [t.name for t in article.topics.all()] + [r.name for r in article.regions.all()]
    if keywords:
        data["keywords"] = keywords
    graph = [data]
    event = getattr(article, "event", None) if article.kind == Article.Kind.EVENT else None
    if event is not None:
        graph.append(event_data(article, event, url))
    return {"@context": SCHEMA, "@graph": graph}


def event_data(article: Article, event, url: str) -> dict:
    place = {"@type": "Place", "name": event.venue or event.city or institute_name()}
    if event.city:
        place["address"] = {"@type": "PostalAddress", "addressLocality": event.city}
    data = {
        "@type": "Event",
        "@id": url + "#event",
        "name": article.title,
        "url": url,
        "startDate": event.starts_at.astimezone(event.tz).isoformat(),
        "eventStatus": "https://schema.org/EventScheduled",
        "eventAttendanceMode": "https://schema.org/OfflineEventAttendanceMode",
        "location": place,
        "organizer": organization(),
    }
    if event.ends_at:
        data["endDate"] = event.ends_at.astimezone(event.tz).isoformat()
    if article.summary:
        data["description"] = article.summary
    image = image_url(article)
    if image:
        data["image"] = [image]
    performers = _byline_people(article.ordered_authors, article.byline)
    if performers:
        data["performer"] = performers
    return data


def expert_graph(expert: Expert) -> dict:
    data = {
        "@context": SCHEMA,
        **person(expert),
        "url": absolute(expert.get_absolute_url()),
        "worksFor": organization(),
    }
    if expert.affiliation:
        data["affiliation"] = {"@type": "Organization", "name": expert.affiliation}
    description = expert.short_bio or _plain(expert.bio)
    if description:
        data["description"] = description
    image = image_url(expert)
    if image:
        data["image"] = image
    topics = [topic.name for topic in expert.topics.all()]
    if topics:
        data["knowsAbout"] = topics
    return data


def publication_graph(publication: Publication) -> dict:
    url = absolute(publication.get_absolute_url())
    credits = list(publication.contributions.all())
    authors = [person(c.expert) for c in credits if c.role == "author"]
    editors = [person(c.expert) for c in credits if c.role == "editor"]
    if publication.byline.strip():
        authors.append({"@type": "Person", "name": publication.byline.strip()})
    publisher = (
        {"@type": "Organization", "name": publication.publisher}
        if publication.publisher
        else organization()
    )
    data = {
        "@context": SCHEMA,
        "name": publication.title,
        "url": url,
        "datePublished": publication.published_on.isoformat(),
        "publisher": publisher,
    }
    if publication.issue or publication.volume:
        data["@type"] = "PublicationIssue"
        if publication.issue:
            data["issueNumber"] = publication.issue
        periodical = {
            "@type": "Periodical",
            "name": publication.series.name if publication.series else publication.title,
        }
        if publication.volume:
            data["isPartOf"] = {
                "@type": "PublicationVolume",
                "volumeNumber": publication.volume,
                "isPartOf": periodical,
            }
        else:
            data["isPartOf"] = periodical
    else:
        data["@type"] = "Book"
        if publication.isbn:
            data["isbn"] = publication.isbn
        if publication.series:
            data["isPartOf"] = {"@type": "BookSeries", "name": publication.series.name}
    if authors:
        data["author"] = authors
    if editors:
        data["editor"] = editors
    if publication.summary:
        data["description"] = publication.summary
    image = image_url(publication)
    if image:
        data["image"] = image
    return data


# The parents of each listing in the breadcrumb trail, by URL name.
_PARENTS = {
    "articles:section": [("articles:news", gettext_lazy("News & Events"))],
    "articles:kind": [("articles:list", gettext_lazy("All articles"))],
    "articles:tag": [("articles:list", gettext_lazy("All articles"))],
    "articles:past_events": [("articles:events", gettext_lazy("Upcoming events"))],
    "topic": [("topics", gettext_lazy("Topics"))],
    "region": [("regions", gettext_lazy("Regions"))],
    "publications:series": [("publications:list", gettext_lazy("Publications"))],
}


def breadcrumbs(view_name: str, heading: str, url: str) -> dict:
    trail = [(_("Home"), absolute(reverse("home")))]
    trail += [
        (str(name), absolute(reverse(parent))) for parent, name in _PARENTS.get(view_name, [])
    ]
    trail.append((str(heading), url))
    return {
        "@context": SCHEMA,
        "@type": "BreadcrumbList",
        "itemListElement": [
            {"@type": "ListItem", "position": n, "name": name, "item": item}
            for n, (name, item) in enumerate(trail, start=1)
        ],
    }


def social(obj, context) -> dict:
    """Open Graph and Twitter card values for the page showing `obj` (or a listing)."""
    name = institute_name()
    values = {"site_name": name, "type": "website", "url": str(context.get("canonical_url", ""))}
    if isinstance(obj, Article):
        values.update(
            type="article",
            title=obj.title,
            description=obj.summary or _plain(obj.body, 40),
            published=_iso(obj.published_at),
            modified=_iso(max(obj.updated_at, obj.published_at or obj.updated_at)),
            section=obj.section.name if obj.section else "",
            image_alt=obj.image_alt,
        )
    elif isinstance(obj, Expert):
        values.update(type="profile", title=obj.name, description=obj.short_bio or obj.title)
        values["image_alt"] = obj.name
    elif isinstance(obj, Publication):
        values.update(type="book", title=obj.title, description=_plain(obj.summary, 40))
        values["image_alt"] = _("Cover of %(title)s") % {"title": obj.title}
    elif isinstance(obj, Page):
        values.update(title=obj.title, description=obj.summary)
    else:
        values.update(
            title=str(context.get("heading") or name),
            description=str(context.get("description") or SiteSettings.load().tagline or name),
        )
    values["image"] = image_url(obj) if obj is not None else ""
    handle = SiteSettings.load().twitter_handle.strip()
    if handle:
        values["twitter_site"] = handle if handle.startswith("@") else "@" + handle
    return values
