"""Site search in a real browser (Debian's Chromium through Playwright): a query typed into
the header's search box with the keyboard, then narrowed by the facets, each filter shown in
the URL and in the counts, removed again, and the answer when nothing matches."""

import datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from articles.factories import PublishedArticleFactory
from articles.models import Article
from charhar.factories import RegionFactory, TopicFactory
from experts.factories import ExpertFactory
from publications.factories import PublishedPublicationFactory, SeriesFactory

SUMMIT_KOREA = "Summit diplomacy on the Korean Peninsula"
SUMMIT_JAPAN = "Japan and the summit season"
SUMMIT_EUROPE = "European summit on trade rules"
SUMMIT_EXPERT = "Li Wei"
SUMMIT_BOOK = "Summit papers"
EVERY_SUMMIT = {SUMMIT_KOREA, SUMMIT_JAPAN, SUMMIT_EUROPE, SUMMIT_EXPERT, SUMMIT_BOOK}

# {facet heading: {value: count}} as the page shows them, and the values marked as chosen.
FACETS = """() => Object.fromEntries(
    Array.from(document.querySelectorAll(".search-facets .facet")).map((facet) => [
        facet.querySelector("h3").textContent.trim(),
        Object.fromEntries(Array.from(facet.querySelectorAll("li a")).map((a) => [
            a.firstChild.textContent.trim(),
            Number(a.querySelector(".facet__count").textContent.replace(/[()]/g, "")),
        ])),
    ])
)"""
CHOSEN = """() => Array.from(document.querySelectorAll(".search-facets a[aria-current=true]"))
    .map((a) => a.firstChild.textContent.trim())"""


def at(year):
    return datetime.datetime(year, 6, 1, 12, tzinfo=datetime.UTC)


@pytest.fixture
def library(transactional_db):
    """Five things that speak of a summit, of every kind, and one that does not."""
    peace, trade = TopicFactory(name="Peace"), TopicFactory(name="Trade")
    asia, europe = RegionFactory(name="Asia"), RegionFactory(name="Europe")
    research, commentary = Article.Kind.RESEARCH, Article.Kind.COMMENTARY
    PublishedArticleFactory(
        title=SUMMIT_KOREA, kind=research, published_at=at(2019), topics=[peace], regions=[asia]
    )
    PublishedArticleFactory(
        title=SUMMIT_JAPAN,
        kind=commentary,
        published_at=at(2020),
        topics=[peace, trade],
        regions=[asia],
    )
    PublishedArticleFactory(
        title=SUMMIT_EUROPE, kind=research, published_at=at(2021), topics=[trade], regions=[europe]
    )
    PublishedArticleFactory(
        title="Harvest report", kind=research, published_at=at(2021), topics=[peace]
    )
    ExpertFactory(name=SUMMIT_EXPERT, short_bio="Writes on summit diplomacy.").topics.add(peace)
    PublishedPublicationFactory(
        title=SUMMIT_BOOK,
        series=SeriesFactory(name="Quarterly"),
        published_on=datetime.date(2021, 3, 1),
    )


def results(page):
    return set(page.locator(".search-results .card__title").all_inner_texts())


def url_filters(page):
    """The query string of the page's address, without the blank fields a form sends."""
    return parse_qs(urlsplit(page.url).query)


def facet_link(page, facet, label):
    section = page.locator(".search-facets .facet").filter(
        has=page.get_by_role("heading", name=facet, exact=True)
    )
    return section.get_by_role("link", name=label)


def test_search_typed_with_the_keyboard_narrows_by_facets_and_widens_again(
    library, live_server, page
):
    page.goto(live_server.url + reverse("home"))
    box = page.get_by_role("searchbox", name="Search the site")
    for _ in range(20):
        page.keyboard.press("Tab")
        if box.evaluate("el => el === document.activeElement"):
            break
    expect(box).to_be_focused()
    page.keyboard.type("summit")
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("Search")
    expect(page.locator(".search__count")).to_have_text("5 results for “summit”")
    assert url_filters(page) == {"q": ["summit"]}
    assert results(page) == EVERY_SUMMIT
    assert page.evaluate(FACETS) == {
        "Kind": {"Research": 2, "Commentary": 1, "Experts": 1, "Publications": 1},
        "Topic": {"Peace": 3, "Trade": 2},
        "Region": {"Asia": 2, "Europe": 1},
        "Publication series": {"Quarterly": 1},
        "Year": {"2021": 2, "2020": 1, "2019": 1},
    }
    expect(page.get_by_role("region", name="Filters in use")).to_have_count(0)

    # A topic: what is filed under Peace, of every kind, with the other counts narrowed too.
    facet_link(page, "Topic", "Peace").click()
    expect(page.locator(".search__count")).to_have_text("3 results for “summit”")
    assert url_filters(page) == {"q": ["summit"], "topic": ["peace"]}
    assert results(page) == {SUMMIT_KOREA, SUMMIT_JAPAN, SUMMIT_EXPERT}
    assert page.evaluate(FACETS) == {
        "Kind": {"Research": 1, "Commentary": 1, "Experts": 1},
        "Topic": {"Peace": 3, "Trade": 1},
        "Region": {"Asia": 2},
        "Year": {"2020": 1, "2019": 1},
    }
    assert page.evaluate(CHOSEN) == ["Peace"]
    in_use = page.get_by_role("region", name="Filters in use")
    expect(in_use.get_by_role("link", name="Topic: Peace")).to_be_visible()

    # Then a kind, reached with the keyboard: the two filters combine.
    kind = facet_link(page, "Kind", "Research")
    kind.focus()
    page.keyboard.press("Enter")
    expect(page.locator(".search__count")).to_have_text("1 result for “summit”")
    assert url_filters(page) == {"q": ["summit"], "topic": ["peace"], "kind": ["research"]}
    assert results(page) == {SUMMIT_KOREA}
    assert page.evaluate(FACETS) == {
        "Kind": {"Research": 1},
        "Topic": {"Peace": 1},
        "Region": {"Asia": 1},
        "Year": {"2019": 1},
    }
    assert sorted(page.evaluate(CHOSEN)) == ["Peace", "Research"]

    # Taking the topic away keeps the kind: research of every topic.
    in_use.get_by_role("link", name="Topic: Peace").click()
    expect(page.locator(".search__count")).to_have_text("2 results for “summit”")
    assert url_filters(page) == {"q": ["summit"], "kind": ["research"]}
    assert results(page) == {SUMMIT_KOREA, SUMMIT_EUROPE}
    assert page.evaluate(FACETS) == {
        "Kind": {"Research": 2},
        "Topic": {"Peace": 1, "Trade": 1},
        "Region": {"Asia": 1, "Europe": 1},
        "Year": {"2021": 1, "2019": 1},
    }

    # The chosen value in its facet is the other way to remove a filter: all is back.
    facet_link(page, "Kind", "Research").click()
    expect(page.locator(".search__count")).to_have_text("5 results for “summit”")
    assert url_filters(page) == {"q": ["summit"]}
    assert results(page) == EVERY_SUMMIT
    assert page.evaluate(CHOSEN) == []
    assert page.evaluate(FACETS)["Kind"] == {
        "Research": 2,
        "Commentary": 1,
        "Experts": 1,
        "Publications": 1,
    }


def test_search_that_finds_nothing_says_what_to_change(library, live_server, page):
    page.goto(live_server.url + reverse("search") + "?q=summit")
    expect(page.locator(".search__count")).to_have_text("5 results for “summit”")

    # A year no summit is from, typed into the search form, which keeps the query.
    page.get_by_label("From year").fill("2030")
    page.get_by_label("From year").press("Enter")
    expect(page.locator(".search__count")).to_have_text("0 results for “summit”")
    assert url_filters(page)["year_from"] == ["2030"]
    assert results(page) == set()
    empty = page.locator(".search-empty")
    expect(empty).to_contain_text("Nothing matches with these filters. Try removing some of them:")
    expect(page.locator(".search-facets")).to_have_count(0)

    empty.get_by_role("link", name="Remove Year: since 2030").click()
    expect(page.locator(".search__count")).to_have_text("5 results for “summit”")
    assert "year_from" not in url_filters(page)
    assert results(page) == EVERY_SUMMIT

    # Words nothing contains, with no filter to blame.
    query = page.get_by_role("searchbox", name="Search for")
    query.fill("zzyzx")
    query.press("Enter")
    expect(page.locator(".search__count")).to_have_text("0 results for “zzyzx”")
    expect(page.locator(".search-empty")).to_have_text(
        "Nothing matches these words. Try fewer or different words."
    )
    expect(page.get_by_role("region", name="Filters in use")).to_have_count(0)
