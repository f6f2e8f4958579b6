from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NewsletterConfig(AppConfig):
    name = "newsletter"
    verbose_name = _("Newsletter")

    def ready(self):
        from django.contrib import admin
        from django_tasks_db.models import DBTaskResult

        # django-tasks-db registers a read-only admin for task results (autodiscovery has
        # run by now); the worker's log and each campaign's page, with its delivery counts
        # and failed addresses, are what staff need.
        if admin.site.is_registered(DBTaskResult):
            admin.site.unregister(DBTaskResult)
