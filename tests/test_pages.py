"""The public pages laid down with the content model answer, hide unpublished content and
cost a fixed number of queries whatever the amount of content."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from articles.factories import (
    DraftArticleFactory,
    EventDetailsFactory,
    PublishedArticleFactory,
    ScheduledArticleFactory,
    SectionFactory,
)
from articles.models import Article
from charhar.factories import (
    MenuFactory,
    MenuItemFactory,
    OfficeFactory,
    PageFactory,
    RegionFactory,
    SiteSettingsFactory,
    TopicFactory,
)
from experts.factories import ExpertFactory, InactiveExpertFactory
from publications.factories import DraftPublicationFactory, PublishedPublicationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def site():
    SiteSettingsFactory(chairman_quote="Committed to progress.", chairman_attribution="Chairman")
    menu = MenuFactory(slug="main")
    topics = MenuItemFactory(menu=menu, label="Topics", url="/topics/")
    MenuItemFactory(menu=menu, parent=topics, label="All Topics", url="/topics/")
    return {
        "topic": TopicFactory(name="The Korean Peninsula"),
        "region": RegionFactory(name="Asia"),
        "section": SectionFactory(name="Peace Studies"),
        "page": PageFactory(title="About Us"),
    }


def _content(site, n):
    experts = ExpertFactory.create_batch(2)
    for i in range(n):
        PublishedArticleFactory(
            authors=experts,
            topics=[site["topic"]],
            regions=[site["region"]],
            section=site["section"],
            kind=[Article.Kind.NEWS, Article.Kind.RESEARCH][i % 2],
        )
        EventDetailsFactory()
        PublishedPublicationFactory(authors=experts)
        OfficeFactory()


def _pages(site):
    return {
        "home": reverse("home"),
        "articles": reverse("articles:list"),
        "news": reverse("articles:news"),
        "research": reverse("articles:research"),
        "events": reverse("articles:events"),
        "section": site["section"].get_absolute_url(),
        "topics": reverse("topics"),
        "topic": site["topic"].get_absolute_url(),
        "regions": reverse("regions"),
        "region": site["region"].get_absolute_url(),
        "experts": reverse("experts:list"),
        "publications": reverse("publications:list"),
        "offices": reverse("offices"),
        "page": site["page"].get_absolute_url(),
    }


def test_every_page_answers_and_shows_the_site_chrome(client, site):
    _content(site, 3)

    for name, url in _pages(site).items():
        response = client.get(url)
        assert response.status_code == 200, name
        html = response.content.decode()
        assert "Committed to progress." in html, name
        assert "All Topics" in html, name


def test_article_detail_shows_the_article_with_its_author_box(client, site):
    expert = ExpertFactory(name="ZHAO Minghao", title="Adjunct Senior Fellow")
    article = PublishedArticleFactory(authors=[expert], body="<p>The summit.</p>")

    response = client.get(article.get_absolute_url())

    assert response.status_code == 200
    html = response.content.decode()
    assert f"<title>{article.title} | " in html
    assert "<p>The summit.</p>" in html
    assert "ZHAO Minghao" in html
    assert "Adjunct Senior Fellow" in html


@pytest.mark.parametrize("factory", [DraftArticleFactory, ScheduledArticleFactory])
def test_unpublished_articles_are_not_found(client, factory):
    assert client.get(factory().get_absolute_url()).status_code == 404


def test_unpublished_publications_and_inactive_experts_are_not_found(client):
    assert client.get(DraftPublicationFactory().get_absolute_url()).status_code == 404
    assert client.get(InactiveExpertFactory().get_absolute_url()).status_code == 404


def test_detail_pages_of_published_content_answer(client):
    expert = ExpertFactory()
    publication = PublishedPublicationFactory(authors=[expert])

    assert client.get(expert.get_absolute_url()).status_code == 200
    assert client.get(publication.get_absolute_url()).status_code == 200
    assert client.get(publication.series.get_absolute_url()).status_code == 200


def test_user_text_is_escaped(client):
    article = PublishedArticleFactory(title="<script>alert(1)</script>", summary="<b>x</b>")

    html = client.get(reverse("articles:list")).content.decode()

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert article.get_absolute_url() in html


def _count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_every_page_costs_the_same_number_of_queries_at_two_sizes(client, site):
    def measure():
        pages = _pages(site)
        for url in pages.values():  # fills the settings, menu and taxonomy caches, as a
            client.get(url)  # running site has them
        return {name: _count_queries(client, url) for name, url in pages.items()}

    _content(site, 2)
    small = measure()
    _content(site, 25)
    large = measure()

    assert small == large
    assert max(small.values()) <= 10


def test_dates_are_shown_in_the_house_style_through_the_locale_formats(client):
    article = PublishedArticleFactory(
        published_at=datetime.datetime(2022, 6, 9, 12, 0, tzinfo=datetime.UTC)
    )

    assert "June 09, 2022" in client.get(article.get_absolute_url()).content.decode()
