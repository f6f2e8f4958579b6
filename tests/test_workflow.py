"""The editorial workflow in the admin: roles, what contributors may never do by any path,
the review queue, who published and when, bulk actions, duplicates and the dashboard."""

import datetime

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from articles.factories import (
    DraftArticleFactory,
    EventDetailsFactory,
    PublishedArticleFactory,
    ScheduledArticleFactory,
    SectionFactory,
)
from articles.models import Article, EventDetails
from charhar.factories import PageFactory, RegionFactory, TopicFactory
from experts.factories import ExpertFactory
from publications.factories import PublicationFactory
from tests.editorial import contributor, editor, ensure_roles
from tests.test_admin import _article_form

pytestmark = pytest.mark.django_db

ALL = {"add", "change", "delete", "view"}


def _perms(group_name):
    group = Group.objects.get(name=group_name)
    return {
        f"{app}.{codename}"
        for app, codename in group.permissions.values_list("content_type__app_label", "codename")
    }


def _expand(spec):
    return {
        f"{app}.{action}_{model}"
        for app, models in spec.items()
        for model, actions in models.items()
        for action in actions
    }


# Roles


def test_the_roles_have_exactly_the_permissions_they_need():
    ensure_roles()
    assert _perms("Contributor") == _expand(
        {
            "articles": {
                "article": {"add", "change", "view"},
                "articleauthor": ALL,
                "eventdetails": ALL,
                "section": {"view"},
            },
            "experts": {"expert": {"view"}},
            "charhar": {"topic": {"view"}, "region": {"view"}},
        }
    )
    editor_perms = _perms("Editor")
    assert "articles.publish_article" in editor_perms
    assert {"articles.delete_article", "publications.change_publication"} <= editor_perms
    assert {"charhar.change_page", "charhar.add_redirect", "charhar.change_sitesettings"} <= (
        editor_perms
    )
    # Neither role manages people, the newsletter or the site settings row's existence.
    for perms in (editor_perms, _perms("Contributor")):
        assert not {p for p in perms if p.startswith(("auth.", "newsletter."))}
    assert "charhar.delete_sitesettings" not in editor_perms


def test_the_admin_shows_a_contributor_only_their_articles(client):
    fellow = contributor()
    client.force_login(fellow)

    index = client.get(reverse("admin:index")).content.decode()

    assert reverse("admin:articles_article_changelist") in index
    for hidden in (
        "admin:publications_publication_changelist",
        "admin:experts_expert_changelist",
        "admin:charhar_page_changelist",
        "admin:charhar_redirect_changelist",
        "admin:articles_eventdetails_changelist",
        "admin:charhar_topic_changelist",
    ):
        assert reverse(hidden) not in index


# Every path a contributor might take to publish is closed


@pytest.fixture
def fellow(client):
    user = contributor()
    client.force_login(user)
    return user


def _change_url(article):
    return reverse("admin:articles_article_change", args=[article.pk])


def _form_for(article, **fields):
    """The change form as a contributor's browser would send it (no publishing fields)."""
    data = _article_form(title=article.title, slug=article.slug, summary=article.summary)
    for name in ("status", "published_at_0", "published_at_1"):
        data.pop(name)
    data.update(fields)
    return data


def test_a_contributor_creates_a_draft_that_is_theirs(client, fellow):
    response = client.post(reverse("admin:articles_article_add"), _article_form())

    assert response.status_code == 302
    article = Article.objects.get()
    assert article.status == Article.Status.DRAFT
    assert article.created_by == fellow


def test_a_contributors_form_has_no_publishing_fields(client, fellow):
    article = DraftArticleFactory(created_by=fellow)

    form = client.get(_change_url(article)).context["adminform"].form

    assert not {"status", "published_at", "is_featured"} & set(form.fields)


def test_a_forged_status_on_the_add_form_is_ignored(client, fellow):
    future = (timezone.now() + datetime.timedelta(days=1)).strftime("%Y-%m-%d")
    data = _article_form(
        status=Article.Status.PUBLISHED,
        published_at_0=future,
        published_at_1="09:00:00",
        is_featured="on",
    )

    assert client.post(reverse("admin:articles_article_add"), data).status_code == 302
    article = Article.objects.get()
    assert article.status == Article.Status.DRAFT
    assert article.published_at is None
    assert not article.is_featured
    assert not Article.objects.published().exists()


def test_a_contributor_submits_a_draft_for_review_and_it_is_stamped(client, fellow):
    article = DraftArticleFactory(created_by=fellow)

    response = client.post(_change_url(article), _form_for(article, _submit_for_review="1"))

    assert response.status_code == 302
    article.refresh_from_db()
    assert article.status == Article.Status.REVIEW
    assert article.submitted_by == fellow
    assert article.submitted_at is not None


def test_a_contributor_cannot_change_a_published_article_in_any_way(client, fellow):
    article = PublishedArticleFactory(created_by=fellow, title="Live")
    url = _change_url(article)

    # The page is read-only …
    page = client.get(url)
    assert page.status_code == 200
    assert not page.context["has_change_permission"]
    # … and a forged POST (new title, new date, back to draft) is refused.
    forged = _form_for(
        article,
        title="Changed",
        status=Article.Status.DRAFT,
        published_at_0="2030-01-01",
        published_at_1="00:00:00",
    )
    assert client.post(url, forged).status_code == 403
    article.refresh_from_db()
    assert (article.title, article.status) == ("Live", Article.Status.PUBLISHED)


def test_a_contributor_cannot_change_a_scheduled_or_archived_article(client, fellow):
    for article in (
        ScheduledArticleFactory(created_by=fellow),
        PublishedArticleFactory(created_by=fellow, status=Article.Status.ARCHIVED),
    ):
        assert client.post(_change_url(article), _form_for(article)).status_code == 403


def test_another_users_article_is_absent_for_a_contributor(client, fellow):
    others = DraftArticleFactory(created_by=editor("someone"), title="Someone else's draft")

    listing = client.get(reverse("admin:articles_article_changelist")).content.decode()
    assert "Someone else's draft" not in listing
    change = client.get(_change_url(others))
    assert change.status_code == 302  # the admin's “does not exist”
    assert client.post(_change_url(others), _form_for(others, title="Mine now")).status_code in (
        302,
        403,
        404,
    )
    others.refresh_from_db()
    assert others.title == "Someone else's draft"
    assert client.get(reverse("preview:article", args=[others.pk])).status_code == 404


def test_a_contributor_cannot_delete_any_article(client, fellow):
    own = DraftArticleFactory(created_by=fellow)
    published = PublishedArticleFactory(created_by=fellow)

    for article in (own, published):
        url = reverse("admin:articles_article_delete", args=[article.pk])
        assert client.get(url).status_code == 403
        assert client.post(url, {"post": "yes"}).status_code == 403
    assert Article.objects.count() == 2


@pytest.mark.parametrize(
    "action",
    [
        "publish_selected",
        "unpublish_selected",
        "feature_selected",
        "unfeature_selected",
        "delete_selected",
    ],
)
def test_bulk_actions_are_absent_for_contributors_and_forged_ones_do_nothing(
    client, fellow, action
):
    draft = DraftArticleFactory(created_by=fellow)
    published = PublishedArticleFactory(created_by=fellow, is_featured=True)
    changelist = reverse("admin:articles_article_changelist")

    offered = client.get(changelist).context["action_form"].fields["action"].choices
    assert action not in {name for name, _label in offered}

    response = client.post(
        changelist,
        {"action": action, "_selected_action": [draft.pk, published.pk], "post": "yes"},
    )
    assert response.status_code in (200, 302, 403)
    draft.refresh_from_db()
    published.refresh_from_db()
    assert draft.status == Article.Status.DRAFT
    assert published.status == Article.Status.PUBLISHED
    assert published.is_featured
    assert Article.objects.count() == 2


def test_reverting_to_a_published_version_is_refused_for_a_contributor(client, fellow):
    article = DraftArticleFactory(created_by=fellow, title="Draft")
    article.publish(by=editor())
    article.unpublish(by=Article.objects.get(pk=article.pk).published_by)
    published_version = article.history.filter(status=Article.Status.PUBLISHED).first()
    url = reverse(
        "admin:articles_article_simple_history", args=[article.pk, published_version.history_id]
    )

    assert client.post(url, _form_for(article)).status_code == 403
    article.refresh_from_db()
    assert article.status == Article.Status.DRAFT


def test_event_details_of_published_events_are_out_of_a_contributors_reach(client, fellow):
    event = EventDetailsFactory(article=PublishedArticleFactory(created_by=fellow, kind="event"))

    url = reverse("admin:articles_eventdetails_change", args=[event.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"city": "Elsewhere"}).status_code == 403
    event.refresh_from_db()
    assert event.city == "Beijing"


def test_contributors_may_not_touch_publications_pages_or_redirects(client, fellow):
    publication, page = PublicationFactory(), PageFactory()
    for url in (
        reverse("admin:publications_publication_change", args=[publication.pk]),
        reverse("admin:publications_publication_delete", args=[publication.pk]),
        reverse("admin:charhar_page_change", args=[page.pk]),
        reverse("admin:charhar_redirect_add"),
        reverse("admin:charhar_redirect_import"),
    ):
        assert client.post(url, {}).status_code == 403


def test_the_model_methods_refuse_contributors_whatever_calls_them():
    fellow = contributor()
    article = DraftArticleFactory(created_by=fellow)

    for attempt in (
        lambda: article.publish(by=fellow),
        lambda: article.publish(by=fellow, at=timezone.now() + datetime.timedelta(days=1)),
        lambda: article.unpublish(by=fellow),
        lambda: article.archive(by=fellow),
        lambda: article.set_featured(True, by=fellow),
    ):
        with pytest.raises(PermissionDenied):
            attempt()
    assert Article.objects.get(pk=article.pk).status == Article.Status.DRAFT


def test_contributors_can_look_up_what_they_file_under(client, fellow):
    topic, region, section, expert = (
        TopicFactory(),
        RegionFactory(),
        SectionFactory(),
        ExpertFactory(),
    )
    for field_name, target in (
        ("topics", topic),
        ("regions", region),
        ("section", section),
    ):
        response = client.get(
            reverse("admin:autocomplete"),
            {"app_label": "articles", "model_name": "article", "field_name": field_name},
        )
        assert str(target.pk) in {row["id"] for row in response.json()["results"]}
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "articles", "model_name": "articleauthor", "field_name": "expert"},
    )
    assert str(expert.pk) in {row["id"] for row in response.json()["results"]}


def test_a_contributor_adds_an_image_with_their_draft(client, fellow, settings):
    from tests.test_images import _jpeg

    data = _article_form(
        hero_image=SimpleUploadedFile("hero.jpg", _jpeg(800, 600), content_type="image/jpeg"),
        hero_alt="A conference hall",
    )
    assert client.post(reverse("admin:articles_article_add"), data).status_code == 302
    assert Article.objects.get().hero_image.name.endswith(".jpg")


# Editors


@pytest.fixture
def chief(client):
    user = editor()
    client.force_login(user)
    return user


def test_an_editor_publishes_from_the_form_and_who_and_when_are_recorded(client, chief):
    article = DraftArticleFactory(created_by=contributor())
    data = _article_form(
        title=article.title,
        slug=article.slug,
        status=Article.Status.PUBLISHED,
        published_at_0="",
        published_at_1="",
    )

    assert client.post(_change_url(article), data).status_code == 302
    article.refresh_from_db()
    assert article.is_live
    assert article.published_by == chief
    assert timezone.now() - article.published_by_at < datetime.timedelta(minutes=1)


def test_an_editor_schedules_with_a_future_time(client, chief):
    article = DraftArticleFactory()
    data = _article_form(
        title=article.title,
        slug=article.slug,
        status=Article.Status.PUBLISHED,
        published_at_0="2099-01-01",
        published_at_1="08:00:00",
    )

    assert client.post(_change_url(article), data).status_code == 302
    article.refresh_from_db()
    assert article.is_scheduled
    assert article.published_by == chief
    assert not Article.objects.published().exists()


def test_publishing_needs_the_images_text_alternative(client, chief):
    from tests.test_images import _jpeg

    data = _article_form(
        status=Article.Status.PUBLISHED,
        hero_image=SimpleUploadedFile("hero.jpg", _jpeg(800, 600), content_type="image/jpeg"),
        hero_alt="",
    )
    response = client.post(reverse("admin:articles_article_add"), data)

    assert response.status_code == 200
    assert "hero_alt" in response.context["adminform"].form.errors
    assert not Article.objects.exists()
    article = DraftArticleFactory()
    article.hero_image.name = "articles/x.jpg"
    with pytest.raises(ValidationError):
        article.publish(by=chief)


@pytest.mark.parametrize(
    ("action", "check"),
    [
        ("publish_selected", lambda a: a.is_live and a.published_by is not None),
        ("unpublish_selected", lambda a: a.status == Article.Status.DRAFT),
        ("feature_selected", lambda a: a.is_featured),
    ],
)
def test_editors_bulk_publish_unpublish_and_feature(client, chief, action, check):
    start = DraftArticleFactory if action == "publish_selected" else PublishedArticleFactory
    articles = [start(), start()]

    response = client.post(
        reverse("admin:articles_article_changelist"),
        {"action": action, "_selected_action": [a.pk for a in articles]},
    )

    assert response.status_code == 302
    for article in articles:
        article.refresh_from_db()
        assert check(article)


def test_an_editor_edits_anyones_article(client, chief):
    article = PublishedArticleFactory(created_by=contributor(), title="Typo")

    data = _article_form(
        title="Fixed",
        slug=article.slug,
        status=Article.Status.PUBLISHED,
        published_at_0=article.published_at.strftime("%Y-%m-%d"),
        published_at_1=article.published_at.strftime("%H:%M:%S"),
    )
    assert client.post(_change_url(article), data).status_code == 302
    article.refresh_from_db()
    assert article.title == "Fixed"


# The review queue and the dashboard


def test_the_review_queue_filter_and_the_count_on_the_admin_index(client, chief):
    fellow = contributor()
    for n in range(3):
        DraftArticleFactory(title=f"Waiting {n}", created_by=fellow).submit_for_review(by=fellow)
    DraftArticleFactory(title="Still a draft")
    ScheduledArticleFactory(title="Out tomorrow")

    queue = client.get(reverse("admin:articles_article_changelist"), {"state": "review"})
    titles = {article.title for article in queue.context["cl"].result_list}
    assert titles == {"Waiting 0", "Waiting 1", "Waiting 2"}

    index = client.get(reverse("admin:index")).content.decode()
    assert '<span class="review-count">3</span>' in index
    assert "Out tomorrow" in index
    scheduled = client.get(reverse("admin:articles_article_changelist"), {"state": "scheduled"})
    assert [a.title for a in scheduled.context["cl"].result_list] == ["Out tomorrow"]


def test_list_filters_cover_status_kind_topic_section_author_and_date(client, chief):
    expert, topic, section = ExpertFactory(name="Ada Writer"), TopicFactory(), SectionFactory()
    PublishedArticleFactory(authors=[expert], topics=[topic], section=section, kind="news")
    changelist = reverse("admin:articles_article_changelist")

    for query in (
        {"state": "published"},
        {"kind__exact": "news"},
        {"topics__id__exact": topic.pk},
        {"section__id__exact": section.pk},
        {"author": expert.pk},
        {"published_at__year": str(timezone.now().year)},
    ):
        response = client.get(changelist, query)
        assert response.status_code == 200
        assert response.context["cl"].result_count == 1, query


def test_duplicate_makes_a_new_draft_with_everything_but_the_state(client, chief):
    expert, topic = ExpertFactory(), TopicFactory()
    original = PublishedArticleFactory(
        title="Original", authors=[expert], topics=[topic], is_featured=True
    )
    original.tags.add("diplomacy")
    EventDetailsFactory(article=original)

    response = client.post(reverse("admin:articles_article_duplicate", args=[original.pk]))

    copy = Article.objects.exclude(pk=original.pk).get()
    assert response.url == _change_url(copy)
    assert copy.status == Article.Status.DRAFT
    assert copy.published_at is None
    assert not copy.is_featured
    assert copy.slug != original.slug
    assert copy.created_by == chief
    assert copy.ordered_authors == [expert]
    assert list(copy.topics.all()) == [topic]
    assert list(copy.tags.names()) == ["diplomacy"]
    assert EventDetails.objects.filter(article=copy).exists()
    assert (
        client.get(reverse("admin:articles_article_duplicate", args=[original.pk])).status_code
        == 405
    )


def test_change_form_links_to_preview_and_view_on_site(client, chief):
    draft, live = DraftArticleFactory(), PublishedArticleFactory()

    draft_page = client.get(_change_url(draft)).content.decode()
    assert reverse("preview:article", args=[draft.pk]) in draft_page
    live_page = client.get(_change_url(live)).content.decode()
    assert reverse("preview:article", args=[live.pk]) in live_page
    assert live.get_absolute_url() in live_page or "/r/" in live_page
    listing = client.get(reverse("admin:articles_article_changelist")).content.decode()
    assert live.get_absolute_url() in listing


def test_the_article_change_list_costs_the_same_for_contributors_whatever_the_rows(
    client, fellow, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    url = reverse("admin:articles_article_changelist")
    DraftArticleFactory(created_by=fellow)
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    for _ in range(4):
        DraftArticleFactory(created_by=fellow, authors=[ExpertFactory()])
    with CaptureQueriesContext(connection) as five:
        client.get(url)
    assert len(five) == len(one)


def test_every_admin_page_works_for_both_roles(client):
    article = PublishedArticleFactory()
    for user in (editor("e2"), contributor("c2")):
        client.force_login(user)
        for url in (
            reverse("admin:index"),
            reverse("admin:articles_article_changelist"),
            reverse("admin:articles_article_add"),
        ):
            assert client.get(url).status_code == 200, (user, url)
    client.force_login(editor("e3"))
    assert client.get(_change_url(article)).status_code == 200
    assert (
        client.get(reverse("admin:articles_article_history", args=[article.pk])).status_code == 200
    )
