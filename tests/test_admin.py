"""The admin: every registered model opens, the editing forms enforce the content rules,
and change lists cost the same number of queries however many rows they show."""

import datetime
import itertools

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from taggit.models import Tag

from articles.factories import (
    EventDetailsFactory,
    PublishedArticleFactory,
    ScheduledArticleFactory,
    SectionFactory,
)
from articles.models import Article, ArticleAuthor, EventDetails
from charhar.factories import (
    MenuFactory,
    MenuItemFactory,
    OfficeFactory,
    PageFactory,
    RegionFactory,
    SiteSettingsFactory,
    TopicFactory,
)
from charhar.models import Redirect, SiteSettings
from experts.factories import ExpertFactory
from newsletter.factories import CampaignFactory, SubscriberFactory
from newsletter.models import Subscriber
from publications.factories import PublicationFactory, SeriesFactory
from publications.models import Publication

pytestmark = pytest.mark.django_db

_serial = itertools.count()


def _article():
    article = PublishedArticleFactory(
        section=SectionFactory(),
        topics=[TopicFactory()],
        regions=[RegionFactory()],
        authors=[ExpertFactory(), ExpertFactory()],
    )
    article.tags.add("diplomacy")
    EventDetailsFactory(article=article)
    return article


def _expert():
    expert = ExpertFactory()
    expert.topics.set([TopicFactory()])
    expert.regions.set([RegionFactory()])
    return expert


def _publication():
    publication = PublicationFactory(authors=[ExpertFactory()])
    publication.topics.set([TopicFactory()])
    return publication


def _menu():
    menu = MenuFactory()
    MenuItemFactory(menu=menu)
    return menu


def _menu_item():
    parent = MenuItemFactory()
    return MenuItemFactory(menu=parent.menu, parent=parent, page=PageFactory(), url="")


def _redirect():
    return Redirect.point(f"/en/article/{next(_serial)}.html", PublishedArticleFactory())


def _sign_in_record(model, **fields):
    """A row of django-axes' sign-in records, as a failed or successful sign-in leaves."""
    return lambda: model.objects.create(
        username=f"editor{next(_serial)}",
        ip_address="192.0.2.10",
        user_agent="Mozilla/5.0",
        path_info="/admin/login/",
        http_accept="text/html",
        **fields,
    )


# One way to build a representative row of every model the admin registers, relations
# filled in, so the pages and query counts below exercise everything a list shows.
BUILDERS = {
    "articles.article": _article,
    "articles.eventdetails": EventDetailsFactory,
    "articles.section": SectionFactory,
    "axes.accessattempt": _sign_in_record(
        AccessAttempt, get_data="", post_data="username=x", failures_since_start=3
    ),
    "axes.accessfailurelog": _sign_in_record(AccessFailureLog, locked_out=False),
    "axes.accesslog": _sign_in_record(AccessLog),
    "auth.group": lambda: Group.objects.create(name=f"Group {next(_serial)}"),
    "auth.user": lambda: User.objects.create_user(username=f"editor{next(_serial)}"),
    "charhar.menu": _menu,
    "charhar.menuitem": _menu_item,
    "charhar.office": OfficeFactory,
    "charhar.page": PageFactory,
    "charhar.redirect": _redirect,
    "charhar.region": RegionFactory,
    "charhar.sitesettings": SiteSettingsFactory,
    "charhar.topic": TopicFactory,
    "experts.expert": _expert,
    "newsletter.campaign": CampaignFactory,
    "newsletter.subscriber": SubscriberFactory,
    "publications.publication": _publication,
    "publications.series": SeriesFactory,
    "taggit.tag": lambda: Tag.objects.create(name=f"tag {next(_serial)}"),
}

REGISTERED = sorted(admin.site._registry, key=lambda model: model._meta.label_lower)
SINGLETONS = {SiteSettings}
LISTED = [model for model in REGISTERED if model not in SINGLETONS]
# Sign-in records are written by django-axes only; staff read and delete them.
RECORDS = {AccessAttempt, AccessFailureLog, AccessLog}


def _ids(model):
    return model._meta.label_lower


def _build(model):
    return BUILDERS[model._meta.label_lower]()


def _url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def test_every_registered_model_has_a_builder():
    assert {model._meta.label_lower for model in REGISTERED} <= set(BUILDERS)


@pytest.mark.parametrize("model", LISTED, ids=_ids)
def test_changelist_answers_200(admin_client, model):
    _build(model)
    assert admin_client.get(_url(model, "changelist")).status_code == 200


@pytest.mark.parametrize("model", [m for m in LISTED if m not in RECORDS], ids=_ids)
def test_add_page_answers_200(admin_client, model):
    assert admin_client.get(_url(model, "add")).status_code == 200


@pytest.mark.parametrize("model", sorted(RECORDS, key=_ids), ids=_ids)
def test_sign_in_records_cannot_be_added_by_hand(admin_client, model):
    assert admin_client.get(_url(model, "add")).status_code == 403


@pytest.mark.parametrize("model", REGISTERED, ids=_ids)
def test_change_page_answers_200(admin_client, model):
    obj = _build(model)
    response = admin_client.get(_url(model, "change", obj.pk))
    assert response.status_code == 200
    assert response.context["original"] == obj


@pytest.mark.parametrize("model", LISTED, ids=_ids)
def test_changelist_queries_do_not_grow_with_rows(admin_client, model):
    url = _url(model, "changelist")
    _build(model)
    admin_client.get(url)  # warm per-process caches (content types, …) before counting
    with CaptureQueriesContext(connection) as one_row:
        assert admin_client.get(url).status_code == 200
    for _ in range(4):
        _build(model)
    with CaptureQueriesContext(connection) as five_rows:
        response = admin_client.get(url)
    assert response.status_code == 200
    assert len(five_rows) == len(one_row), [query["sql"] for query in five_rows]


def test_article_changelist_queries_are_the_same_for_one_and_five_articles(
    admin_client, django_assert_num_queries
):
    url = _url(Article, "changelist")
    _article()
    admin_client.get(url)
    with CaptureQueriesContext(connection) as one_article:
        admin_client.get(url)
    for _ in range(4):
        _article()
    with django_assert_num_queries(len(one_article)):
        response = admin_client.get(url)
    assert response.context["cl"].result_count == 5


def _autocomplete_fields():
    """(source model, field name) for every autocomplete field of every admin and inline."""
    pairs = set()
    for model, model_admin in admin.site._registry.items():
        pairs.update((model, name) for name in model_admin.autocomplete_fields)
        for inline in model_admin.inlines:
            pairs.update((inline.model, name) for name in inline.autocomplete_fields)
    return sorted(pairs, key=lambda pair: (pair[0]._meta.label_lower, pair[1]))


@pytest.mark.parametrize(
    ("model", "field_name"),
    _autocomplete_fields(),
    ids=lambda value: value if isinstance(value, str) else value._meta.label_lower,
)
def test_autocomplete_fields_find_their_target_by_search(admin_client, model, field_name):
    target_model = model._meta.get_field(field_name).remote_field.model
    target = _build(target_model)
    response = admin_client.get(
        reverse("admin:autocomplete"),
        {
            "app_label": model._meta.app_label,
            "model_name": model._meta.model_name,
            "field_name": field_name,
            "term": str(target),
        },
    )
    assert response.status_code == 200
    assert str(target.pk) in {result["id"] for result in response.json()["results"]}


# Articles


def _management_form(prefix, total=0, max_num=1000):
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": str(max_num),
    }


def _article_form(*, authors=(), **fields):
    data = {
        "title": "Public diplomacy after the summit",
        "slug": "public-diplomacy-after-the-summit",
        "byline": "",
        "summary": "What the summit changed.",
        "body": "<p>Text.</p>",
        "hero_alt": "",
        "hero_caption": "",
        "hero_credit": "",
        "hero_focal_x": "50",
        "hero_focal_y": "50",
        "kind": Article.Kind.COMMENTARY,
        "section": "",
        "tags": "",
        "status": Article.Status.DRAFT,
        "published_at_0": "",
        "published_at_1": "",
        "source_name": "",
        "source_url": "",
        "legacy_url": "",
        **_management_form("authorships", total=len(authors)),
        **_management_form("event", max_num=1),
    }
    for index, expert in enumerate(authors):
        data[f"authorships-{index}-expert"] = str(expert.pk)
        data[f"authorships-{index}-order"] = str(index)
    data.update(fields)
    return data


def _form_errors(response):
    assert response.status_code == 200, "the form was accepted"
    return response.context["adminform"].form.errors


def test_article_add_form_saves_inline_author_and_sanitizes_body(admin_client):
    expert = ExpertFactory()
    body = '<p>Safe</p><script>alert("x")</script><img src="a.png" onerror="alert(1)">'

    response = admin_client.post(
        _url(Article, "add"), _article_form(authors=[expert], body=body, tags="diplomacy")
    )

    assert response.status_code == 302
    article = Article.objects.get(slug="public-diplomacy-after-the-summit")
    assert article.ordered_authors == [expert]
    assert "<script" not in article.body
    assert "onerror" not in article.body
    assert "<p>Safe</p>" in article.body
    assert list(article.tags.names()) == ["diplomacy"]


def test_article_add_form_saves_event_details_inline(admin_client):
    data = _article_form(
        kind=Article.Kind.EVENT,
        **_management_form("event", total=1, max_num=1),
        **{
            "event-0-starts_at_0": "2030-05-01",
            "event-0-starts_at_1": "09:00:00",
            "event-0-ends_at_0": "2030-05-01",
            "event-0-ends_at_1": "17:00:00",
            "event-0-time_zone": "Asia/Shanghai",
            "event-0-venue": "Charhar Institute",
            "event-0-city": "Beijing",
            "event-0-registration_url": "",
        },
    )

    assert admin_client.post(_url(Article, "add"), data).status_code == 302
    event = EventDetails.objects.get(article__slug="public-diplomacy-after-the-summit")
    assert event.city == "Beijing"


def test_article_add_form_rejects_a_duplicate_slug_on_the_slug_field(admin_client):
    PublishedArticleFactory(slug="taken")

    response = admin_client.post(
        _url(Article, "add"), _article_form(slug="taken", authors=[ExpertFactory()])
    )

    assert "slug" in _form_errors(response)
    assert Article.objects.count() == 1
    assert not ArticleAuthor.objects.exists()


def test_article_add_form_rejects_a_file_pillow_cannot_open_on_the_image_field(admin_client):
    fake = SimpleUploadedFile("hero.jpg", b"GIF89a but not really", content_type="image/jpeg")

    response = admin_client.post(_url(Article, "add"), _article_form(hero_image=fake))

    assert "hero_image" in _form_errors(response)
    assert not Article.objects.exists()


def test_article_state_column_shows_scheduled_for_a_future_published_article(admin_client):
    article_admin = admin.site._registry[Article]
    scheduled = ScheduledArticleFactory(title="Tomorrow's piece")
    live = PublishedArticleFactory(title="Today's piece")

    assert article_admin.state(scheduled) == "Scheduled"
    assert article_admin.state(live) == "Published"
    response = admin_client.get(_url(Article, "changelist"))
    assert "Scheduled" in response.content.decode()


# Publications


def _publication_form(**fields):
    data = {
        "title": "Public Diplomacy Quarterly, spring issue",
        "slug": "public-diplomacy-quarterly-spring",
        "series": "",
        "byline": "",
        "publisher": "World Affairs Press",
        "summary": "",
        "published_on": "2024-04-01",
        "volume": "",
        "issue": "",
        "isbn": "",
        "purchase_url": "",
        "status": Publication.Status.PUBLISHED,
        **_management_form("contributions"),
    }
    data.update(fields)
    return data


def test_publication_add_form_saves_a_valid_isbn_and_pdf(admin_client):
    pdf = SimpleUploadedFile("issue.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf")

    response = admin_client.post(
        _url(Publication, "add"), _publication_form(isbn="978-0-306-40615-7", pdf=pdf)
    )

    assert response.status_code == 302
    publication = Publication.objects.get()
    assert publication.isbn == "9780306406157"
    assert publication.pdf.name.endswith(".pdf")


def test_publication_add_form_rejects_an_invalid_isbn_on_the_isbn_field(admin_client):
    response = admin_client.post(
        _url(Publication, "add"), _publication_form(isbn="978-0-306-40615-8")
    )

    assert "isbn" in _form_errors(response)
    assert not Publication.objects.exists()


@pytest.mark.parametrize(
    ("name", "content"),
    [("notes.txt", b"plain text"), ("disguised.pdf", b"<html>not a pdf</html>")],
    ids=["wrong-extension", "wrong-content"],
)
def test_publication_add_form_rejects_a_non_pdf_on_the_pdf_field(
    admin_client, settings, name, content
):
    upload = SimpleUploadedFile(name, content, content_type="application/pdf")

    response = admin_client.post(_url(Publication, "add"), _publication_form(pdf=upload))

    assert "pdf" in _form_errors(response)
    assert not Publication.objects.exists()
    assert not list(settings.MEDIA_ROOT.rglob("*.*"))


# Newsletter


def _subscriber_form(**fields):
    data = {
        "email": "reader@example.org",
        "status": Subscriber.Status.PENDING,
        "wants_news": "on",
        "wants_events": "on",
        "consent_source": Subscriber.Source.ADMIN,
    }
    data.update(fields)
    return data


def test_subscriber_add_form_rejects_an_email_differing_only_in_case(admin_client):
    SubscriberFactory(email="reader@example.org")

    response = admin_client.post(
        _url(Subscriber, "add"), _subscriber_form(email="Reader@EXAMPLE.org")
    )

    assert "email" in _form_errors(response)
    assert Subscriber.objects.count() == 1


def test_subscriber_added_by_staff_records_when_consent_was_given(admin_client):
    response = admin_client.post(_url(Subscriber, "add"), _subscriber_form())

    assert response.status_code == 302
    subscriber = Subscriber.objects.get()
    assert subscriber.consent_source == Subscriber.Source.ADMIN
    assert subscriber.consent_at is not None
    assert subscriber.interests == ["news", "events"]


def test_confirming_a_subscriber_in_the_admin_stamps_confirmed_at(admin_client):
    subscriber = SubscriberFactory(email="reader@example.org")

    response = admin_client.post(
        _url(Subscriber, "change", subscriber.pk),
        _subscriber_form(status=Subscriber.Status.CONFIRMED),
    )

    assert response.status_code == 302
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.CONFIRMED
    assert timezone.now() - subscriber.confirmed_at < datetime.timedelta(minutes=1)


# Site settings


def test_site_settings_changelist_leads_to_adding_the_row_when_there_is_none(admin_client):
    response = admin_client.get(_url(SiteSettings, "changelist"))

    assert response.status_code == 302
    assert response.url == _url(SiteSettings, "add")
    assert admin_client.get(response.url).status_code == 200


def test_site_settings_changelist_leads_to_the_one_row(admin_client):
    settings_row = SiteSettingsFactory()

    response = admin_client.get(_url(SiteSettings, "changelist"))

    assert response.status_code == 302
    assert response.url == _url(SiteSettings, "change", settings_row.pk)


def test_site_settings_cannot_get_a_second_row_or_be_deleted(admin_client):
    settings_row = SiteSettingsFactory()

    assert admin_client.get(_url(SiteSettings, "add")).status_code == 403
    assert admin_client.get(_url(SiteSettings, "delete", settings_row.pk)).status_code == 403
    assert SiteSettings.objects.count() == 1
