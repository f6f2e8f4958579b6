import factory

from .models import Expert


class ExpertFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Expert

    name = factory.Sequence(lambda n: f"Expert {n}")
    title = "Senior Fellow"
    short_bio = "Works on public diplomacy."
    order = factory.Sequence(int)
    is_active = True


class InactiveExpertFactory(ExpertFactory):
    is_active = False
