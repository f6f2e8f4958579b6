"""Site-wide content: taxonomy, offices, site settings, navigation menus and about pages."""

import re
from urllib.parse import urlsplit

from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.search import SearchVectorField
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .fields import URLField
from .sanitize import clean_html


def unique_slug(instance, value: str, *, field: str = "slug", max_length: int | None = None) -> str:
    """A slug from `value` that no other row of the instance's model uses (suffixes -2, -3, …)."""
    max_length = max_length or instance._meta.get_field(field).max_length
    base = slugify(value, allow_unicode=True)[:max_length].strip("-") or "item"
    others = type(instance)._default_manager.exclude(pk=instance.pk)
    candidate, n = base, 2
    while others.filter(**{field: candidate}).exists():
        suffix = f"-{n}"
        candidate = f"{base[: max_length - len(suffix)]}{suffix}"
        n += 1
    return candidate


class TimeStampedModel(models.Model):
    # A default rather than auto_now_add, so imports can keep a legacy row's creation time.
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        abstract = True


class TaxonomyModel(models.Model):
    """A named, ordered grouping readers browse by (topics, regions, sections, series)."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    slug = models.SlugField(_("slug"), max_length=200, unique=True, allow_unicode=True)
    description = models.TextField(_("description"), blank=True)
    order = models.PositiveIntegerField(_("order"), default=0, db_index=True)

    class Meta:
        abstract = True
        ordering = ["order", "name"]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = unique_slug(self, self.name)
        super().save(*args, **kwargs)


class Topic(TaxonomyModel):
    class Meta(TaxonomyModel.Meta):
        verbose_name = _("topic")
        verbose_name_plural = _("topics")

    def get_absolute_url(self):
        return reverse("topic", kwargs={"slug": self.slug})


class Region(TaxonomyModel):
    class Meta(TaxonomyModel.Meta):
        verbose_name = _("region")
        verbose_name_plural = _("regions")

    def get_absolute_url(self):
        return reverse("region", kwargs={"slug": self.slug})


class Office(models.Model):
    """One of the institute's offices, with the details a visitor needs to reach it."""

    city = models.CharField(_("city"), max_length=120, unique=True)
    slug = models.SlugField(_("slug"), max_length=120, unique=True, allow_unicode=True)
    address = models.TextField(_("address"), blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    email = models.EmailField(_("email"), blank=True)
    order = models.PositiveIntegerField(_("order"), default=0, db_index=True)

    class Meta:
        ordering = ["order", "city"]
        verbose_name = _("office")
        verbose_name_plural = _("offices")

    def __str__(self):
        return self.city

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = unique_slug(self, self.city)
        super().save(*args, **kwargs)


class SiteSettings(models.Model):
    """The institute's name, footer and contact details: exactly one row, edited in the admin."""

    CACHE_KEY = "charhar:site-settings"

    institute_name = models.CharField(_("institute name"), max_length=200)
    tagline = models.CharField(_("tagline"), max_length=300, blank=True)
    chairman_quote = models.TextField(_("chairman quote"), blank=True)
    chairman_attribution = models.CharField(_("quote attribution"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    fax = models.CharField(_("fax"), max_length=50, blank=True)
    email = models.EmailField(_("email"), blank=True)
    facebook_url = URLField(_("Facebook URL"), blank=True)
    facebook_name = models.CharField(_("Facebook page name"), max_length=100, blank=True)
    twitter_url = URLField(_("Twitter/X URL"), blank=True)
    twitter_handle = models.CharField(_("Twitter/X handle"), max_length=100, blank=True)
    youtube_url = URLField(_("YouTube URL"), blank=True)
    instagram_url = URLField(_("Instagram URL"), blank=True)
    linkedin_url = URLField(_("LinkedIn URL"), blank=True)
    soundcloud_url = URLField(_("SoundCloud URL"), blank=True)
    footer_text = models.CharField(
        _("footer text"),
        max_length=300,
        blank=True,
        help_text=_("Shown after the copyright line, e.g. “All rights reserved.”"),
    )

    history = HistoricalRecords(user_related_name="+")

    class Meta:
        verbose_name = _("site settings")
        verbose_name_plural = _("site settings")

    def __str__(self):
        return self.institute_name or str(_("Site settings"))

    def save(self, *args, **kwargs):
        # One row only: whatever the form thinks, this is row 1.
        self.pk = 1
        super().save(*args, **kwargs)
        cache.delete(self.CACHE_KEY)

    def delete(self, *args, **kwargs):
        cache.delete(self.CACHE_KEY)
        return super().delete(*args, **kwargs)

    @classmethod
    def load(cls) -> "SiteSettings":
        """The settings row (cached); an unsaved default when staff have not created it yet."""
        settings = cache.get(cls.CACHE_KEY)
        if settings is None:
            settings = cls.objects.filter(pk=1).first() or cls(
                pk=1, institute_name="The Charhar Institute"
            )
            cache.set(cls.CACHE_KEY, settings, timeout=None)
        return settings

    @property
    def social_links(self) -> list[tuple[str, str]]:
        """(network, URL) pairs for the networks that have a URL, in the footer's order."""
        networks = [
            ("Twitter", self.twitter_url),
            ("Facebook", self.facebook_url),
            ("LinkedIn", self.linkedin_url),
            ("YouTube", self.youtube_url),
            ("SoundCloud", self.soundcloud_url),
            ("Instagram", self.instagram_url),
        ]
        return [(name, url) for name, url in networks if url]


class Page(TimeStampedModel):
    """An editable page such as About Us, Founding Chairman, Membership or Careers."""

    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=200, unique=True, allow_unicode=True)
    summary = models.TextField(
        _("summary"), blank=True, help_text=_("One or two sentences; used as the meta description.")
    )
    body = models.TextField(_("body"), blank=True, help_text=_("HTML; sanitized on save."))
    order = models.PositiveIntegerField(_("order"), default=0, db_index=True)
    is_published = models.BooleanField(_("published"), default=True, db_index=True)

    history = HistoricalRecords(excluded_fields=["updated_at"], user_related_name="+")

    class Meta:
        ordering = ["order", "title"]
        verbose_name = _("page")
        verbose_name_plural = _("pages")

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = unique_slug(self, self.title)
        self.body = clean_html(self.body)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("page", kwargs={"slug": self.slug})


_SAFE_LINK = re.compile(r"^(/(?!/)|#|https?://|mailto:|tel:)", re.IGNORECASE)


def validate_menu_link(value: str) -> None:
    """A menu link is a path on this site (/…), a fragment (#…) or an http(s)/mailto/tel URL."""
    if value and not _SAFE_LINK.match(value.strip()):
        raise ValidationError(
            _("Enter a path on this site starting with “/”, or a full http(s):// address."),
            code="invalid_link",
        )


class Menu(models.Model):
    """A navigation menu shown in one place of the layout (header, main bar, footer, …)."""

    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(
        _("location"),
        max_length=100,
        unique=True,
        help_text=_("Where the layout shows this menu, e.g. “main” or “footer”."),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("menu")
        verbose_name_plural = _("menus")

    def __str__(self):
        return self.name


class MenuItem(models.Model):
    """An entry of a menu; items with a parent form its drop-down."""

    MAX_DEPTH = 3

    menu = models.ForeignKey(Menu, on_delete=models.CASCADE, related_name="items")
    parent = models.ForeignKey(
        "self",
        on_delete=models.CASCADE,
        related_name="children",
        null=True,
        blank=True,
        verbose_name=_("parent item"),
    )
    label = models.CharField(_("label"), max_length=100)
    page = models.ForeignKey(
        Page,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="menu_items",
        verbose_name=_("page"),
        help_text=_("Link to one of the site's pages…"),
    )
    url = models.CharField(
        _("link"),
        max_length=500,
        blank=True,
        validators=[validate_menu_link],
        help_text=_("…or to a path such as /topics/ or a full URL."),
    )
    description = models.CharField(_("description"), max_length=300, blank=True)
    order = models.PositiveIntegerField(_("order"), default=0, db_index=True)

    class Meta:
        ordering = ["menu", "order", "pk"]
        verbose_name = _("menu item")
        verbose_name_plural = _("menu items")

    def __str__(self):
        return self.label

    def clean(self):
        if self.page_id and self.url:
            raise ValidationError({"url": _("Choose a page or type a link, not both.")})
        if self.parent_id:
            if self.parent.menu_id != self.menu_id:
                raise ValidationError({"parent": _("The parent item belongs to another menu.")})
            depth, ancestor = 1, self.parent
            while ancestor is not None:
                if ancestor.pk == self.pk:
                    raise ValidationError({"parent": _("An item cannot be its own ancestor.")})
                depth += 1
                ancestor = ancestor.parent
            if depth > self.MAX_DEPTH:
                raise ValidationError(
                    {
                        "parent": ValidationError(
                            _("Menus are at most %(depth)s levels deep."),
                            code="too_deep",
                            params={"depth": self.MAX_DEPTH},
                        )
                    }
                )

    @property
    def href(self) -> str:
        if self.page_id:
            return reverse("page", kwargs={"slug": self.page.slug})
        return self.url


def normalize_path(value: str) -> str:
    """The path (and query, where it matters, e.g. WordPress's /?p=123) of an old address."""
    parts = urlsplit((value or "").strip())
    path = parts.path or "/"
    if not path.startswith("/"):
        path = f"/{path}"
    return f"{path}?{parts.query}" if parts.query else path


class Redirect(TimeStampedModel):
    """An old address that now lives elsewhere: a legacy permalink, or a renamed slug.

    The target is a piece of content (so the redirect follows it through later renames) or,
    failing that, a fixed path or URL. Only requests that would otherwise be a 404 are
    redirected (see `charhar.middleware.RedirectFallbackMiddleware`).
    """

    old_path = models.CharField(
        _("old address"),
        max_length=500,
        unique=True,
        help_text=_("The path on this site, e.g. /en/article/2018/06/123.html or /?p=123."),
    )
    content_type = models.ForeignKey(
        ContentType, on_delete=models.CASCADE, null=True, blank=True, verbose_name=_("type")
    )
    object_id = models.PositiveBigIntegerField(_("object id"), null=True, blank=True)
    target = GenericForeignKey("content_type", "object_id")
    new_path = models.CharField(
        _("new address"),
        max_length=500,
        blank=True,
        validators=[validate_menu_link],
        help_text=_("Used when the redirect does not point at a piece of content."),
    )
    hits = models.PositiveIntegerField(_("times used"), default=0, editable=False)

    class Meta:
        ordering = ["old_path"]
        verbose_name = _("redirect")
        verbose_name_plural = _("redirects")
        indexes = [models.Index(fields=["content_type", "object_id"], name="redirect_target")]

    def __str__(self):
        return self.old_path

    def save(self, *args, **kwargs):
        self.old_path = normalize_path(self.old_path)
        super().save(*args, **kwargs)

    MAX_HOPS = 10

    def clean(self):
        self.old_path = normalize_path(self.old_path)
        if not self.new_path and not self.object_id:
            raise ValidationError({"new_path": _("Give the new address.")})
        self._check_no_loop()

    def _check_no_loop(self):
        """Follow the chain of redirects from here; refuse one that comes back or never ends."""
        from .editorial import path_variants

        seen = set(path_variants(self.old_path))
        destination = self.target_url() if (self.object_id or self.new_path) else ""
        for _hop in range(self.MAX_HOPS):
            if not destination.startswith("/") or destination.startswith("//"):
                return  # another site, or content that is gone: the chain ends here
            variants = path_variants(destination)
            if variants & seen:
                raise ValidationError(
                    {"new_path": _("This redirect would lead back to its own address.")},
                    code="redirect_loop",
                )
            seen |= variants
            following = Redirect.objects.exclude(pk=self.pk).filter(old_path__in=variants).first()
            if following is None:
                return
            destination = following.target_url()
        raise ValidationError(
            {"new_path": _("This redirect starts a chain of more than ten redirects.")},
            code="redirect_chain",
        )

    def target_url(self) -> str:
        """Where to send readers now; empty when the content it pointed at is gone."""
        if self.object_id and self.content_type_id:
            target = self.target
            return target.get_absolute_url() if target is not None else ""
        return self.new_path

    @classmethod
    def point(cls, old_path: str, target) -> "Redirect":
        """Create or update the redirect from `old_path` to a piece of content."""
        redirect, _created = cls.objects.update_or_create(
            old_path=normalize_path(old_path),
            defaults={
                "content_type": ContentType.objects.get_for_model(target),
                "object_id": target.pk,
                "new_path": "",
            },
        )
        return redirect


class ImportFingerprint(models.Model):
    """What an import last made of one source record (charhar/transfer/fingerprints.py).

    A re-run passes over a record whose digest is the same and whose row nobody has changed
    since (its `updated_at` is the one written then), without converting or comparing it.
    """

    source = models.CharField(max_length=64, unique=True)  # the record's type and key, hashed
    digest = models.CharField(max_length=64)  # the record as read, with the import's options
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.PositiveBigIntegerField()
    row_updated_at = models.DateTimeField()
    # The old addresses the record's redirects were written for, reported again on a pass.
    redirects = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("import fingerprint")
        verbose_name_plural = _("import fingerprints")

    def __str__(self):
        return f"{self.content_type_id}:{self.object_id}"


class SearchEntry(models.Model):
    """One searchable row (an article, a publication or an expert) as site search reads it on
    PostgreSQL: the columns it filters, counts and orders by, the ids of the row's topics,
    regions and credited experts, and a copy of the row's search vector.

    Narrow rows with the vector stored apart find and count thousands of hits from a few
    megabytes instead of the wide content tables and their link tables. Nothing in Python
    writes them: triggers on the content and link tables keep them current
    (`charhar.searchentries`), so every way of writing (save, update, bulk_create, COPY,
    raw SQL, a cascade) keeps search right. On other databases the table stays empty and
    search reads the content tables.
    """

    type = models.CharField(max_length=12)  # article, publication or expert
    object_id = models.BigIntegerField()
    kind = models.CharField(max_length=20)  # the article's kind, or the type
    status = models.CharField(max_length=20)  # an expert's is "active" or "inactive"
    published_at = models.DateTimeField(null=True)
    published_on = models.DateField(null=True)
    section_id = models.BigIntegerField(null=True)
    series_id = models.BigIntegerField(null=True)
    topic_ids = ArrayField(models.BigIntegerField(), default=list)
    region_ids = ArrayField(models.BigIntegerField(), default=list)
    expert_ids = ArrayField(models.BigIntegerField(), default=list)
    search_vector = SearchVectorField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["type", "object_id"], name="search_entry_once")
        ]
        verbose_name = _("search entry")
        verbose_name_plural = _("search entries")

    def __str__(self):
        return f"{self.type} {self.object_id}"
