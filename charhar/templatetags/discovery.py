"""Tags for what a page tells machines: feed links, link-preview tags, JSON-LD, "cite this".

{% load discovery %}
{% social_meta article %}      Open Graph and Twitter card tags (base.html calls it bare)
{% feed_links %}               <link rel="alternate"> to the site's and this page's feeds
{% article_ld article %}       NewsArticle / ScholarlyArticle (+ Event), and so on
{% breadcrumbs_ld %}           BreadcrumbList of a listing
{% cite_box publication %}     APA, Chicago and a BibTeX download
"""

from django import template
from django.utils.translation import gettext as _

from charhar import citations, feeds, metadata

register = template.Library()


@register.inclusion_tag("includes/meta/social.html", takes_context=True)
def social_meta(context, obj=None):
    if context.get("request") is None:  # the 500 page: no request, and maybe no database
        return {"og": None}
    return {"og": metadata.social(obj, context)}


# URL name of a page → the scope of the feed that follows it, and the URL keyword naming it.
_FEED_SCOPES = {
    "articles:section": ("section", "slug"),
    "topic": ("topic", "slug"),
    "region": ("region", "slug"),
    "articles:kind": ("kind", "kind"),
    "experts:detail": ("expert", "slug"),
    "publications:series": ("series", "slug"),
}


@register.inclusion_tag("includes/meta/feeds.html", takes_context=True)
def feed_links(context):
    if context.get("request") is None:
        return {"feed_links": []}
    name = metadata.institute_name()
    links = [
        {"title": f"{name} (RSS)", "type": "application/rss+xml", "href": feeds.feed_url()},
        {
            "title": f"{name} (Atom)",
            "type": "application/atom+xml",
            "href": feeds.feed_url(fmt="atom"),
        },
    ]
    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    label = context.get("heading") or getattr(context.get("expert"), "name", "")
    # No label: an error page at a group's address (the group does not exist).
    if match is not None and match.view_name in _FEED_SCOPES and label:
        scope, keyword = _FEED_SCOPES[match.view_name]
        for fmt, mime, kind in (
            ("rss", "application/rss+xml", "RSS"),
            ("atom", "application/atom+xml", "Atom"),
        ):
            links.append(
                {
                    "title": _("%(label)s (%(kind)s)") % {"label": label, "kind": kind},
                    "type": mime,
                    "href": feeds.feed_url(scope, match.kwargs[keyword], fmt),
                }
            )
    return {"feed_links": links}


def _nonce(context) -> str:
    """The response's CSP nonce (django-csp), so the data block is allowed by the policy."""
    request = context.get("request")
    return str(getattr(request, "csp_nonce", "")) if request is not None else ""


@register.simple_tag(takes_context=True)
def home_ld(context):
    return metadata.json_ld(metadata.home_graph(), _nonce(context))


@register.simple_tag(takes_context=True)
def article_ld(context, article):
    return metadata.json_ld(metadata.article_graph(article), _nonce(context))


@register.simple_tag(takes_context=True)
def expert_ld(context, expert):
    return metadata.json_ld(metadata.expert_graph(expert), _nonce(context))


@register.simple_tag(takes_context=True)
def publication_ld(context, publication):
    return metadata.json_ld(metadata.publication_graph(publication), _nonce(context))


@register.simple_tag(takes_context=True)
def breadcrumbs_ld(context):
    request = context["request"]
    match = request.resolver_match
    url = str(context.get("canonical_url", ""))
    heading = context.get("heading") or metadata.institute_name()
    return metadata.json_ld(
        metadata.breadcrumbs(match.view_name if match else "", heading, url), _nonce(context)
    )


@register.inclusion_tag("includes/cite.html")
def cite_box(obj):
    if not citations.is_citable(obj):
        return {"citation": None}
    kind = "publication" if obj._meta.model_name == "publication" else "article"
    return {"citation": citations.citation_for(obj), "kind": kind, "slug": obj.slug}
