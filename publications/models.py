"""Books, journals, reports and newsletters the institute publishes, grouped in series."""

from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import OuterRef, Prefetch, Q, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from imagekit.models import ImageSpecField
from pilkit.processors import ResizeToFill
from simple_history.models import HistoricalRecords

from charhar.fields import URLField
from charhar.models import Region, TaxonomyModel, TimeStampedModel, Topic, unique_slug
from charhar.validators import (
    GeneratedName,
    normalize_isbn,
    validate_image_upload,
    validate_isbn,
    validate_pdf_upload,
)
from experts.models import Expert


class Series(TaxonomyModel):
    """A publication series, e.g. Public Diplomacy Quarterly."""

    class Meta(TaxonomyModel.Meta):
        verbose_name = _("publication series")
        verbose_name_plural = _("publication series")

    def get_absolute_url(self):
        return reverse("publications:series", kwargs={"slug": self.slug})


class PublicationQuerySet(models.QuerySet):
    def published(self, today=None):
        """Publications readers may see: published status, publication date reached."""
        return self.filter(
            status=Publication.Status.PUBLISHED,
            published_on__lte=today or timezone.localdate(),
        )

    def latest_per_series(self, per_series=2):
        """Each series' latest `per_series` publications, newest first, in one query.

        One correlated subquery per rank (LIMIT 1 OFFSET n) on the series table: each walks
        the series' entries in `publication_series_latest` and stops at once, instead of
        ranking every publication.
        """
        newest = self.filter(series=OuterRef("pk")).order_by("-published_on", "-pk").values("pk")
        first, *others = [
            Series.objects.order_by().annotate(pick=Subquery(newest[n : n + 1])).values("pick")
            for n in range(per_series)
        ]
        # One list of ids (a UNION), which the database reads by primary key; an OR of
        # several lists would make it test every publication against each.
        picks = first.union(*others, all=True) if others else first
        return (
            self.filter(pk__in=picks, series__isnull=False)
            .select_related("series")
            .order_by("series__order", "series__name", "-published_on", "-pk")
        )

    def with_related(self):
        """What a listing row shows: the series and the contributors in credit order."""
        return self.select_related("series").prefetch_related(
            Prefetch(
                "contributions",
                queryset=PublicationAuthor.objects.select_related("expert").order_by("order", "pk"),
            ),
        )

    def with_detail(self):
        """with_related() plus the topics and regions the publication page links to."""
        return self.with_related().prefetch_related(
            Prefetch("topics", queryset=Topic.objects.order_by("order", "name")),
            Prefetch("regions", queryset=Region.objects.order_by("order", "name")),
        )


class Publication(TimeStampedModel):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")

    title = models.CharField(_("title"), max_length=300)
    slug = models.SlugField(_("slug"), max_length=255, unique=True, allow_unicode=True)
    series = models.ForeignKey(
        Series,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="publications",
        verbose_name=_("series"),
    )
    authors = models.ManyToManyField(
        Expert,
        through="PublicationAuthor",
        blank=True,
        related_name="publications",
        verbose_name=_("authors and editors"),
    )
    byline = models.CharField(
        _("outside authors or editors"),
        max_length=300,
        blank=True,
        help_text=_("Names of contributors who are not the institute's experts."),
    )
    publisher = models.CharField(_("publisher"), max_length=200, blank=True)
    published_on = models.DateField(_("publication date"), db_index=True)
    isbn = models.CharField(
        _("ISBN"),
        max_length=17,
        blank=True,
        validators=[validate_isbn],
        help_text=_("ISBN-10 or ISBN-13; hyphens are optional."),
    )
    volume = models.CharField(_("volume"), max_length=50, blank=True)
    issue = models.CharField(_("issue"), max_length=50, blank=True)
    cover = models.ImageField(
        _("cover image"),
        upload_to=GeneratedName("publications/covers/", "cover"),
        blank=True,
        validators=[validate_image_upload],
    )
    cover_thumbnail = ImageSpecField(
        source="cover", processors=[ResizeToFill(160, 224)], format="JPEG", options={"quality": 85}
    )
    cover_rendition = ImageSpecField(
        source="cover", processors=[ResizeToFill(360, 504)], format="JPEG", options={"quality": 85}
    )
    summary = models.TextField(_("summary"), blank=True)
    pdf = models.FileField(
        _("PDF"),
        upload_to=GeneratedName("publications/pdf/%Y/", "pdf"),
        blank=True,
        validators=[validate_pdf_upload],
    )
    pdf_size = models.PositiveBigIntegerField(_("PDF size in bytes"), null=True, editable=False)
    purchase_url = URLField(_("purchase link"), max_length=500, blank=True)
    topics = models.ManyToManyField(
        Topic, blank=True, related_name="publications", verbose_name=_("topics")
    )
    regions = models.ManyToManyField(
        Region, blank=True, related_name="publications", verbose_name=_("regions")
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=Status.choices,
        default=Status.PUBLISHED,
        db_index=True,
    )
    is_featured = models.BooleanField(_("featured"), default=False)

    # Full-text search on PostgreSQL, weighted (see charhar/search.py): refreshed after every
    # save; bulk writers call charhar.search.refresh_search_vectors(queryset) themselves.
    search_vector = SearchVectorField(null=True, editable=False)

    objects = PublicationQuerySet.as_manager()
    history = HistoricalRecords(
        excluded_fields=["updated_at", "search_vector"], user_related_name="+"
    )

    class Meta:
        ordering = ["-published_on", "-pk"]
        verbose_name = _("publication")
        verbose_name_plural = _("publications")
        indexes = [
            # The home page's series blocks: each series' latest issues, found by walking
            # this index from the top of the series instead of ranking every publication.
            models.Index(
                fields=["series", "-published_on", "-id"],
                condition=Q(status="published"),
                name="publication_series_latest",
            ),
        ]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = unique_slug(self, self.title)
        self.isbn = normalize_isbn(self.isbn)
        if not self.pdf:
            self.pdf_size = None
        elif self.pdf_size is None or not self.pdf._committed:
            # Measured once, so pages never ask (possibly remote) storage for the size.
            try:
                self.pdf_size = self.pdf.size
            except OSError:
                self.pdf_size = None
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("publications:detail", kwargs={"slug": self.slug})

    @property
    def ordered_contributions(self):
        return list(self.contributions.all())


class PublicationAuthor(models.Model):
    """An expert's part in a publication: author or editor, in credit order."""

    class Role(models.TextChoices):
        AUTHOR = "author", _("Author")
        EDITOR = "editor", _("Editor")
        TRANSLATOR = "translator", _("Translator")

    publication = models.ForeignKey(
        Publication, on_delete=models.CASCADE, related_name="contributions"
    )
    expert = models.ForeignKey(
        Expert, on_delete=models.CASCADE, related_name="contributions", verbose_name=_("expert")
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.AUTHOR)
    order = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["order", "pk"]
        verbose_name = _("contributor")
        verbose_name_plural = _("contributors")
        constraints = [
            models.UniqueConstraint(
                fields=["publication", "expert", "role"], name="publication_contributor_once"
            ),
        ]

    def __str__(self):
        return f"{self.expert} ({self.get_role_display()})"
