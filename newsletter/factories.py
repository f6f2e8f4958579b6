import factory
from django.utils import timezone

from .models import Campaign, Subscriber


class SubscriberFactory(factory.django.DjangoModelFactory):
    """A subscriber who has signed up but not yet confirmed."""

    class Meta:
        model = Subscriber

    email = factory.Sequence(lambda n: f"reader{n}@example.org")
    status = Subscriber.Status.PENDING
    consent_at = factory.LazyFunction(timezone.now)
    consent_source = Subscriber.Source.SIGNUP_PAGE


class PendingSubscriberFactory(SubscriberFactory):
    status = Subscriber.Status.PENDING


class ConfirmedSubscriberFactory(SubscriberFactory):
    status = Subscriber.Status.CONFIRMED
    confirmed_at = factory.LazyFunction(timezone.now)


class UnsubscribedSubscriberFactory(SubscriberFactory):
    status = Subscriber.Status.UNSUBSCRIBED
    unsubscribed_at = factory.LazyFunction(timezone.now)


class CampaignFactory(factory.django.DjangoModelFactory):
    """A draft campaign; give it content with `articles=[...]` and `publications=[...]`."""

    class Meta:
        model = Campaign
        skip_postgeneration_save = True

    subject = factory.Sequence(lambda n: f"Newsletter {n}")
    intro = "This month at the institute."
    status = Campaign.Status.DRAFT

    @factory.post_generation
    def articles(self, create, extracted, **kwargs):
        if create and extracted:
            self.articles.set(extracted)

    @factory.post_generation
    def publications(self, create, extracted, **kwargs):
        if create and extracted:
            self.publications.set(extracted)


class DraftCampaignFactory(CampaignFactory):
    status = Campaign.Status.DRAFT


class SentCampaignFactory(CampaignFactory):
    status = Campaign.Status.SENT
    content_until = factory.LazyFunction(timezone.now)
    finished_at = factory.LazyFunction(timezone.now)
