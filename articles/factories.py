import datetime

import factory
from django.utils import timezone

from .models import Article, ArticleAuthor, EventDetails, Section


class SectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Section
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Section {n}")
    order = factory.Sequence(int)


class ArticleFactory(factory.django.DjangoModelFactory):
    """A draft; use the subclasses for the other statuses."""

    class Meta:
        model = Article
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Article {n}")
    summary = "A short summary."
    body = "<p>Body text.</p>"
    status = Article.Status.DRAFT
    kind = Article.Kind.COMMENTARY

    @factory.post_generation
    def topics(self, create, extracted, **kwargs):
        if create and extracted:
            self.topics.set(extracted)

    @factory.post_generation
    def regions(self, create, extracted, **kwargs):
        if create and extracted:
            self.regions.set(extracted)

    @factory.post_generation
    def authors(self, create, extracted, **kwargs):
        if create and extracted:
            for order, expert in enumerate(extracted):
                ArticleAuthor.objects.create(article=self, expert=expert, order=order)


class DraftArticleFactory(ArticleFactory):
    status = Article.Status.DRAFT


class PublishedArticleFactory(ArticleFactory):
    status = Article.Status.PUBLISHED
    published_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(hours=1))


class ScheduledArticleFactory(ArticleFactory):
    status = Article.Status.PUBLISHED
    published_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=1))


class ArchivedArticleFactory(ArticleFactory):
    status = Article.Status.ARCHIVED
    published_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(days=30))


class EventDetailsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EventDetails

    article = factory.SubFactory(PublishedArticleFactory, kind=Article.Kind.EVENT)
    starts_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=7))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + datetime.timedelta(hours=2))
    time_zone = "Asia/Shanghai"
    venue = "Charhar Institute"
    city = "Beijing"
