"""The one HTML sanitizer: every body written by editors or imports passes through `clean_html`.

Scripts, event handlers, style attributes and `javascript:` (or any non-listed) URLs are
removed; the structure an article needs (headings, lists, tables, figures, links and images)
is kept.
"""

import nh3

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd", "div", "dl", "dt",
    "em", "figcaption", "figure", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "li", "ol",
    "p", "pre", "q", "s", "small", "span", "strong", "sub", "sup", "table", "tbody", "td",
    "tfoot", "th", "thead", "tr", "u", "ul",
}  # fmt: skip

ALLOWED_ATTRIBUTES = {
    "*": {"class", "dir", "id", "lang", "title"},
    "a": {"href", "hreflang"},
    "abbr": {"title"},
    "blockquote": {"cite"},
    "img": {"alt", "height", "src", "width", "loading"},
    "ol": {"start", "reversed"},
    "q": {"cite"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
}

URL_SCHEMES = {"http", "https", "mailto", "tel"}


def clean_html(html: str) -> str:
    """Return `html` with everything outside the allowed tags, attributes and schemes removed."""
    if not html:
        return ""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    ).strip()
