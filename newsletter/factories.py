import factory
from django.utils import timezone

from .models import Subscriber


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
