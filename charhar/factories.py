import factory

from .models import Menu, MenuItem, Office, Page, Region, SiteSettings, Topic


class TopicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Topic
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Topic {n}")
    order = factory.Sequence(int)


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Region {n}")
    order = factory.Sequence(int)


class OfficeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Office

    city = factory.Sequence(lambda n: f"City {n}")
    address = "1 Main Street"
    phone = "+1 202 555 0100"


class PageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Page

    title = factory.Sequence(lambda n: f"Page {n}")
    summary = "About the institute."
    body = "<p>The institute.</p>"


class SiteSettingsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SiteSettings

    institute_name = "The Charhar Institute"
    phone = "+86 10 68290431"
    email = "secretariat@charhar.org.cn"


class MenuFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Menu
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Menu {n}")
    slug = factory.Sequence(lambda n: f"menu-{n}")


class MenuItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MenuItem

    menu = factory.SubFactory(MenuFactory)
    label = factory.Sequence(lambda n: f"Item {n}")
    url = "/experts/"
    order = factory.Sequence(int)
