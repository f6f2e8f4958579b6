"""The site's chrome, rendered once per content version and language in each process.

Every page repeats the same header (menus, search box) and footer (contact details, footer
menu). They change only when staff change content, and every such change replaces the
content version (`charhar.pagecache`), shared by all app servers through the cache. So each
process keeps the last rendering of each fragment, keyed by the version, the language and
whatever else the fragment shows (the search box's query, the year), and renders it again
as soon as the version moves: an edit shows on the next request, on every app server.

    {% load fragments %}
    {% chrome "header" query %}{% include "includes/header.html" %}{% endchrome %}

Pages rendered without a request (the 500 and 503 pages, which must not touch the database
or the cache) render the fragment as it is and keep nothing.
"""

from django import template
from django.utils.translation import get_language

from charhar.pagecache import content_version

register = template.Library()

# A few fragments times the languages and search queries seen since the last change; a new
# version makes every entry useless, so the whole store is dropped when it fills up.
MAX_ENTRIES = 200
_rendered: dict[tuple, str] = {}


class ChromeNode(template.Node):
    def __init__(self, nodelist, name, vary_on):
        self.nodelist = nodelist
        self.name = name
        self.vary_on = vary_on

    def render(self, context):
        if context.get("request") is None:
            return self.nodelist.render(context)
        key = (
            self.name.resolve(context),
            content_version(),
            get_language(),
            *(str(value.resolve(context)) for value in self.vary_on),
        )
        html = _rendered.get(key)
        if html is None:
            html = self.nodelist.render(context)
            if len(_rendered) >= MAX_ENTRIES:
                _rendered.clear()
            _rendered[key] = html
        return html


@register.tag
def chrome(parser, token):
    """{% chrome "name" [value ...] %}…{% endchrome %}: the enclosed part, rendered once per
    content version, language and the values given."""
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError(f"'{bits[0]}' takes a fragment name.")
    nodelist = parser.parse(("endchrome",))
    parser.delete_first_token()
    return ChromeNode(
        nodelist, parser.compile_filter(bits[1]), [parser.compile_filter(bit) for bit in bits[2:]]
    )
