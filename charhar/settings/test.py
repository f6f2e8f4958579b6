"""Test settings: the suite runs against DATABASE_URL (SQLite by default, PostgreSQL in CI)."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-key")

from .base import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en"
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
SITE_URL = "http://testserver"
# Tests serve static files through the finders; there is no collected STATIC_ROOT.
WHITENOISE_AUTOREFRESH = True
# Pages are rendered on every request unless a test turns the page cache on.
PAGE_CACHE_SECONDS = 0

# Newsletter
NEWSLETTER_FROM_EMAIL = "The Charhar Institute <noreply@example.org>"
