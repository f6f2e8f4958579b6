"""Settings shared by every environment, read from the process environment.

Each variable is documented with its default in `.env.example` and the README.
A `.env` file at the project root, when present, is read first; real
environment variables win over it.
"""

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from charhar.logs import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "The SECRET_KEY environment variable must be set when DEBUG is off."
        )
    # Only a development server with DEBUG on may run without a key of its own.
    SECRET_KEY = "insecure-development-key-never-used-with-debug-off"  # noqa: S105

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
# Where the admin lives: a path of the site's own choosing keeps it off the scanners' lists.
ADMIN_URL = env.str("ADMIN_URL", default="admin/").strip("/") + "/"
# How many reverse proxies (nginx, a load balancer) stand in front of the app servers and
# append the address they saw to X-Forwarded-For; 0 when clients connect directly.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "taggit",
    "imagekit",
    "simple_history",
    "axes",
    "csp",
    "charhar",
    "experts",
    "articles",
    "publications",
    "newsletter",
    "django_tasks",
    "django_tasks_db",
]

MIDDLEWARE = [
    # First, so that its log line times the whole answer (a page from the page cache, a
    # redirect to HTTPS, a 500 included) and every record logged meanwhile carries the id.
    "charhar.middleware.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # /healthz and /readyz, answered before the host check, sessions and the page cache.
    "charhar.health.HealthCheckMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Outside the page cache, so a page served from it gets a header with its own nonce.
    "charhar.contentpolicy.ContentSecurityPolicyMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    # Addresses no database can look up (a NUL in a slug) are a 404 before any lookup.
    "charhar.security.NulInAddressMiddleware",
    # Before anything that may query: a 503 with Retry-After while the database is away.
    "charhar.middleware.DatabaseUnavailableMiddleware",
    # The page cache needs only the reader's language, trailing-slash redirects and the CSRF
    # cookie (for each reader's own token in a cached page) before it. A page it serves
    # skips sessions, authentication, messages and history, which anonymous readers without
    # a session cookie (the only ones it serves) never need.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "charhar.pagecache.PageCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Revisions record the signed-in user who made each change.
    "simple_history.middleware.HistoryRequestMiddleware",
    "charhar.middleware.RedirectFallbackMiddleware",
    # Last, as django-axes requires: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "charhar.urls"
WSGI_APPLICATION = "charhar.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "charhar.context_processors.site",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
if CACHES["default"]["BACKEND"] == "django_redis.cache.RedisCache":
    # A cache server that fails or goes away makes the site slower, not broken: every cache
    # call answers "not cached" at once and pages come from the database. Each failure is
    # logged (logger "django_redis.cache"). Options in CACHE_URL's query string win.
    _cache_options = CACHES["default"].setdefault("OPTIONS", {})
    _cache_options.setdefault("IGNORE_EXCEPTIONS", True)
    _cache_options.setdefault("SOCKET_CONNECT_TIMEOUT", 1)
    _cache_options.setdefault("SOCKET_TIMEOUT", 1)
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True

EMAIL_CONFIG = env.email("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str(
    "DEFAULT_FROM_EMAIL", default="The Charhar Institute <noreply@localhost>"
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL

AUTHENTICATION_BACKENDS = [
    # Counts failed sign-ins and refuses them during a lockout, before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# Staff passwords: at least 12 characters, not like the user's name or e-mail, not common,
# not all digits. The admin's password forms and `changepassword` apply these.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
FORMAT_MODULE_PATH = ["charhar.formats"]
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Uploaded media: on local disk in MEDIA_ROOT (shared by every app server, served by nginx)
# unless MEDIA_STORAGE=s3 puts them in an S3-compatible bucket (django-storages), which
# serves them itself. Credentials come from boto3's usual places (AWS_ACCESS_KEY_ID and
# AWS_SECRET_ACCESS_KEY in the environment, an instance role…), never from settings.
MEDIA_STORAGE = env.str("MEDIA_STORAGE", default="local").strip().lower()
if MEDIA_STORAGE == "s3":
    AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="").strip()
    if not AWS_STORAGE_BUCKET_NAME:
        raise ImproperlyConfigured(
            "MEDIA_STORAGE=s3 needs the bucket's name in AWS_STORAGE_BUCKET_NAME."
        )
    AWS_S3_REGION_NAME = env.str("AWS_S3_REGION_NAME", default="").strip() or None
    # MinIO, R2 and other S3-compatible services: their address; AWS itself by default.
    AWS_S3_ENDPOINT_URL = env.str("AWS_S3_ENDPOINT_URL", default="").strip().rstrip("/") or (
        f"https://s3.{AWS_S3_REGION_NAME}.amazonaws.com"
        if AWS_S3_REGION_NAME
        else "https://s3.amazonaws.com"
    )
    # A CDN or the bucket's public host name that serves the files instead of the endpoint.
    AWS_S3_CUSTOM_DOMAIN = env.str("AWS_S3_CUSTOM_DOMAIN", default="").strip().strip("/") or None
    # A folder in the bucket for the site's media, when the bucket holds other things too.
    AWS_LOCATION = env.str("AWS_LOCATION", default="").strip().strip("/")
    # Bucket in the path (https://endpoint/bucket/name): works on every S3-compatible service
    # and makes the media URLs predictable, so MEDIA_URL below is the address they start with.
    AWS_S3_ADDRESSING_STYLE = "path"
    # Media are public: plain URLs, no signed query strings that expire in cached pages.
    AWS_QUERYSTRING_AUTH = False
    # Objects get no ACL: the bucket's policy makes them public (buckets that refuse ACLs
    # are the default on AWS).
    AWS_DEFAULT_ACL = None
    # A second file with a taken name gets a new name, as on local disk.
    AWS_S3_FILE_OVERWRITE = False
    STORAGES["default"] = {"BACKEND": "charhar.storage.MediaStorage"}
    MEDIA_URL = (
        f"https://{AWS_S3_CUSTOM_DOMAIN}/"
        if AWS_S3_CUSTOM_DOMAIN
        else f"{AWS_S3_ENDPOINT_URL}/{AWS_STORAGE_BUCKET_NAME}/"
    ) + (f"{AWS_LOCATION}/" if AWS_LOCATION else "")
elif MEDIA_STORAGE != "local":
    raise ImproperlyConfigured(
        f"MEDIA_STORAGE is {MEDIA_STORAGE!r}: use 'local' (MEDIA_ROOT) or 's3' (a bucket)."
    )

# Uploads: the limits the content model's validators enforce.
MAX_IMAGE_UPLOAD_BYTES = env.int("MAX_IMAGE_UPLOAD_BYTES", default=10 * 1024 * 1024)
MAX_IMAGE_PIXELS = env.int("MAX_IMAGE_PIXELS", default=40_000_000)
MAX_PDF_UPLOAD_BYTES = env.int("MAX_PDF_UPLOAD_BYTES", default=50 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Whole pages for anonymous readers, at most this long (and never past the next scheduled
# publication); 0 turns the page cache off (ETags and 304s stay on). See charhar/pagecache.py.
PAGE_CACHE_SECONDS = env.int("PAGE_CACHE_SECONDS", default=600)
# Each app server process also keeps copies of the pages it serves, up to this many bytes,
# so that a hit asks the cache server for the content state only, not for the page; 0 keeps
# none (every hit then brings the page from the cache server).
PAGE_CACHE_LOCAL_BYTES = env.int("PAGE_CACHE_LOCAL_BYTES", default=8 * 1024 * 1024)
# With Redis as the cache, each process also subscribes to the announcements of content
# changes and reads the content state again only after one: a hit then needs no round trip
# to Redis at all (charhar/pagecache.py, `_ChangeWatch`). False reads it on every request.
PAGE_CACHE_SUBSCRIBE = env.bool("PAGE_CACHE_SUBSCRIBE", default=True)

# Renditions are generated when their source image is saved, and templates trust they exist:
# rendering a listing never touches storage or the database for its thumbnails.
IMAGEKIT_DEFAULT_CACHEFILE_STRATEGY = "imagekit.cachefiles.strategies.Optimistic"
IMAGEKIT_CACHEFILE_DIR = "renditions"

# Security headers and cookies. Only staff have sessions: a working day, and gone when the
# browser closes. Readers' forms carry the CSRF token in the page (the sign-up script posts
# the form's own fields), so no script needs to read the CSRF cookie.
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 60 * 60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Powerful browser features the site never uses, refused to every page and any frame in it.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer", "autoplay", "browsing-topics", "camera", "display-capture",
        "geolocation", "gyroscope", "hid", "magnetometer", "microphone", "midi", "payment",
        "publickey-credentials-get", "serial", "usb", "xr-spatial-tracking",
    )
}  # fmt: skip


def _origin(url: str) -> list[str]:
    """The origin of an absolute URL (media on object storage), or nothing for a path."""
    parts = urlsplit(url)
    return [f"{parts.scheme}://{parts.netloc}"] if parts.scheme and parts.netloc else []


# Content Security Policy (django-csp): nothing inline but what carries the response's nonce,
# nothing from other origins, no framing. Public pages use static scripts and styles only;
# the JSON-LD data blocks carry the nonce (the page cache swaps in each response's own).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:", *_origin(MEDIA_URL)],
        "font-src": [SELF],
        "connect-src": [SELF],
        "media-src": [SELF, *_origin(MEDIA_URL)],
        "object-src": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [SELF],
    },
}

# Admin sign-in: django-axes counts failures in the database (shared by every app server) per
# client address and per username; at the limit, sign-ins are refused for the cool-off period
# with the lockout page (429). A success resets the count.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "charhar.security.lockout_response"
AXES_CLIENT_IP_CALLABLE = "charhar.security.client_ip"
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"

TAGGIT_CASE_INSENSITIVE = True

# Logs go to standard error, each record carrying its request's id: readable lines in a
# terminal, or one JSON object a line for a log collector (LOG_FORMAT=json, production's
# default). Every request is logged by charhar.middleware.RequestLogMiddleware
# (logger "charhar.requests"); see docs/operations.md.
LOG_FORMAT = env.str("LOG_FORMAT", default="text")
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = logging_config(LOG_FORMAT, LOG_LEVEL)


# Newsletter
# Background work (confirmation emails, campaign sends) goes through django-tasks with its
# database backend; `manage.py db_worker` runs it (see docs/newsletter.md).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
NEWSLETTER_FROM_EMAIL = env.str("NEWSLETTER_FROM_EMAIL", default=DEFAULT_FROM_EMAIL)
# How long a confirmation link works, and how often one address may be sent another.
NEWSLETTER_CONFIRM_MAX_AGE = 7 * 24 * 3600
NEWSLETTER_RESEND_INTERVAL = 3600
# Sign-up attempts allowed per window (count, seconds): per client IP and per address.
NEWSLETTER_SIGNUP_RATE_PER_IP = (10, 3600)
NEWSLETTER_SIGNUP_RATE_PER_ADDRESS = (3, 3600)
# Sending: messages per SMTP connection, tries per address, wait before a retry run.
NEWSLETTER_BATCH_SIZE = env.int("NEWSLETTER_BATCH_SIZE", default=500)
NEWSLETTER_MAX_ATTEMPTS = env.int("NEWSLETTER_MAX_ATTEMPTS", default=3)
NEWSLETTER_RETRY_DELAY = env.int("NEWSLETTER_RETRY_DELAY", default=600)
# A confirmation email the mail server did not take is tried again after each of these waits
# (seconds: a minute, five, half an hour, two hours, six, a day), then given up.
NEWSLETTER_CONFIRMATION_RETRY_DELAYS = (60, 300, 1800, 7200, 21600, 86400)
# A campaign's content: at most this many items of each kind; the first campaign looks back
# this many days.
NEWSLETTER_MAX_ITEMS_PER_KIND = 10
NEWSLETTER_FIRST_CAMPAIGN_DAYS = 30
