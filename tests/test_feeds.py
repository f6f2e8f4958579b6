"""RSS 2.0 and Atom feeds: every scope parses with a real feed parser, carries summaries,
authors, categories and enclosures, keeps its GUIDs through edits, leaves out unpublished
content, costs a fixed number of queries, and is linked from the page it follows."""

import datetime

import feedparser
import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from articles.factories import (
    DraftArticleFactory,
    PublishedArticleFactory,
    ScheduledArticleFactory,
    SectionFactory,
)
from articles.models import Article
from charhar.demo import hero_placeholder_jpeg
from charhar.factories import RegionFactory, TopicFactory
from charhar.feeds import feed_url
from experts.factories import ExpertFactory
from publications.factories import (
    DraftPublicationFactory,
    PublishedPublicationFactory,
    SeriesFactory,
)
from tests.html_validation import parse_html

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def world():
    topic, region = TopicFactory(name="Peace"), RegionFactory(name="Asia")
    section, series = SectionFactory(name="Peace Studies"), SeriesFactory(name="Quarterly")
    expert = ExpertFactory(name="ZHAO Minghao")
    article = PublishedArticleFactory(
        title="Summit <diplomacy> & more",
        summary="Talks resume. <script>alert(1)</script>",
        kind=Article.Kind.RESEARCH,
        section=section,
        topics=[topic],
        regions=[region],
        authors=[expert],
        byline="A Guest",
        hero_image=ContentFile(hero_placeholder_jpeg((48, 27)), "hero.jpg"),
        published_at=datetime.datetime(2024, 5, 6, 7, 8, tzinfo=datetime.UTC),
    )
    publication = PublishedPublicationFactory(
        title="Quarterly 2024/1",
        series=series,
        authors=[expert],
        published_on=datetime.date(2024, 3, 1),
    )
    publication.pdf.save("issue.pdf", ContentFile(PDF))
    publication.topics.add(topic)
    for factory in (DraftArticleFactory, ScheduledArticleFactory):
        factory(
            title=f"Hidden {factory.__name__}",
            section=section,
            topics=[topic],
            regions=[region],
            authors=[expert],
            kind=Article.Kind.RESEARCH,
        )
    hidden = DraftPublicationFactory(title="Hidden book", series=series)
    hidden.authors.add(expert)
    return {
        "topic": topic,
        "region": region,
        "section": section,
        "series": series,
        "expert": expert,
        "article": article,
        "publication": publication,
    }


def scopes(world):
    return {
        "everything": ("", ""),
        "section": ("section", world["section"].slug),
        "topic": ("topic", world["topic"].slug),
        "region": ("region", world["region"].slug),
        "expert": ("expert", world["expert"].slug),
        "kind": ("kind", "research"),
        "series": ("series", world["series"].slug),
    }


def parse(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    feed = feedparser.parse(response.content)
    assert not feed.bozo, (url, feed.get("bozo_exception"))
    return response, feed


def test_every_feed_parses_in_both_formats_without_errors(client, world):
    for name, (scope, slug) in scopes(world).items():
        for fmt, version, mime in (
            ("rss", "rss20", "application/rss+xml"),
            ("atom", "atom10", "application/atom+xml"),
        ):
            response, feed = parse(client, feed_url(scope, slug, fmt))
            assert response["Content-Type"].startswith(mime), name
            assert feed.version == version, name
            assert feed.entries, name
            assert feed.feed.title.endswith("The Charhar Institute"), name
            assert feed.feed.link.startswith("http://testserver/"), name
            for entry in feed.entries:
                assert "Hidden" not in entry.title, name


def test_articles_carry_summary_authors_categories_enclosure_and_dates(client, world):
    for fmt in ("rss", "atom"):
        _, feed = parse(client, feed_url("topic", world["topic"].slug, fmt))
        [entry] = feed.entries
        article = world["article"]
        assert entry.title == "Summit <diplomacy> & more"
        assert entry.link == "http://testserver" + article.get_absolute_url()
        # The summary is shown as text: its markup arrives escaped, never as elements.
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in entry.summary
        assert "<script>" not in entry.summary
        assert entry.author == "ZHAO Minghao, A Guest"
        assert {tag.term for tag in entry.tags} == {"Research", "Peace Studies", "Peace", "Asia"}
        [enclosure] = entry.enclosures
        assert enclosure.href.startswith("http://testserver/media/articles/")
        assert enclosure.type == "image/jpeg"
        assert entry.published_parsed[:6] == (2024, 5, 6, 7, 8, 0)


def test_publications_enclose_their_pdf_with_its_size(client, world):
    _, feed = parse(client, feed_url("series", world["series"].slug))
    [entry] = feed.entries
    [enclosure] = entry.enclosures
    assert enclosure.type == "application/pdf"
    assert int(enclosure.length) == len(PDF)
    assert {tag.term for tag in entry.tags} == {"Publication", "Quarterly", "Peace"}
    assert entry.published_parsed[:3] == (2024, 3, 1)


def test_the_everything_and_expert_feeds_mix_articles_and_publications_newest_first(client, world):
    for scope, slug in (("", ""), ("expert", world["expert"].slug)):
        _, feed = parse(client, feed_url(scope, slug))
        assert [e.title for e in feed.entries] == ["Summit <diplomacy> & more", "Quarterly 2024/1"]


def test_guids_never_change_when_an_article_is_edited(client, world):
    url = feed_url()
    _, before = parse(client, url)
    article = world["article"]
    article.title = "Renamed"
    article.slug = "renamed"
    article.summary = "New summary."
    article.save()
    _, after = parse(client, url)
    assert [e.id for e in before.entries] == [e.id for e in after.entries]
    assert after.entries[0].title == "Renamed"
    assert after.entries[0].id.startswith("tag:testserver,")


def test_unknown_scopes_groups_and_formats_are_not_found(client, world):
    for url in (
        "/feeds/json/",
        "/feeds/topic/no-such/rss/",
        "/feeds/kind/no-such/rss/",
        "/feeds/colour/red/rss/",
        f"/feeds/topic/{world['topic'].slug}/json/",
    ):
        assert client.get(url).status_code == 404, url


def test_an_inactive_experts_feed_is_not_found(client, world):
    world["expert"].is_active = False
    world["expert"].save()
    assert client.get(feed_url("expert", world["expert"].slug)).status_code == 404


def test_every_feed_costs_the_same_queries_with_3_and_with_40_items(client, world):
    def grow(n):
        for _ in range(n):
            expert = ExpertFactory()
            PublishedArticleFactory(
                kind=Article.Kind.RESEARCH,
                section=world["section"],
                topics=[world["topic"], TopicFactory()],
                regions=[world["region"]],
                authors=[world["expert"], expert],
            )
            publication = PublishedPublicationFactory(series=world["series"])
            publication.authors.add(world["expert"], expert)
            publication.topics.add(world["topic"])

    def measure():
        counts = {}
        for name, (scope, slug) in scopes(world).items():
            client.get(feed_url(scope, slug))
            with CaptureQueriesContext(connection) as queries:
                client.get(feed_url(scope, slug))
            counts[name] = len(queries)
        return counts

    grow(2)
    small = measure()
    grow(38)
    assert measure() == small
    print("Queries per feed:", small)
    assert max(small.values()) <= 10, small


def test_pages_link_the_feeds_that_follow_them(client, world):
    pages = {
        "/": [],
        world["section"].get_absolute_url(): [("section", world["section"].slug)],
        world["topic"].get_absolute_url(): [("topic", world["topic"].slug)],
        world["region"].get_absolute_url(): [("region", world["region"].slug)],
        world["expert"].get_absolute_url(): [("expert", world["expert"].slug)],
        "/articles/kind/research/": [("kind", "research")],
        world["series"].get_absolute_url(): [("series", world["series"].slug)],
    }
    for page, own in pages.items():
        root = parse_html(client.get(page).content)
        links = {
            (link.get("type"), link.get("href"))
            for link in root.iter("link")
            if link.get("rel") == "alternate"
        }
        expected = {
            ("application/rss+xml", feed_url()),
            ("application/atom+xml", feed_url(fmt="atom")),
        }
        for scope, slug in own:
            expected |= {
                ("application/rss+xml", feed_url(scope, slug)),
                ("application/atom+xml", feed_url(scope, slug, "atom")),
            }
        assert links == expected, page
        for _, href in links:
            parse(client, href)
