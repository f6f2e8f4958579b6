from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CharharConfig(AppConfig):
    name = "charhar"
    verbose_name = _("Site")

    def ready(self):
        from . import navigation  # noqa: F401  (connects the menu cache's signal receivers)
