from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CharharConfig(AppConfig):
    name = "charhar"
    verbose_name = _("Site")

    def ready(self):
        # navigation and pagecache connect their signal receivers on import.
        from . import caching, navigation, pagecache  # noqa: F401
        from .models import Region, Topic

        caching.register(Topic, Region)
        # Search vectors are refreshed after every save of what search finds.
        from . import search

        search.connect_signals()
        # Re-runs of imports pass over unchanged records until a row they name changes.
        from .transfer import fingerprints

        fingerprints.connect_signals()
