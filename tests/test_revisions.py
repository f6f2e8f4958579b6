"""Revisions: every change to articles, experts, publications, pages and site settings is kept
with who and when, the admin shows what changed, and a past version can be restored."""

import pytest
from django.urls import reverse

from articles.factories import DraftArticleFactory
from articles.models import Article
from charhar.factories import PageFactory, SiteSettingsFactory
from charhar.models import Page, SiteSettings
from experts.factories import ExpertFactory
from experts.models import Expert
from publications.factories import PublicationFactory
from publications.models import Publication
from tests.editorial import editor

pytestmark = pytest.mark.django_db


@pytest.fixture
def chief(client):
    user = editor()
    client.force_login(user)
    return user


def _history_url(obj):
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_history", args=[obj.pk])


def _revert_url(obj, record):
    opts = obj._meta
    return reverse(
        f"admin:{opts.app_label}_{opts.model_name}_simple_history",
        args=[obj.pk, record.history_id],
    )


@pytest.mark.parametrize(
    ("factory", "field"),
    [
        (lambda: DraftArticleFactory(title="Before"), "title"),
        (lambda: ExpertFactory(name="Before"), "name"),
        (lambda: PublicationFactory(title="Before"), "title"),
        (lambda: PageFactory(title="Before"), "title"),
        (lambda: SiteSettingsFactory(institute_name="Before"), "institute_name"),
    ],
    ids=["article", "expert", "publication", "page", "site-settings"],
)
def test_every_change_is_kept_with_who_when_and_a_readable_diff(client, chief, factory, field):
    obj = factory()
    obj._history_user = chief
    setattr(obj, field, "After")
    obj.save()

    records = list(obj.history.order_by("history_date"))
    assert [getattr(record, field) for record in records] == ["Before", "After"]
    assert records[-1].history_user == chief
    assert records[-1].history_date is not None

    page = client.get(_history_url(obj))
    html = page.content.decode()
    assert page.status_code == 200
    assert str(chief) in html
    assert "Before" in html
    assert "After" in html


def test_changes_made_in_the_admin_record_the_signed_in_user(client, chief):
    page = PageFactory(title="About")
    data = {
        "title": "About us",
        "slug": page.slug,
        "summary": "",
        "body": "<p>Hello</p>",
        "order": 0,
        "is_published": "on",
    }

    assert (
        client.post(reverse("admin:charhar_page_change", args=[page.pk]), data).status_code == 302
    )
    latest = Page.history.filter(id=page.pk).latest("history_date")
    assert latest.history_user == chief
    assert latest.title == "About us"


@pytest.mark.parametrize("model", [Article, Expert, Publication, Page])
def test_a_past_version_is_restored_from_the_admin(client, chief, model):
    factories = {
        Article: lambda: DraftArticleFactory(title="First text", body="<p>First</p>"),
        Expert: lambda: ExpertFactory(name="First text"),
        Publication: lambda: PublicationFactory(title="First text"),
        Page: lambda: PageFactory(title="First text"),
    }
    obj = factories[model]()
    label = "name" if model is Expert else "title"
    setattr(obj, label, "Second text")
    obj.save()
    first = obj.history.order_by("history_date").first()

    form_page = client.get(_revert_url(obj, first))
    assert form_page.status_code == 200
    form = form_page.context["adminform"].form
    data = {}
    for name, bound in form.initial.items():
        if name in form.fields and bound is not None:
            value = bound
            if hasattr(value, "all"):
                value = [item.pk for item in value.all()]
            elif isinstance(value, list):
                value = [getattr(item, "pk", item) for item in value]
            elif hasattr(value, "pk"):
                value = value.pk
            data[name] = value
    data = {key: value for key, value in data.items() if value not in (None, "")}
    for name, field in form.fields.items():
        if field.widget.__class__.__name__ == "SplitDateTimeWidget" and name in data:
            value = data.pop(name)
            data[f"{name}_0"], data[f"{name}_1"] = (
                value.strftime("%Y-%m-%d"),
                value.strftime("%H:%M:%S"),
            )
        if field.widget.__class__.__name__ == "CheckboxInput":
            if data.get(name):
                data[name] = "on"
            else:
                data.pop(name, None)
    if model is Article:
        data.update(
            {
                "authorships-TOTAL_FORMS": "0",
                "authorships-INITIAL_FORMS": "0",
                "event-TOTAL_FORMS": "0",
                "event-INITIAL_FORMS": "0",
            }
        )
    if model is Publication:
        data.update({"contributions-TOTAL_FORMS": "0", "contributions-INITIAL_FORMS": "0"})

    response = client.post(_revert_url(obj, first), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    obj.refresh_from_db()
    assert getattr(obj, label) == "First text"
    assert obj.history.count() == 3


def test_site_settings_history_is_reachable_from_its_single_row(client, chief):
    settings_row = SiteSettingsFactory()
    settings_row.tagline = "New tagline"
    settings_row.save()

    response = client.get(_history_url(settings_row))
    assert response.status_code == 200
    assert "New tagline" in response.content.decode()
    assert SiteSettings.history.count() == 2
