"""Editorial operations that span models: duplicating an article, redirects when a published
item moves, importing redirects, who may preview what, and the admin dashboard.

The state changes of one article (submit, publish, schedule, unpublish, feature) are methods
on `articles.models.Article`; the admin, its bulk actions and the tests all call them.
"""

import csv
import io
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models.signals import post_save, pre_save
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Page, Redirect, normalize_path, unique_slug

# Duplicating


# Never copied: identity, workflow state and derived data the copy makes for itself.
_NOT_COPIED = {
    "id",
    "slug",
    "status",
    "published_at",
    "is_featured",
    "legacy_url",
    "created_by",
    "submitted_by",
    "submitted_at",
    "published_by",
    "published_by_at",
}


@transaction.atomic
def duplicate_article(article, *, by):
    """A new draft with the article's text, image, classification, byline and event details."""
    from articles.models import Article, ArticleAuthor, EventDetails

    copy = Article()
    for model_field in Article._meta.concrete_fields:
        if model_field.editable and model_field.name not in _NOT_COPIED:
            setattr(copy, model_field.attname, getattr(article, model_field.attname))
    copy.title = _("%(title)s (copy)") % {"title": article.title}
    copy.title = copy.title[: Article._meta.get_field("title").max_length]
    copy.slug = unique_slug(copy, copy.title)
    copy.status = Article.Status.DRAFT
    copy.created_by = by
    copy._history_user = by
    copy.save()
    copy.topics.set(article.topics.all())
    copy.regions.set(article.regions.all())
    copy.tags.set(list(article.tags.all()))
    ArticleAuthor.objects.bulk_create(
        ArticleAuthor(article=copy, expert_id=row.expert_id, order=row.order)
        for row in article.authorships.all()
    )
    event = EventDetails.objects.filter(article=article).first()
    if event is not None:
        event.pk = None
        event.article = copy
        event.save()
    return copy


# Redirects when published content moves


def _public(model):
    """The rows of `model` readers can see, for the models whose address can change."""
    from articles.models import Article
    from experts.models import Expert
    from publications.models import Publication

    rules = {
        Article: lambda: Article.objects.published(),
        Publication: lambda: Publication.objects.published(),
        Expert: lambda: Expert.objects.published(),
        Page: lambda: Page.objects.filter(is_published=True),
    }
    rule = rules.get(model)
    return rule() if rule else None


def _remember_public_url(sender, instance, raw=False, **kwargs):
    if raw or instance.pk is None:
        return
    public = _public(sender)
    if public is None:
        return
    old = public.filter(pk=instance.pk).only("pk", "slug").first()
    instance._public_url_before_save = old.get_absolute_url() if old else ""


def _redirect_moved_content(sender, instance, raw=False, created=False, **kwargs):
    old = getattr(instance, "_public_url_before_save", "")
    if raw or created or not old:
        return
    instance._public_url_before_save = ""
    new = instance.get_absolute_url()
    if old == new:
        return
    Redirect.point(old, instance)
    # The new address may have been a redirect's old one: it now answers itself, and a
    # redirect from it could only close a loop later.
    Redirect.objects.filter(old_path__in=path_variants(new)).delete()


def path_variants(path: str) -> set[str]:
    """A path with and without its trailing slash (the query string, if any, kept)."""
    path = normalize_path(path)
    bare, _sep, query = path.partition("?")
    other = bare[:-1] if bare.endswith("/") and len(bare) > 1 else f"{bare}/"
    return {path, f"{other}?{query}" if query else other}


def connect_redirect_signals():
    from articles.models import Article
    from experts.models import Expert
    from publications.models import Publication

    for model in (Article, Publication, Expert, Page):
        uid = model._meta.label_lower
        pre_save.connect(_remember_public_url, sender=model, dispatch_uid=f"editorial-pre-{uid}")
        post_save.connect(
            _redirect_moved_content, sender=model, dispatch_uid=f"editorial-post-{uid}"
        )


# Importing redirects


@dataclass
class RedirectImport:
    created: int = 0
    updated: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)


def import_redirects(text: str, *, dry_run: bool = False) -> RedirectImport:
    """Add or update redirects from CSV text: `old_path,new_path` a line, a header optional.

    Every row is validated as the admin form would (addresses, no loops, no redirect to
    itself); if any row fails, nothing is saved and each failing line is reported.
    """
    result = RedirectImport()
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    with transaction.atomic():
        for line, row in enumerate(rows, start=1):
            cells = [cell.strip() for cell in row]
            if not any(cells):
                continue
            if line == 1 and cells[0].lower() in {"old_path", "old", "from", "old address"}:
                continue
            if len(cells) < 2 or not cells[0] or not cells[1]:
                result.errors.append((line, _("Give the old and the new address.")))
                continue
            old_path, new_path = normalize_path(cells[0]), cells[1]
            redirect = Redirect.objects.filter(old_path=old_path).first() or Redirect()
            is_new = redirect.pk is None
            redirect.old_path, redirect.new_path = old_path, new_path
            redirect.content_type, redirect.object_id = None, None
            try:
                redirect.full_clean()
            except ValidationError as error:
                messages = [
                    message for messages in error.message_dict.values() for message in messages
                ]
                result.errors.append((line, " ".join(messages)))
                continue
            redirect.save()
            if is_new:
                result.created += 1
            else:
                result.updated += 1
        if result.errors or dry_run:
            transaction.set_rollback(True)
    return result


# Preview


def can_preview(user, obj) -> bool:
    """Staff preview what they could edit or read in the admin; contributors their own work."""
    from articles.models import Article

    if not (user.is_authenticated and user.is_active and user.is_staff):
        return False
    opts = obj._meta
    if not user.has_perm(f"{opts.app_label}.view_{opts.model_name}"):
        return False
    if isinstance(obj, Article):
        return Article.can_publish(user) or obj.created_by_id == user.pk
    return True


# The admin dashboard


def dashboard(user, *, limit: int = 10) -> dict:
    """What the admin's front page shows: the review queue, what is scheduled, what went out.

    Editors see everyone's work; a contributor sees their own drafts and submissions.
    """
    from articles.models import Article

    now = timezone.now()
    articles = Article.objects.select_related("created_by", "submitted_by", "published_by")
    if not Article.can_publish(user):
        articles = articles.filter(created_by=user)
    review = articles.filter(status=Article.Status.REVIEW).order_by("submitted_at", "pk")
    return {
        "can_publish": Article.can_publish(user),
        "review_count": review.count(),
        "review": list(review[:limit]),
        "drafts": list(
            articles.filter(status=Article.Status.DRAFT).order_by("-updated_at")[:limit]
        ),
        "scheduled": list(
            articles.filter(status=Article.Status.PUBLISHED, published_at__gt=now).order_by(
                "published_at", "pk"
            )[:limit]
        ),
        "published": list(articles.published(now).order_by("-published_at", "-pk")[:limit]),
    }
