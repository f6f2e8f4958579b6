"""Values every template of the site may use: the site settings and the navigation menus."""

from django.utils.functional import SimpleLazyObject

from .models import SiteSettings
from .navigation import get_menus


def site(request):
    # Lazy, so a page that shows neither pays no query and no cache look-up.
    return {
        "site_settings": SimpleLazyObject(SiteSettings.load),
        "menus": SimpleLazyObject(get_menus),
    }
