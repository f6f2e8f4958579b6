"""Model fields shared by the apps."""

from django.db import models


class URLField(models.URLField):
    """A URL field whose forms assume https:// when an editor types an address without one.

    Django 6 makes this the default; passing it explicitly keeps Django 5.2 free of the
    deprecation warning and the behaviour identical across the upgrade.
    """

    def formfield(self, **kwargs):
        return super().formfield(**{"assume_scheme": "https", **kwargs})
