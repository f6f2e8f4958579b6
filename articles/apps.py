from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ArticlesConfig(AppConfig):
    name = "articles"
    verbose_name = _("Articles and events")

    def ready(self):
        from charhar import caching
        from charhar.editorial import connect_redirect_signals

        from .models import Section

        caching.register(Section)
        # Renaming published content leaves a permanent redirect from its old address.
        connect_redirect_signals()
