from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CharharConfig(AppConfig):
    name = "charhar"
    verbose_name = _("Site")

    def ready(self):
        from . import caching, navigation  # noqa: F401  (navigation connects its receivers)
        from .models import Region, Topic

        caching.register(Topic, Region)
