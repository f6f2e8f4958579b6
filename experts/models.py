"""The institute's experts: fellows, researchers and staff who write and speak for it."""

from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Prefetch
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from imagekit.models import ImageSpecField
from pilkit.processors import ResizeToFill
from simple_history.models import HistoricalRecords

from charhar.models import Region, TimeStampedModel, Topic, unique_slug
from charhar.sanitize import clean_html
from charhar.validators import GeneratedName, validate_image_upload


class ExpertQuerySet(models.QuerySet):
    def published(self):
        """Experts readers may see: the active ones."""
        return self.filter(is_active=True)

    def with_related(self):
        return self.prefetch_related(
            Prefetch("topics", queryset=Topic.objects.order_by("order", "name")),
            Prefetch("regions", queryset=Region.objects.order_by("order", "name")),
        )


class Expert(TimeStampedModel):
    name = models.CharField(_("name"), max_length=200, db_index=True)
    slug = models.SlugField(_("slug"), max_length=200, unique=True, allow_unicode=True)
    title = models.CharField(
        _("title"), max_length=200, blank=True, help_text=_("e.g. “Adjunct Senior Fellow”")
    )
    affiliation = models.CharField(_("affiliation"), max_length=300, blank=True)
    photo = models.ImageField(
        _("photo"),
        upload_to=GeneratedName("experts/", "photo"),
        blank=True,
        validators=[validate_image_upload],
    )
    portrait = ImageSpecField(
        source="photo", processors=[ResizeToFill(240, 300)], format="JPEG", options={"quality": 85}
    )
    avatar = ImageSpecField(
        source="photo", processors=[ResizeToFill(96, 96)], format="JPEG", options={"quality": 85}
    )
    short_bio = models.TextField(
        _("short bio"), blank=True, help_text=_("Plain text, a sentence or two, for listings.")
    )
    bio = models.TextField(_("full bio"), blank=True, help_text=_("HTML; sanitized on save."))
    topics = models.ManyToManyField(
        Topic, blank=True, related_name="experts", verbose_name=_("expertise topics")
    )
    regions = models.ManyToManyField(
        Region, blank=True, related_name="experts", verbose_name=_("expertise regions")
    )
    order = models.PositiveIntegerField(_("order"), default=0, db_index=True)
    is_active = models.BooleanField(
        _("active"), default=True, db_index=True, help_text=_("Inactive experts are not listed.")
    )

    # Full-text search on PostgreSQL, weighted (see charhar/search.py): refreshed after every
    # save; bulk writers call charhar.search.refresh_search_vectors(queryset) themselves.
    search_vector = SearchVectorField(null=True, editable=False)

    objects = ExpertQuerySet.as_manager()
    history = HistoricalRecords(
        excluded_fields=["updated_at", "search_vector"], user_related_name="+"
    )

    class Meta:
        ordering = ["order", "name"]
        verbose_name = _("expert")
        verbose_name_plural = _("experts")

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = unique_slug(self, self.name)
        self.bio = clean_html(self.bio)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("experts:detail", kwargs={"slug": self.slug})
