import datetime

import factory
from django.utils import timezone

from .models import Publication, PublicationAuthor, Series


class SeriesFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Series
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Series {n}")
    order = factory.Sequence(int)


class PublicationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Publication
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Publication {n}")
    series = factory.SubFactory(SeriesFactory)
    publisher = "World Affairs Press"
    published_on = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=1))
    summary = "A book."
    status = Publication.Status.PUBLISHED

    @factory.post_generation
    def authors(self, create, extracted, **kwargs):
        if create and extracted:
            for order, expert in enumerate(extracted):
                PublicationAuthor.objects.create(publication=self, expert=expert, order=order)


class PublishedPublicationFactory(PublicationFactory):
    status = Publication.Status.PUBLISHED


class DraftPublicationFactory(PublicationFactory):
    status = Publication.Status.DRAFT
