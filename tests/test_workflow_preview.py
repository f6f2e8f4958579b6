"""Preview and scheduling: staff see unpublished items as readers will, nobody else does,
nothing of it is cached or indexed; a scheduled article appears exactly at its time and the
cached pages that will show it expire by then, with no scheduler process."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse

from articles.factories import DraftArticleFactory, PublishedArticleFactory, ScheduledArticleFactory
from articles.models import Article
from charhar.factories import PageFactory
from experts.factories import ExpertFactory
from publications.factories import PublicationFactory
from tests.editorial import contributor, editor

pytestmark = pytest.mark.django_db


@pytest.fixture
def page_cache(settings):
    settings.PAGE_CACHE_SECONDS = 600
    return settings


def _previews():
    return [
        ("article", DraftArticleFactory(title="Draft piece")),
        ("article", ScheduledArticleFactory(title="Scheduled piece")),
        ("publication", PublicationFactory(title="Unpublished book", status="draft")),
        ("expert", ExpertFactory(name="Hidden Expert", is_active=False)),
        ("page", PageFactory(title="Hidden page", is_published=False)),
    ]


def test_staff_preview_every_unpublished_kind_with_a_banner_and_no_caching(client, page_cache):
    client.force_login(editor())
    for kind, obj in _previews():
        response = client.get(reverse(f"preview:{kind}", args=[obj.pk]))
        html = response.content.decode()
        assert response.status_code == 200, kind
        assert str(obj) in html
        assert 'class="preview-banner"' in html
        assert "Preview" in html
        assert '<meta name="robots" content="noindex, nofollow">' in html
        assert response["X-Robots-Tag"] == "noindex, nofollow"
        control = response["Cache-Control"]
        assert "private" in control
        assert "no-store" in control
        assert "ETag" not in response
        assert "X-Page-Cache" not in client.get(reverse(f"preview:{kind}", args=[obj.pk]))


def test_the_preview_looks_like_the_public_page(client):
    article = PublishedArticleFactory(title="Same everywhere", body="<p>The body text.</p>")
    client.force_login(editor())

    public = Client().get(article.get_absolute_url()).content.decode()
    preview = client.get(reverse("preview:article", args=[article.pk])).content.decode()

    for fragment in ("<h1>Same everywhere</h1>", "<p>The body text.</p>", 'class="article__date"'):
        assert fragment in public
        assert fragment in preview


def test_readers_and_signed_in_non_staff_get_404(client, django_user_model, page_cache):
    previews = _previews()
    reader = Client()
    member = Client()
    member.force_login(django_user_model.objects.create_user("member", password="x"))
    for browser in (reader, member):
        for kind, obj in previews:
            response = browser.get(reverse(f"preview:{kind}", args=[obj.pk]))
            assert response.status_code == 404, kind
            assert "Draft piece" not in response.content.decode()
    assert reader.get(reverse("preview:article", args=[999999])).status_code == 404


def test_contributors_preview_their_own_drafts_only(client):
    fellow = contributor()
    own = DraftArticleFactory(created_by=fellow)
    others = DraftArticleFactory(created_by=editor())
    client.force_login(fellow)

    assert client.get(reverse("preview:article", args=[own.pk])).status_code == 200
    assert client.get(reverse("preview:article", args=[others.pk])).status_code == 404
    publication = PublicationFactory(status="draft")
    assert client.get(reverse("preview:publication", args=[publication.pk])).status_code == 404


# Scheduling without cron


def _home(client):
    return client.get("/")


@pytest.mark.parametrize("url", ["/", "/news/", "/articles/", "detail"])
def test_a_scheduled_article_appears_at_its_exact_time_on_every_page_with_the_cache_on(
    client, page_cache, time_machine, url
):
    start = datetime.datetime(2026, 3, 2, 7, 30, tzinfo=datetime.UTC)
    at = start + datetime.timedelta(hours=3)
    time_machine.move_to(start, tick=False)
    PublishedArticleFactory(title="Already out", kind=Article.Kind.NEWS)
    article = DraftArticleFactory(title="Embargoed report", kind=Article.Kind.NEWS)
    article.publish(by=editor(), at=at)
    assert article.is_scheduled
    if url == "detail":
        url = article.get_absolute_url()

    def visible():
        response = client.get(url)
        return response, "Embargoed report" in response.content.decode()

    first, shown = visible()
    assert not shown
    cached, shown = visible()
    assert not shown
    if first.status_code == 200:
        assert cached["X-Page-Cache"] == "hit"
    else:
        assert first.status_code == 404

    time_machine.move_to(at - datetime.timedelta(seconds=1), tick=False)
    assert not visible()[1]

    time_machine.move_to(at, tick=False)
    response, shown = visible()
    assert response.status_code == 200
    assert shown
    assert "X-Page-Cache" not in response


def test_cache_entries_never_outlive_the_next_scheduled_publication(
    client, page_cache, time_machine
):
    from django.core.cache import cache

    start = datetime.datetime(2026, 3, 2, 7, 30, tzinfo=datetime.UTC)
    time_machine.move_to(start, tick=False)
    ScheduledArticleFactory(published_at=start + datetime.timedelta(seconds=90))
    timeouts = []
    original = cache.set

    def spy(key, value, timeout=None, **kwargs):
        if key.startswith("charhar:page:"):
            timeouts.append(timeout)
        return original(key, value, timeout, **kwargs)

    cache.set = spy
    try:
        assert _home(client).status_code == 200
    finally:
        cache.set = original
    assert timeouts
    assert max(timeouts) <= 90


def test_unpublishing_and_publishing_show_on_the_next_request_with_the_cache_on(client, page_cache):
    chief = editor()
    article = PublishedArticleFactory(title="Now you see it", kind=Article.Kind.NEWS)
    assert "Now you see it" in _home(client).content.decode()
    assert _home(client)["X-Page-Cache"] == "hit"

    article.unpublish(by=chief)
    assert "Now you see it" not in _home(client).content.decode()
    assert client.get(article.get_absolute_url()).status_code == 404

    article.publish(by=chief)
    assert "Now you see it" in _home(client).content.decode()
