"""Values every template of the site may use: settings, menus and the page's canonical URL."""

from django.conf import settings
from django.utils.functional import SimpleLazyObject

from .models import SiteSettings
from .navigation import get_menus


def canonical_url(request) -> str:
    """The page's address on the public site: its path, and its page number past the first."""
    url = settings.SITE_URL + request.path
    page = request.GET.get("page", "")
    # isdecimal(), not isdigit(): "²" is a digit to Python but not a number int() reads.
    if page.isdecimal() and int(page) > 1:
        url += f"?page={int(page)}"
    return url


def site(request):
    # Lazy, so a page that shows none of these pays no query and no cache look-up.
    return {
        "site_settings": SimpleLazyObject(SiteSettings.load),
        "menus": SimpleLazyObject(get_menus),
        "canonical_url": SimpleLazyObject(lambda: canonical_url(request)),
    }
