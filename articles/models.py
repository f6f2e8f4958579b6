"""Articles: commentary, research, news, events, announcements and media pieces."""

import zoneinfo

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import OuterRef, Prefetch, Q, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords
from taggit.managers import TaggableManager
from taggit.models import TaggedItemBase

from charhar.fields import URLField
from charhar.images import generate_renditions, rendition
from charhar.models import Region, TaxonomyModel, TimeStampedModel, Topic, unique_slug
from charhar.sanitize import clean_html
from charhar.validators import GeneratedName, validate_image_upload
from experts.models import Expert


class Section(TaxonomyModel):
    """A News & Events section: Public Diplomacy, Peace Studies, Charhar News, …"""

    class Meta(TaxonomyModel.Meta):
        verbose_name = _("News & Events section")
        verbose_name_plural = _("News & Events sections")

    def get_absolute_url(self):
        return reverse("articles:section", kwargs={"slug": self.slug})


class ArticleQuerySet(models.QuerySet):
    def published(self, now=None):
        """The one rule for what readers may see: published status, publication time reached.

        A published article with a future time is scheduled: it appears by itself when the
        time comes, because this filter is evaluated on every query.
        """
        return self.filter(status=Article.Status.PUBLISHED, published_at__lte=now or timezone.now())

    def with_related(self):
        """Everything a listing row shows (section, event, authors in order), in fixed queries."""
        return self.select_related("section", "event").prefetch_related(
            Prefetch(
                "authorships",
                queryset=ArticleAuthor.objects.select_related("expert").order_by("order", "pk"),
            ),
        )

    def cards(self):
        """with_related() without the columns no card shows: the body and the search vector
        are most of a row's bytes, and a listing page reads twenty rows for a title, a date
        and a summary each."""
        return self.with_related().defer("body", "search_vector")

    def with_detail(self):
        """with_related() plus what the article page shows: topics, regions and tags."""
        return self.with_related().prefetch_related(
            Prefetch("topics", queryset=Topic.objects.order_by("order", "name")),
            Prefetch("regions", queryset=Region.objects.order_by("order", "name")),
            "tags",
        )

    def events(self):
        return self.filter(kind=Article.Kind.EVENT, event__isnull=False)

    def upcoming_events(self, now=None):
        """Events that have not ended yet, soonest first."""
        now = now or timezone.now()
        return (
            self.events()
            .filter(
                Q(event__ends_at__gte=now)
                | Q(event__ends_at__isnull=True, event__starts_at__gte=now)
            )
            .order_by("event__starts_at", "pk")
        )

    def past_events(self, now=None):
        """Events that have ended, most recent first."""
        now = now or timezone.now()
        return (
            self.events()
            .filter(
                Q(event__ends_at__lt=now) | Q(event__ends_at__isnull=True, event__starts_at__lt=now)
            )
            .order_by("-event__starts_at", "-pk")
        )

    def related_to(self, article, limit=4):
        """Other published articles sharing a topic with `article`, newest first."""
        topic_ids = [topic.pk for topic in article.topics.all()]
        if not topic_ids:
            return self.none()
        shared = Article.topics.through.objects.filter(topic_id__in=topic_ids).values("article_id")
        return (
            self.filter(pk__in=shared)
            .exclude(pk=article.pk)
            .order_by("-published_at", "-pk")[:limit]
        )

    def latest_per_topic(self, per_topic=2):
        """{topic id: [article ids]}: each topic's latest `per_topic` articles, in one query.

        One correlated subquery per rank (LIMIT 1 OFFSET n) on the topics table: each walks
        the articles newest first and stops at the first match, instead of ranking every
        article of every topic.
        """
        newest = self.filter(topics=OuterRef("pk")).order_by("-published_at", "-pk").values("pk")
        ranks = {f"rank_{n}": Subquery(newest[n : n + 1]) for n in range(per_topic)}
        latest = {}
        for topic_id, *article_ids in Topic.objects.annotate(**ranks).values_list("pk", *ranks):
            latest[topic_id] = [pk for pk in article_ids if pk is not None]
        return latest

    def news_and_events(self):
        """What the News & Events pages list: anything filed in a section, and news-like kinds."""
        return self.filter(
            Q(section__isnull=False)
            | Q(
                kind__in=[
                    Article.Kind.NEWS,
                    Article.Kind.EVENT,
                    Article.Kind.ANNOUNCEMENT,
                    Article.Kind.MEDIA,
                ]
            )
        )

    def research(self):
        return self.filter(kind=Article.Kind.RESEARCH)


class Article(TimeStampedModel):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        REVIEW = "review", _("In review")
        PUBLISHED = "published", _("Published")
        ARCHIVED = "archived", _("Archived")

    class Kind(models.TextChoices):
        COMMENTARY = "commentary", _("Commentary")
        RESEARCH = "research", _("Research")
        NEWS = "news", _("News")
        EVENT = "event", _("Event")
        ANNOUNCEMENT = "announcement", _("Announcement")
        MEDIA = "media", _("Media")

    title = models.CharField(_("title"), max_length=300)
    slug = models.SlugField(_("slug"), max_length=255, unique=True, allow_unicode=True)
    summary = models.TextField(
        _("summary"), blank=True, help_text=_("Plain text shown in listings and feeds.")
    )
    body = models.TextField(_("body"), blank=True, help_text=_("HTML; sanitized on save."))
    hero_image = models.ImageField(
        _("hero image"),
        upload_to=GeneratedName("articles/%Y/%m/", "hero_image"),
        blank=True,
        validators=[validate_image_upload],
    )
    # Renditions: generated once when the hero image (or its focal point) is saved; sizes
    # fixed so pages don't shift; WebP for browsers that take it, JPEG for the rest.
    thumbnail = rendition(160, 90, source="hero_image")
    thumbnail_webp = rendition(160, 90, "webp", source="hero_image")
    card_image = rendition(480, 270, source="hero_image")
    card_image_webp = rendition(480, 270, "webp", source="hero_image")
    card_image_2x = rendition(960, 540, source="hero_image")
    card_image_2x_webp = rendition(960, 540, "webp", source="hero_image")
    hero_small = rendition(800, 450, source="hero_image")
    hero_small_webp = rendition(800, 450, "webp", source="hero_image")
    hero_rendition = rendition(1200, 675, source="hero_image")
    hero_rendition_webp = rendition(1200, 675, "webp", source="hero_image")
    # The size Facebook, LinkedIn and X show link previews at; JPEG, which they all read.
    social_image = rendition(1200, 630, source="hero_image")
    RENDITIONS = (
        "thumbnail",
        "thumbnail_webp",
        "card_image",
        "card_image_webp",
        "card_image_2x",
        "card_image_2x_webp",
        "hero_small",
        "hero_small_webp",
        "hero_rendition",
        "hero_rendition_webp",
        "social_image",
    )
    hero_alt = models.CharField(
        _("hero image text alternative"),
        max_length=300,
        blank=True,
        help_text=_("What the image shows, for readers who cannot see it."),
    )
    hero_caption = models.CharField(_("hero image caption"), max_length=500, blank=True)
    hero_credit = models.CharField(_("hero image credit"), max_length=200, blank=True)
    published_at = models.DateTimeField(
        _("publication time"),
        null=True,
        blank=True,
        db_index=True,
        help_text=_("A future time schedules the article: it appears by itself then."),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT
    )
    kind = models.CharField(
        _("kind"), max_length=20, choices=Kind.choices, default=Kind.COMMENTARY, db_index=True
    )
    section = models.ForeignKey(
        Section,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="articles",
        verbose_name=_("News & Events section"),
    )
    topics = models.ManyToManyField(
        Topic, blank=True, related_name="articles", verbose_name=_("topics")
    )
    regions = models.ManyToManyField(
        Region, blank=True, related_name="articles", verbose_name=_("regions")
    )
    tags = TaggableManager(through="TaggedArticle", blank=True, verbose_name=_("tags"))
    authors = models.ManyToManyField(
        Expert,
        through="ArticleAuthor",
        blank=True,
        related_name="articles",
        verbose_name=_("authors"),
    )
    byline = models.CharField(
        _("outside authors"),
        max_length=300,
        blank=True,
        help_text=_("Names of authors who are not the institute's experts, as they should read."),
    )
    source_name = models.CharField(
        _("source"), max_length=200, blank=True, help_text=_("Where a republished piece first ran.")
    )
    source_url = URLField(_("source URL"), max_length=500, blank=True)
    is_featured = models.BooleanField(_("featured"), default=False)
    legacy_url = models.CharField(
        _("legacy URL"),
        max_length=500,
        blank=True,
        help_text=_("The address of this article on the old site, kept as a redirect."),
    )
    # Editorial workflow: who wrote, submitted and published the piece, and when.
    hero_focal_x = models.PositiveSmallIntegerField(
        _("focal point across (%)"),
        default=50,
        validators=[MaxValueValidator(100)],
        help_text=_("Where the subject is, from the left edge: crops keep it in frame."),
    )
    hero_focal_y = models.PositiveSmallIntegerField(
        _("focal point down (%)"),
        default=50,
        validators=[MaxValueValidator(100)],
        help_text=_("Where the subject is, from the top edge."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="articles_created",
        verbose_name=_("created by"),
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="articles_submitted",
        verbose_name=_("submitted for review by"),
    )
    submitted_at = models.DateTimeField(_("submitted for review"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="articles_published",
        verbose_name=_("published by"),
    )
    published_by_at = models.DateTimeField(
        _("publication approved"),
        null=True,
        blank=True,
        help_text=_("When an editor published or scheduled it (readers may see it later)."),
    )

    # Full-text search on PostgreSQL, weighted (see charhar/search.py): refreshed after every
    # save; bulk writers call charhar.search.refresh_search_vectors(queryset) themselves.
    search_vector = SearchVectorField(null=True, editable=False)

    objects = ArticleQuerySet.as_manager()
    history = HistoricalRecords(
        excluded_fields=["updated_at", "search_vector"],
        user_related_name="+",
        cascade_delete_history=False,
    )

    class Meta:
        ordering = ["-published_at", "-pk"]
        verbose_name = _("article")
        verbose_name_plural = _("articles")
        indexes = [
            models.Index(fields=["status", "-published_at"], name="article_status_date"),
            # Every public listing: published articles newest first, in the order the index
            # keeps, so a page's ids come from the index alone (an index-only scan) at any
            # depth. Kind and section ride along so that the kind, research and News & Events
            # listings filter inside the index too, without reading the table.
            models.Index(
                fields=["-published_at", "-id", "kind", "section"],
                condition=Q(status="published"),
                name="article_published_order",
            ),
            # The home page's featured slot: a handful of rows among many.
            models.Index(
                fields=["-published_at"], condition=Q(is_featured=True), name="article_featured"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["legacy_url"],
                condition=~Q(legacy_url=""),
                name="article_unique_legacy_url",
                violation_error_code="unique",
                violation_error_message=_("Another article already has this legacy URL."),
            ),
        ]
        permissions = [
            (
                "publish_article",
                _("Can publish, schedule, unpublish and feature articles, and edit anyone's"),
            ),
        ]

    def __str__(self):
        return self.title

    def clean(self):
        if self.status == self.Status.PUBLISHED and not self.published_at:
            self.published_at = timezone.now()
        if self.status == self.Status.PUBLISHED:
            self.validate_publishable()

    def validate_publishable(self):
        """What readers need before a piece goes out: a text alternative for its image."""
        if self.hero_image and not self.hero_alt.strip():
            raise ValidationError(
                {
                    "hero_alt": ValidationError(
                        _("Describe the hero image for readers who cannot see it."),
                        code="alt_required",
                    )
                }
            )

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = unique_slug(self, self.title)
        if self.status == self.Status.PUBLISHED and not self.published_at:
            self.published_at = timezone.now()
        self.body = clean_html(self.body)
        super().save(*args, **kwargs)
        if self.hero_image:
            generate_renditions(self, self.RENDITIONS)

    def get_absolute_url(self):
        return reverse("articles:detail", kwargs={"slug": self.slug})

    @property
    def is_scheduled(self) -> bool:
        return (
            self.status == self.Status.PUBLISHED
            and self.published_at is not None
            and self.published_at > timezone.now()
        )

    @property
    def is_live(self) -> bool:
        return (
            self.status == self.Status.PUBLISHED
            and self.published_at is not None
            and self.published_at <= timezone.now()
        )

    # The editorial workflow. Every path that changes an article in the admin (the change
    # form, bulk actions, restoring a revision) goes through these, so the rules are the same
    # whichever way staff come.

    EDITABLE_BY_CONTRIBUTORS = (Status.DRAFT, Status.REVIEW)

    @staticmethod
    def can_publish(user) -> bool:
        """Editors publish, schedule, unpublish and feature, and edit anyone's articles."""
        return user is not None and user.has_perm("articles.publish_article")

    def can_be_edited_by(self, user) -> bool:
        """Editors edit anything; a contributor only their own draft or piece in review.

        Call it on the stored row: it is the state before the change that decides.
        """
        if self.can_publish(user):
            return True
        return (
            user is not None
            and user.has_perm("articles.change_article")
            and self.created_by_id == user.pk
            and self.status in self.EDITABLE_BY_CONTRIBUTORS
        )

    def check_change(self, user, previous=None) -> None:
        """Raise PermissionDenied unless `user` may store the article as it now stands.

        `previous` is the stored row before the change (None for a new article). A
        contributor may neither publish nor archive, nor set the publication time or the
        featured flag, nor touch an article that is not their own draft or piece in review.
        """
        if self.can_publish(user):
            return
        before = previous or Article()
        if previous is not None and not previous.can_be_edited_by(user):
            raise PermissionDenied("Only editors change published or other people's articles.")
        if self.status not in self.EDITABLE_BY_CONTRIBUTORS:
            raise PermissionDenied("Only editors publish, schedule or archive articles.")
        if self.published_at != before.published_at or self.is_featured != before.is_featured:
            raise PermissionDenied("Only editors set the publication time or feature articles.")

    def record_change(self, user, previous=None) -> None:
        """Stamp who submitted and who published, when the status (or time) changes."""
        now = timezone.now()
        if self.status == self.Status.REVIEW and (
            previous is None or previous.status != self.Status.REVIEW
        ):
            self.submitted_by, self.submitted_at = user, now
        if self.status == self.Status.PUBLISHED:
            if not self.published_at:
                self.published_at = now
            if (
                previous is None
                or previous.status != self.Status.PUBLISHED
                or previous.published_at != self.published_at
            ):
                self.published_by, self.published_by_at = user, now
        self._history_user = user

    def _change(self, user, **changes) -> None:
        previous = type(self).objects.get(pk=self.pk) if self.pk else None
        for name, value in changes.items():
            setattr(self, name, value)
        self.check_change(user, previous)
        self.record_change(user, previous)
        self.save()

    def submit_for_review(self, *, by) -> None:
        """A draft goes to the editors' review queue."""
        self._change(by, status=self.Status.REVIEW)

    def publish(self, *, by, at=None) -> None:
        """Publish now, or at `at` (a future time schedules it: readers see it from then).

        Without `at`, an article that already has a publication time keeps it.
        """
        if not self.can_publish(by):
            raise PermissionDenied("Only editors publish articles.")
        self.status = self.Status.PUBLISHED
        self.published_at = at or self.published_at or timezone.now()
        self.validate_publishable()
        self._change(by)

    def unpublish(self, *, by) -> None:
        """Take a published or scheduled article back to draft: readers no longer see it."""
        if not self.can_publish(by):
            raise PermissionDenied("Only editors unpublish articles.")
        self._change(by, status=self.Status.DRAFT)

    def archive(self, *, by) -> None:
        if not self.can_publish(by):
            raise PermissionDenied("Only editors archive articles.")
        self._change(by, status=self.Status.ARCHIVED)

    def set_featured(self, featured: bool = True, *, by) -> None:
        if not self.can_publish(by):
            raise PermissionDenied("Only editors feature articles.")
        self._change(by, is_featured=featured)

    @property
    def image_alt(self) -> str:
        """The hero image's text alternative: the editor's, else its caption, else the title."""
        return self.hero_alt or self.hero_caption or self.title

    @property
    def ordered_authors(self) -> list[Expert]:
        """The article's experts in byline order (uses the with_related() prefetch)."""
        return [authorship.expert for authorship in self.authorships.all()]


class TaggedArticle(TaggedItemBase):
    """An article's tag: a real foreign key (not taggit's generic relation), so tag pages
    and tag prefetches join on indexed integer keys."""

    content_object = models.ForeignKey(
        Article, on_delete=models.CASCADE, related_name="tagged_items"
    )

    class Meta:
        verbose_name = _("tagged article")
        verbose_name_plural = _("tagged articles")
        constraints = [
            models.UniqueConstraint(fields=["content_object", "tag"], name="article_tag_once"),
        ]
        # A tag's page: its articles' ids from the index alone.
        indexes = [models.Index(fields=["tag", "content_object"], name="tagged_article_by_tag")]


class ArticleAuthor(models.Model):
    """An expert's place in an article's byline."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="authorships")
    expert = models.ForeignKey(
        Expert, on_delete=models.CASCADE, related_name="authorships", verbose_name=_("expert")
    )
    order = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["order", "pk"]
        verbose_name = _("author")
        verbose_name_plural = _("authors")
        constraints = [
            models.UniqueConstraint(fields=["article", "expert"], name="article_author_once"),
        ]
        # An expert's profile: their articles' ids from the index alone.
        indexes = [models.Index(fields=["expert", "article"], name="article_author_by_expert")]

    def __str__(self):
        return str(self.expert)


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            _("“%(value)s” is not a time zone name such as Asia/Shanghai or Europe/Berlin."),
            code="invalid_time_zone",
            params={"value": value},
        )


class EventDetails(models.Model):
    """When and where an event article takes place."""

    article = models.OneToOneField(
        Article, on_delete=models.CASCADE, related_name="event", verbose_name=_("article")
    )
    starts_at = models.DateTimeField(_("starts"), db_index=True)
    ends_at = models.DateTimeField(_("ends"), null=True, blank=True)
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        default="Asia/Shanghai",
        validators=[validate_time_zone],
        help_text=_("The time zone of the venue, e.g. Asia/Shanghai; times are shown in it."),
    )
    venue = models.CharField(_("venue"), max_length=300, blank=True)
    city = models.CharField(_("city"), max_length=120, blank=True)
    registration_url = URLField(_("registration link"), max_length=500, blank=True)

    class Meta:
        ordering = ["starts_at"]
        verbose_name = _("event details")
        verbose_name_plural = _("event details")

    def __str__(self):
        return str(self.article)

    def clean(self):
        if self.starts_at and self.ends_at and self.ends_at < self.starts_at:
            raise ValidationError({"ends_at": _("An event cannot end before it starts.")})

    @property
    def tz(self):
        return zoneinfo.ZoneInfo(self.time_zone)

    @property
    def is_upcoming(self) -> bool:
        return (self.ends_at or self.starts_at) >= timezone.now()
