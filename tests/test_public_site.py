"""The public site as readers meet it.

With the demo content (the seed page's) every page type shows what the seed shows; listings
page by 20 and answer a bad `?page=` with the 404 page; drafts, scheduled, archived and
in-review content appears nowhere; every page costs the same few queries with 5 or 50 items;
the event's calendar file parses; the error pages work (the 500 page without a database); and
whatever editors type is escaped or sanitized.
"""

import datetime
import zoneinfo
from io import StringIO
from urllib.parse import urlsplit

import icalendar
import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, OperationalError, connection, connections
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.views.defaults import server_error

from articles.factories import (
    ArchivedArticleFactory,
    ArticleFactory,
    DraftArticleFactory,
    EventDetailsFactory,
    PublishedArticleFactory,
    ScheduledArticleFactory,
    SectionFactory,
)
from articles.models import Article, Section
from charhar.demo import hero_placeholder_jpeg
from charhar.factories import (
    MenuFactory,
    MenuItemFactory,
    OfficeFactory,
    PageFactory,
    RegionFactory,
    SiteSettingsFactory,
    TopicFactory,
)
from charhar.views import HomeView
from experts.factories import ExpertFactory, InactiveExpertFactory
from publications.factories import (
    DraftPublicationFactory,
    PublishedPublicationFactory,
    SeriesFactory,
)
from tests.html_validation import by_class, has_class, parse_html, text

pytestmark = pytest.mark.django_db

SUMMIT = "Process of denuclearization remains a sticking point after Singapore summit"
BAD_PAGES = ["0", "-1", "abc", "999", "1.5"]


# --- Reading pages ----------------------------------------------------------------------------


def fetch(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, f"{url} answered {response.status_code}"
    return parse_html(response.content)


def main(root):
    [element] = root.iter("main")
    return element


def cards(root):
    """The rows of a listing or block as a reader reads them."""
    rows = []
    for card in by_class(main(root), "card", "article"):
        link = next(iter(by_class(card, "card__title")), None)
        anchor = link.find("a") if link is not None else None
        rows.append(
            {
                "title": text(anchor),
                "href": anchor.get("href") if anchor is not None else "",
                "date": text(next(iter(by_class(card, "card__date")), None)),
                "summary": text(next(iter(by_class(card, "card__summary")), None)),
                "byline": text(next(iter(by_class(card, "byline")), None)),
                "images": list(card.iter("img")),
            }
        )
    return rows


def titles(root):
    return [row["title"] for row in cards(root)]


def head(root):
    """(title, meta description, canonical URL) of a page."""
    [title] = root.iter("title")
    description = [m.get("content") for m in root.iter("meta") if m.get("name") == "description"]
    canonical = [link.get("href") for link in root.iter("link") if link.get("rel") == "canonical"]
    return text(title), description, canonical


def assert_not_found_page(client, url):
    """A 404 in the site's layout with a search box, never a 500."""
    response = client.get(url)
    assert response.status_code == 404, f"{url} answered {response.status_code}"
    root = parse_html(response.content)
    assert [text(h1) for h1 in root.iter("h1")] == ["Page not found"], url
    assert any(form.get("role") == "search" for form in main(root).iter("form")), url
    assert list(root.iter("header")), url
    assert list(root.iter("footer")), url


# --- The demo content -------------------------------------------------------------------------

NEWS = [
    (
        "Facing challenges, US' IPEF may make the Asia-Pacific economy more fragmented",
        "June 09, 2022",
    ),
    ("Behind Biden’s Asia Trip", "June 09, 2022"),
    ("US sinks its claws back into Somalia with an eye on China and Russia", "May 23, 2022"),
    ("The Taiwan Question amid Russia-Ukraine Conflict", "May 06, 2022"),
    ("China’s Oil Deal v.s. the Dollar Mar 28, 2022", "March 28, 2022"),
    ("Biden’s Indo-Pacific Foray", "February 26, 2022"),
]  # fmt: skip

# The home page's topic blocks, in the topics' order, each with its two latest articles.
TOPIC_BLOCKS = {
    "Public Diplomacy and International Relations": [
        "The key to peace between Russia and Ukraine CGTN",
        "Biden’s first year marked by lows and challenges",
    ],
    "Belt & Road Initiative": [
        "China-Africa unity sees friendship of new era",
        "Unchangeable Commitment",
    ],
    "The Korean Peninsula": [
        "Su Hao: Tokyo should give ground to resolve tensions with Seoul over ‘comfort women’ "
        "issue",
        "Swaran Singh: Can next U.S.-DPRK meeting be expected?",
    ],
    "Economic and Trade": [
        "Challenges for the G20 in overcoming the pandemic",
        "Liberalization and non-interference by government will clean up Pakistan's economy",
    ],
    "Communication": [
        "He Wenping: Fake news fails in damaging Sino-African ties",
        "Resistance from within the White House",
    ],
    "Law, Culture and Religion": [
        "Israel's diplomatic breakthrough in Maghreb faces challenges",
        "Meng ruling makes Ottawa new front line between Washington and Beijing",
    ],
    "Energy, Safety and Peace": [
        "Sudan's 'military-civilian co-governance' dies halfway",
        "Human rights standards shall not be monopolized",
    ],
}

SERIES_BLOCKS = {
    "Public Diplomacy Quarterly": ["Public Diplomacy Quarterly"],
    "Other books and reports": [
        "The impotence of conventional arms control",
        "How Did Stalin Fall into the “Thucydides Trap”",
    ],
    "Charhar Public Diplomacy series": [
        "Winning the Chinese Hearts and Souls",
        "City Diplomacy: China’s Practice and Foreign Experience",
    ],
    "Charhar Newsletter": ["Charhar Newsletter"],
    "Charhar International Relations series": [
        "International Public Product: China and the World at the Midst of Revolutionary Change",
        "Power and Wealth: Economic Nationalism and International Relationships under "
        "Globalization",
    ],
    "Introduction to Public Diplomacy": [
        "Diplomatic Theory and Practice",
        "Introduction to Public Diplomacy 2nd Edition",
    ],
}


@pytest.fixture
def demo():
    call_command("load_demo", stdout=StringIO())
    # The seed shows no tag; one on the full article gives the tag page something to list.
    Article.objects.get(title=SUMMIT).tags.add("Denuclearization")


def demo_pages():
    summit = Article.objects.get(title=SUMMIT)
    return {
        "home": reverse("home"),
        "all articles": reverse("articles:list"),
        "news & events": reverse("articles:news"),
        "section": Section.objects.get(slug="public-diplomacy").get_absolute_url(),
        "latest research": reverse("articles:research"),
        "kind": reverse("articles:kind", args=["commentary"]),
        "tag": reverse("articles:tag", args=["denuclearization"]),
        "topics": reverse("topics"),
        "topic": reverse("topic", args=["the-korean-peninsula"]),
        "regions": reverse("regions"),
        "region": reverse("region", args=["asia"]),
        "upcoming events": reverse("articles:events"),
        "past events": reverse("articles:past_events"),
        "experts": reverse("experts:list"),
        "experts by topic": reverse("experts:list") + "?topic=the-korean-peninsula",
        "expert": reverse("experts:detail", args=["zhao-minghao"]),
        "publications": reverse("publications:list"),
        "series": reverse("publications:series", args=["other-books-and-reports"]),
        "publication": reverse("publications:detail", args=["public-diplomacy-quarterly"]),
        "article": summit.get_absolute_url(),
        "about page": reverse("page", args=["about-us"]),
        "offices": reverse("offices"),
        "search": reverse("search") + "?q=Biden",
    }


@pytest.mark.usefixtures("demo")
def test_every_page_type_has_one_h1_its_own_title_a_description_and_a_canonical_link(client):
    seen_titles = {}
    for name, url in demo_pages().items():
        root = fetch(client, url)
        assert len(list(root.iter("h1"))) == 1, name
        title, description, canonical = head(root)
        assert title.endswith("The Charhar Institute"), name
        assert title not in seen_titles, f"{name} has the title of {seen_titles.get(title)}"
        seen_titles[title] = name
        assert len(description) == 1, name
        assert description[0].strip(), name
        assert canonical == [settings.SITE_URL + urlsplit(url).path], name
        # The layout: header with the search box, main, footer.
        [header] = [h for h in root.iter("header") if has_class(h, "site-header")]
        assert any(form.get("role") == "search" for form in header.iter("form")), name
        assert "Dr Han Fangming" in text(next(root.iter("footer"))), name


@pytest.mark.usefixtures("demo")
def test_news_listing_shows_the_seed_titles_dates_and_summaries_newest_first(client):
    rows = cards(fetch(client, reverse("articles:news")))

    assert [(row["title"], row["date"]) for row in rows[:6]] == NEWS
    behind = rows[1]
    assert behind["href"] == "/articles/behind-bidens-asia-trip/"
    assert behind["summary"].startswith("What the US president’s visits to South Korea")


@pytest.mark.usefixtures("demo")
def test_topic_listing_shows_bylines_and_thumbnail_renditions_with_their_size(client):
    rows = cards(fetch(client, reverse("topic", args=["the-korean-peninsula"])))

    assert [row["title"] for row in rows] == [*TOPIC_BLOCKS["The Korean Peninsula"], SUMMIT]
    swaran = rows[1]
    assert swaran["date"] == "June 12, 2019"
    assert swaran["byline"] == "Swaran Singh"
    assert swaran["summary"].startswith("Whether another meeting between the leaders")
    assert not swaran["images"]  # no image, no placeholder
    [thumbnail] = rows[2]["images"]
    assert thumbnail.get("src").startswith(settings.MEDIA_URL + "renditions/")
    assert (thumbnail.get("width"), thumbnail.get("height")) == ("480", "270")
    assert thumbnail.get("alt").startswith("A dark red gradient")
    assert rows[2]["byline"] == "ZHAO Minghao"


@pytest.mark.usefixtures("demo")
def test_the_summit_article_shows_its_hero_rendition_body_terms_and_author_box(client):
    article = Article.objects.get(title=SUMMIT)
    root = fetch(client, article.get_absolute_url())
    [page] = by_class(root, "article", "article")

    assert text(page.find(".//h1")) == SUMMIT
    assert text(page.find(".//time")) == "June 18, 2018"
    [figure] = by_class(page, "article__hero")
    [hero] = figure.iter("img")
    src = hero.get("src")
    assert src.startswith(settings.MEDIA_URL + "renditions/")
    assert (settings.MEDIA_ROOT / src.removeprefix(settings.MEDIA_URL)).exists()
    assert (hero.get("width"), hero.get("height")) == ("1200", "675")
    assert hero.get("alt") == article.hero_alt != ""
    [body] = by_class(page, "prose")
    assert text(body).startswith("The summit between US President Donald Trump and North")
    assert len(list(body.iter("p"))) == 11
    terms = {text(a): a.get("href") for a in by_class(page, "article__terms")[0].iter("a")}
    assert terms == {
        "The Korean Peninsula": "/topics/the-korean-peninsula/",
        "Asia": "/regions/asia/",
        "#Denuclearization": "/tags/denuclearization/",
    }
    [box] = by_class(page, "author-box")
    assert text(box.find("h2")) == "Author"
    [name] = by_class(box, "author-box__name")
    assert text(name) == "ZHAO Minghao"
    assert name.find("a").get("href") == "/experts/zhao-minghao/"
    assert text(by_class(box, "author-box__title")[0]) == "Adjunct Senior Fellow"
    # Related articles share a topic, newest first; the Stay Informed block follows.
    assert titles(root) == TOPIC_BLOCKS["The Korean Peninsula"]
    assert text(root.find(".//*[@id='stay-informed-title']")) == "Stay Informed"
    shares = [a.get("href") for a in by_class(page, "share")[0].iter("a")]
    assert len(shares) == 4
    # No third-party script: every script is the site's own.
    assert all(s.get("src", "/static/").startswith("/static/") for s in root.iter("script"))


@pytest.mark.usefixtures("demo")
def test_home_has_the_news_block_seven_topic_blocks_and_the_series_blocks(client):
    root = fetch(client, reverse("home"))
    [news] = by_class(root, "block--news")
    topic_blocks = by_class(root, "block--topic")
    series_blocks = by_class(root, "block--series")

    assert block_titles(news) == [title for title, _ in NEWS]
    assert [text(t) for t in news.iter("time")] == [date for _, date in NEWS]
    assert {text(block.find("h2")): block_titles(block) for block in topic_blocks} == (TOPIC_BLOCKS)
    assert [text(block.find("h2")) for block in topic_blocks] == list(TOPIC_BLOCKS)
    assert {text(block.find("h2")): block_titles(block) for block in series_blocks} == (
        SERIES_BLOCKS
    )
    assert [text(block.find("h2")) for block in series_blocks] == list(SERIES_BLOCKS)
    assert (
        block_titles(by_class(root, "block--research")[0])[:2]
        == (TOPIC_BLOCKS["Public Diplomacy and International Relations"])
    )


def block_titles(block):
    return [text(heading) for heading in by_class(block, "card__title")]


@pytest.mark.usefixtures("demo")
def test_every_more_link_on_home_leads_to_the_listing_of_its_block(client):
    root = fetch(client, reverse("home"))
    blocks = [block for block in root.iter("section") if has_class(block, "block")]
    expected = {"news-title": "News & Events", "research-title": "Latest Research"}

    assert len(blocks) == 1 + 7 + 6 + 1
    for block in blocks:
        heading = block.find("h2")
        [more] = by_class(block, "more")
        href = more.find("a").get("href")
        listing = fetch(client, href)
        wanted = expected.get(heading.get("id"), text(heading))
        assert [text(h1) for h1 in listing.iter("h1")] == [wanted], href
        if block in by_class(root, "block--topic") or block in by_class(root, "block--series"):
            # The listing starts with the block's own items.
            assert titles(listing)[:2] == block_titles(block), href


@pytest.mark.usefixtures("demo")
def test_header_has_the_demo_menus_with_descriptions_and_the_topics_drop_down(client):
    root = fetch(client, reverse("articles:research"))
    [header] = [h for h in root.iter("header") if has_class(h, "site-header")]
    navs = {nav.get("aria-label"): nav for nav in header.iter("nav")}

    assert set(navs) == {"Network", "Quick links", "Main"}
    descriptions = [text(p) for p in by_class(navs["Network"], "menu__description")]
    assert (
        "GMF provides effective ways forward to solving today’s transatlantic policy issues."
        in descriptions
    )
    # Drop-downs are native disclosures: they open with the keyboard and without JavaScript.
    drop_downs = {text(d.find("summary")): d for d in navs["Main"].iter("details")}
    assert list(drop_downs) == [
        "About Us",
        "Regions",
        "Topics",
        "Publications",
        "News&Events",
    ]
    topics = {text(a): a.get("href") for a in drop_downs["Topics"].find(".//ul").iter("a")}
    assert topics["All Topics"] == "/topics/"
    assert topics["The Korean Peninsula"] == "/topics/the-korean-peninsula/"
    assert list(topics) == ["All Topics", *TOPIC_BLOCKS]
    assert any(text(a) == "Stay Informed" for a in header.iter("a"))


@pytest.mark.usefixtures("demo")
def test_footer_has_the_chairman_quote_contacts_and_this_years_copyright(client):
    root = fetch(client, reverse("offices"))
    [footer] = root.iter("footer")
    footer_text = text(footer)

    [quote] = by_class(footer, "chairman-quote")
    assert text(quote.find("blockquote")).startswith("“The Charhar Institute is committed to")
    assert "Dr Han Fangming" in text(quote.find("figcaption"))
    links = {a.get("href") for a in footer.iter("a")}
    assert "tel:+861068290431" in links
    assert "mailto:secretariat@charhar.org.cn" in links
    assert "Phone: +86 10 68290431" in footer_text
    assert "Fax: 010-80777830" in footer_text
    assert "Email: secretariat@charhar.org.cn" in footer_text
    assert f"©{timezone.now().year} The Charhar Institute" in footer_text
    assert "https://twitter.com/CharharINST" in links


@pytest.mark.usefixtures("demo")
def test_expert_publication_offices_and_about_pages_show_the_demo_content(client):
    expert = fetch(client, reverse("experts:detail", args=["zhao-minghao"]))
    assert text(expert.find(".//h1")) == "ZHAO Minghao"
    assert text(by_class(expert, "profile__title")[0]) == "Adjunct Senior Fellow"
    assert titles(expert) == [SUMMIT]

    publication = fetch(client, reverse("publications:detail", args=["public-diplomacy-quarterly"]))
    facts = text(by_class(publication, "publication__facts")[0])
    assert "August 17, 2018" in facts
    assert "The Charhar Institute" in facts
    [kicker] = by_class(publication, "article__kicker")
    assert kicker.find("a").get("href") == "/publications/series/public-diplomacy-quarterly/"

    offices = fetch(client, reverse("offices"))
    cities = [text(h2) for h2 in main(offices).iter("h2")]
    assert cities[:2] == ["Washington, DC", "Ankara"]
    assert len(cities) == 8

    about = fetch(client, reverse("page", args=["about-us"]))
    assert text(about.find(".//h1")) == "About Us"
    assert "non-governmental, non-profit think tank" in text(main(about))

    experts = fetch(client, reverse("experts:list") + "?topic=the-korean-peninsula")
    assert titles(experts) == ["ZHAO Minghao"]
    assert titles(fetch(client, reverse("experts:list") + "?region=europe-middle-east")) == []


@pytest.mark.usefixtures("demo")
def test_an_unknown_address_gets_the_404_page_in_the_layout_with_a_search_box(client):
    assert_not_found_page(client, "/no-such-page/")
    root = parse_html(client.get("/no-such-page/").content)
    assert not [link for link in root.iter("link") if link.get("rel") == "canonical"]
    assert "Dr Han Fangming" in text(next(root.iter("footer")))


# --- Detail pages beyond the seed -----------------------------------------------------------


def test_article_page_shows_caption_credit_and_the_source_of_a_republished_piece(client):
    article = PublishedArticleFactory(
        hero_image=ContentFile(hero_placeholder_jpeg((120, 68)), "hero.jpg"),
        hero_caption="Delegates at the forum.",
        hero_credit="Photo: Xinhua",
        source_name="Global Times",
        source_url="https://example.org/original",
    )
    root = fetch(client, article.get_absolute_url())

    [figure] = by_class(root, "article__hero")
    assert text(figure.find("figcaption")) == "Delegates at the forum. Photo: Xinhua"
    assert figure.find(".//img").get("alt") == "Delegates at the forum."
    [source] = by_class(root, "article__source")
    assert text(source) == "Source: Global Times"
    assert source.find("a").get("href") == "https://example.org/original"


def test_publication_page_shows_cover_contributors_isbn_pdf_size_and_purchase_link(client):
    author, editor = ExpertFactory(name="WANG Li"), ExpertFactory(name="LI Wei")
    publication = PublishedPublicationFactory(
        title="City Diplomacy",
        isbn="9787501257960",
        purchase_url="https://example.org/buy",
        cover=ContentFile(hero_placeholder_jpeg((90, 126)), "cover.jpg"),
        pdf=ContentFile(b"%PDF-1.4\n" + b"x" * 2039, "book.pdf"),
        byline="Outside Editor",
    )
    publication.contributions.create(expert=author, order=1)
    publication.contributions.create(expert=editor, order=2, role="editor")
    root = fetch(client, publication.get_absolute_url())

    [cover] = by_class(root, "publication__cover")
    assert cover.get("src").startswith(settings.MEDIA_URL + "renditions/")
    assert (cover.get("width"), cover.get("height")) == ("360", "504")
    assert cover.get("alt") == "Cover of City Diplomacy"
    assert text(by_class(root, "byline")[0]) == "WANG Li, LI Wei (editor), Outside Editor"
    [facts] = by_class(root, "publication__facts")
    terms = dict(zip(map(text, facts.iter("dt")), map(text, facts.iter("dd")), strict=True))
    assert terms["ISBN"] == "9787501257960"
    assert terms["Publisher"] == "World Affairs Press"
    actions = by_class(root, "publication__actions")[0]
    [pdf, buy] = actions.iter("a")
    assert pdf.get("href").endswith(".pdf")
    assert text(actions).startswith("Download the PDF (2.0 KB)")
    assert buy.get("href") == "https://example.org/buy"
    assert titles(fetch(client, publication.series.get_absolute_url())) == ["City Diplomacy"]


def test_events_are_split_into_upcoming_soonest_first_and_past_newest_first(client):
    now = timezone.now()

    def event(title, starts_in_hours, hours=2):
        starts = now + datetime.timedelta(hours=starts_in_hours)
        EventDetailsFactory(
            article__title=title, starts_at=starts, ends_at=starts + datetime.timedelta(hours=hours)
        )

    event("Next month", 24 * 30)
    event("Tomorrow", 24)
    event("Under way", -1)
    event("Last week", -24 * 7)
    event("Yesterday", -24)

    assert titles(fetch(client, reverse("articles:events"))) == [
        "Under way",
        "Tomorrow",
        "Next month",
    ]
    assert titles(fetch(client, reverse("articles:past_events"))) == ["Yesterday", "Last week"]


# --- Pagination -------------------------------------------------------------------------------


@pytest.fixture
def many():
    """21 of everything a listing shows: two pages of 20, three of the expert's 10."""
    topic, region = TopicFactory(name="Peace"), RegionFactory(name="Asia")
    section, series = SectionFactory(name="Peace Studies"), SeriesFactory(name="Quarterly")
    expert = ExpertFactory(name="Prolific")
    expert.topics.add(topic)
    expert.regions.add(region)
    now = timezone.now()
    for n in range(21):
        article = PublishedArticleFactory(
            title=f"Paginated research {n}",
            kind=Article.Kind.RESEARCH,
            section=section,
            topics=[topic],
            regions=[region],
            authors=[expert],
        )
        article.tags.add("diplomacy")
        EventDetailsFactory(starts_at=now + datetime.timedelta(days=n + 1))
        EventDetailsFactory(
            starts_at=now - datetime.timedelta(days=n + 1),
            ends_at=now - datetime.timedelta(days=n + 1) + datetime.timedelta(hours=2),
        )
        PublishedPublicationFactory(series=series)
        other = ExpertFactory()
        other.topics.add(topic)
        other.regions.add(region)
    return {
        "all articles": reverse("articles:list"),
        "news & events": reverse("articles:news"),
        "section": section.get_absolute_url(),
        "latest research": reverse("articles:research"),
        "kind": reverse("articles:kind", args=["research"]),
        "tag": reverse("articles:tag", args=["diplomacy"]),
        "topic": topic.get_absolute_url(),
        "region": region.get_absolute_url(),
        "upcoming events": reverse("articles:events"),
        "past events": reverse("articles:past_events"),
        "publications": reverse("publications:list"),
        "series": series.get_absolute_url(),
        "experts": reverse("experts:list"),
        "experts filtered": f"{reverse('experts:list')}?topic={topic.slug}&region={region.slug}",
        "search": reverse("search") + "?q=Paginated",
        "expert profile": expert.get_absolute_url(),
    }


def with_page(url, page):
    return f"{url}{'&' if '?' in url else '?'}page={page}"


def test_every_listing_pages_by_20_with_links_and_answers_bad_pages_with_the_404_page(client, many):
    for name, url in many.items():
        per_page = 10 if name == "expert profile" else 20
        first = fetch(client, url)
        assert len(cards(first)) == per_page, name
        [pagination] = by_class(first, "pagination", "nav")
        links = {text(a): a.get("href") for a in pagination.iter("a")}
        assert links["2"] == links["Next"], name
        query = urlsplit(url).query
        assert links["2"] == "?" + "&".join(filter(None, [query, "page=2"])), name
        assert [a.get("aria-current") for a in pagination.iter("a") if text(a) == "1"] == ["page"]

        second = fetch(client, with_page(url, 2))
        assert 1 <= len(cards(second)) <= per_page, name
        assert not set(titles(first)) & set(titles(second)), name
        title, _, canonical = head(second)
        assert "page 2" in title, name
        assert canonical == [f"{settings.SITE_URL}{urlsplit(url).path}?page=2"], name

        for page in BAD_PAGES:
            assert_not_found_page(client, with_page(url, page))


def test_expert_filters_with_an_unknown_topic_or_region_give_the_404_page(client):
    TopicFactory(name="Peace")
    assert_not_found_page(client, reverse("experts:list") + "?topic=no-such-topic")
    assert_not_found_page(client, reverse("experts:list") + "?region=no-such-region")
    assert client.get(reverse("experts:list") + "?topic=peace").status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "/topics/no-such-topic/",
        "/regions/no-such-region/",
        "/news/no-such-section/",
        "/tags/no-such-tag/",
        "/articles/kind/no-such-kind/",
        "/publications/series/no-such-series/",
        "/about/no-such-page/",
    ],
)
def test_an_unknown_group_gives_the_404_page(client, url):
    assert_not_found_page(client, url)


# --- Unpublished content ----------------------------------------------------------------------


@pytest.fixture
def hidden_world():
    """One live article of each kind and, sharing everything with it, one article of each
    hidden status; the same for publications; an inactive co-author."""
    topic, region = TopicFactory(name="Peace"), RegionFactory(name="Asia")
    section, series = SectionFactory(name="Peace Studies"), SeriesFactory(name="Quarterly")
    expert = ExpertFactory(name="Visible Fellow")
    retired = InactiveExpertFactory(name="Retired Fellow")
    for person in (expert, retired):
        person.topics.add(topic)
        person.regions.add(region)
    now = timezone.now()
    past = now - datetime.timedelta(days=3)
    statuses = {
        "Live": PublishedArticleFactory,
        "Hidden draft": lambda **kw: DraftArticleFactory(published_at=past, **kw),
        "Hidden review": lambda **kw: ArticleFactory(
            status=Article.Status.REVIEW, published_at=past, **kw
        ),
        "Hidden archived": ArchivedArticleFactory,
        "Hidden scheduled": ScheduledArticleFactory,
    }
    event_times = {
        "upcoming": (now + datetime.timedelta(days=5), now + datetime.timedelta(days=5, hours=2)),
        "past": (now - datetime.timedelta(days=5), now - datetime.timedelta(days=5, hours=-2)),
    }
    articles = {}
    for label, make in statuses.items():
        for kind in (Article.Kind.RESEARCH, Article.Kind.NEWS, "upcoming", "past"):
            article = make(
                title=f"{label} summit {kind}",
                summary="Shared words.",
                kind=Article.Kind.EVENT if kind in event_times else kind,
                section=section,
                topics=[topic],
                regions=[region],
                authors=[expert, retired],
                is_featured=True,
            )
            article.tags.add("diplomacy")
            if kind in event_times:
                starts, ends = event_times[kind]
                EventDetailsFactory(article=article, starts_at=starts, ends_at=ends)
            articles[(label, kind)] = article
    publications = {
        "Live": PublishedPublicationFactory(title="Live summit book", series=series),
        "Hidden draft": DraftPublicationFactory(title="Hidden draft book", series=series),
        "Hidden future": PublishedPublicationFactory(
            title="Hidden future book",
            series=series,
            published_on=timezone.localdate() + datetime.timedelta(days=2),
        ),
    }
    for publication in publications.values():
        publication.authors.add(expert, retired)
        publication.topics.add(topic)
    return {
        "topic": topic,
        "region": region,
        "section": section,
        "series": series,
        "expert": expert,
        "retired": retired,
        "articles": articles,
        "publications": publications,
    }


def public_pages(world):
    live = [a for (label, _), a in world["articles"].items() if label == "Live"]
    return {
        "home": reverse("home"),
        "all articles": reverse("articles:list"),
        "news & events": reverse("articles:news"),
        "section": world["section"].get_absolute_url(),
        "latest research": reverse("articles:research"),
        **{
            f"kind {kind}": reverse("articles:kind", args=[kind])
            for kind in ("research", "news", "event")
        },
        "tag": reverse("articles:tag", args=["diplomacy"]),
        "topic": world["topic"].get_absolute_url(),
        "region": world["region"].get_absolute_url(),
        "upcoming events": reverse("articles:events"),
        "past events": reverse("articles:past_events"),
        "search": reverse("search") + "?q=summit",
        "search, nothing typed": reverse("search"),
        "experts": reverse("experts:list"),
        "experts filtered": reverse("experts:list") + f"?topic={world['topic'].slug}",
        "expert": world["expert"].get_absolute_url(),
        "publications": reverse("publications:list"),
        "series": world["series"].get_absolute_url(),
        "live publication": world["publications"]["Live"].get_absolute_url(),
        **{f"live article {a.title}": a.get_absolute_url() for a in live},
    }


def test_unpublished_articles_and_publications_appear_on_no_public_page(client, hidden_world):
    for name, url in public_pages(hidden_world).items():
        html = client.get(url).content.decode()
        assert "Hidden" not in html, f"{name} shows unpublished content"
        assert "Live summit" in html or name in ("experts", "experts filtered"), name


def test_only_live_articles_are_counted_and_related(client, hidden_world):
    root = fetch(client, reverse("search") + "?q=summit")
    # The four live articles and the live book: search spans articles and publications.
    assert text(by_class(root, "search__count")[0]) == "5 results for “summit”"
    live = hidden_world["articles"][("Live", Article.Kind.RESEARCH)]
    assert sorted(titles(fetch(client, live.get_absolute_url()))) == [
        "Live summit news",
        "Live summit past",
        "Live summit upcoming",
    ]


def test_unpublished_articles_publications_and_their_calendar_files_are_not_found(
    client, hidden_world
):
    for (label, kind), article in hidden_world["articles"].items():
        if label == "Live":
            continue
        assert_not_found_page(client, article.get_absolute_url())
        if kind in ("upcoming", "past"):
            ics = reverse("articles:event_ics", args=[article.slug])
            assert client.get(ics).status_code == 404, article.title
    for label, publication in hidden_world["publications"].items():
        if label != "Live":
            assert_not_found_page(client, publication.get_absolute_url())


def test_inactive_experts_are_not_listed_linked_or_found(client, hidden_world):
    retired = hidden_world["retired"]
    profile = retired.get_absolute_url()

    assert_not_found_page(client, profile)
    for name, url in public_pages(hidden_world).items():
        root = fetch(client, url)
        assert profile not in {a.get("href") for a in root.iter("a")}, name
    for name in ("experts", "experts filtered"):
        assert titles(fetch(client, public_pages(hidden_world)[name])) == ["Visible Fellow"]
    # Still credited where they wrote, without a link to a page that does not exist.
    live = hidden_world["articles"][("Live", Article.Kind.RESEARCH)]
    root = fetch(client, live.get_absolute_url())
    names = [text(n) for n in by_class(root, "author-box__name")]
    assert names == ["Visible Fellow", "Retired Fellow"]


def test_a_scheduled_article_appears_by_itself_when_its_time_comes(client, time_machine):
    article = ScheduledArticleFactory(title="Tomorrow’s piece")
    assert_not_found_page(client, article.get_absolute_url())
    assert "Tomorrow’s piece" not in titles(fetch(client, reverse("articles:list")))

    # The clock, not a save, makes it live.
    time_machine.move_to(article.published_at + datetime.timedelta(seconds=1))

    assert "Tomorrow’s piece" in titles(fetch(client, reverse("articles:list")))
    assert client.get(article.get_absolute_url()).status_code == 200


# --- Queries ----------------------------------------------------------------------------------


class World:
    """Content for every public page, grown to `n` items of each list a page shows: articles
    of every listing, events, publications, experts, offices, menu items, topics, regions,
    and the authors, topics, regions and tags of the article and publication shown."""

    def __init__(self):
        SiteSettingsFactory(chairman_quote="Committed to progress.", chairman_attribution="Dr Han")
        self.menu = MenuFactory(slug="main")
        self.topic = TopicFactory(name="Peace")
        self.region = RegionFactory(name="Asia")
        self.section = SectionFactory(name="Peace Studies")
        self.series = SeriesFactory(name="Quarterly")
        self.page = PageFactory(title="About Us")
        self.expert = ExpertFactory(name="Prolific Fellow")
        self.expert.photo.save("fellow.jpg", ContentFile(hero_placeholder_jpeg((60, 75))))
        self.expert.topics.add(self.topic)
        self.expert.regions.add(self.region)
        self.event = EventDetailsFactory(
            article__title="The forum", article__topics=[self.topic], article__authors=[]
        ).article
        self.publication = PublishedPublicationFactory(title="The book", series=self.series)
        self.size = 0

    def grow(self, n):
        now = timezone.now()
        for i in range(self.size, n):
            image = {}
            if i % 2:
                image["hero_image"] = ContentFile(hero_placeholder_jpeg((48, 27)), f"{i}.jpg")
            article = PublishedArticleFactory(
                title=f"Research {i}",
                kind=Article.Kind.RESEARCH,
                section=self.section,
                topics=[self.topic],
                regions=[self.region],
                authors=[self.expert],
                **image,
            )
            article.tags.add("diplomacy")
            for starts in (
                now + datetime.timedelta(days=i + 1),
                now - datetime.timedelta(days=i + 1),
            ):
                EventDetailsFactory(
                    article__topics=[self.topic],
                    article__authors=[self.expert],
                    starts_at=starts,
                    ends_at=starts + datetime.timedelta(hours=2),
                )
            PublishedPublicationFactory(series=self.series, authors=[self.expert])
            colleague = ExpertFactory()
            colleague.topics.add(self.topic)
            colleague.regions.add(self.region)
            topic, region = TopicFactory(), RegionFactory()
            self.event.authorships.create(expert=colleague, order=i + 1)
            self.event.topics.add(topic)
            self.event.regions.add(region)
            self.event.tags.add(f"tag {i}")
            self.publication.authors.add(colleague)
            self.publication.topics.add(topic)
            self.publication.regions.add(region)
            OfficeFactory()
            MenuItemFactory(menu=self.menu, label=f"Item {i}", url=f"/item-{i}/")
        self.size = n

    def pages(self):
        return {
            "home": reverse("home"),
            "all articles": reverse("articles:list"),
            "news & events": reverse("articles:news"),
            "section": self.section.get_absolute_url(),
            "latest research": reverse("articles:research"),
            "kind": reverse("articles:kind", args=["research"]),
            "tag": reverse("articles:tag", args=["diplomacy"]),
            "topics": reverse("topics"),
            "topic": self.topic.get_absolute_url(),
            "regions": reverse("regions"),
            "region": self.region.get_absolute_url(),
            "series": self.series.get_absolute_url(),
            "publications": reverse("publications:list"),
            "upcoming events": reverse("articles:events"),
            "past events": reverse("articles:past_events"),
            "experts": reverse("experts:list"),
            "experts filtered": (
                f"{reverse('experts:list')}?topic={self.topic.slug}&region={self.region.slug}"
            ),
            "search": reverse("search") + "?q=Research",
            "search, nothing typed": reverse("search"),
            "article with event": self.event.get_absolute_url(),
            "event calendar file": reverse("articles:event_ics", args=[self.event.slug]),
            "expert profile": self.expert.get_absolute_url(),
            "publication": self.publication.get_absolute_url(),
            "about page": self.page.get_absolute_url(),
            "offices": reverse("offices"),
        }


def measure(client, pages):
    """Queries each page costs once the caches a running site has are warm."""
    for url in pages.values():
        assert client.get(url).status_code == 200, url
    counts = {}
    for name, url in pages.items():
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        counts[name] = len(queries)
    return counts


def test_every_page_costs_the_same_few_queries_with_5_and_with_50_items(
    client, django_assert_num_queries
):
    world = World()
    world.grow(5)
    pages = world.pages()
    at_5 = measure(client, pages)

    world.grow(50)
    for url in pages.values():
        client.get(url)
    differences = {}
    for name, url in pages.items():
        try:
            with django_assert_num_queries(at_5[name]):
                response = client.get(url)
        except pytest.fail.Exception as exc:
            differences[name] = str(exc).splitlines()[0]
        assert response.status_code == 200, name
    print("Queries per page:", at_5)
    assert differences == {}
    assert {name: n for name, n in at_5.items() if n > 10} == {}


def test_listings_really_list_fifty_items_when_counted(client):
    # The query test is only as good as its content: the pages above do list what was made.
    world = World()
    world.grow(50)
    assert len(cards(fetch(client, reverse("articles:research")))) == 20
    assert len(cards(fetch(client, reverse("experts:list")))) == 20
    article = fetch(client, world.event.get_absolute_url())
    assert len(by_class(article, "author-box__person")) == 50
    # The forum's own topic, then 50 topics, 50 regions and 50 tags.
    assert len(by_class(article, "article__terms")[0].findall("li")) == 1 + 150
    profile = fetch(client, world.expert.get_absolute_url())
    assert len(cards(profile)) == 10 + 10  # a page of articles, a page of publications
    publication = fetch(client, world.publication.get_absolute_url())
    assert len(by_class(publication, "byline")[0].findall("a")) == 50
    offices = fetch(client, reverse("offices"))
    assert len(by_class(offices, "office", "section")) == 50


# --- The event's calendar file ----------------------------------------------------------------


def test_event_calendar_file_parses_with_the_event_in_its_own_time_zone(client):
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    starts = datetime.datetime(2031, 3, 14, 18, 30, tzinfo=berlin)
    event = EventDetailsFactory(
        article__title="Forum on City Diplomacy",
        starts_at=starts,
        ends_at=starts + datetime.timedelta(hours=2),
        time_zone="Europe/Berlin",
        venue="Kulturforum",
        city="Berlin",
    )
    article = event.article
    url = reverse("articles:event_ics", args=[article.slug])

    response = client.get(url)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert f'filename="{article.slug}.ics"' in response["Content-Disposition"]
    calendar = icalendar.Calendar.from_ical(response.content)
    [entry] = calendar.walk("VEVENT")
    assert str(entry["SUMMARY"]) == "Forum on City Diplomacy"
    assert entry["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert entry["DTSTART"].dt == starts
    assert (entry["DTSTART"].dt.hour, entry["DTSTART"].dt.minute) == (18, 30)
    assert entry["DTEND"].params["TZID"] == "Europe/Berlin"
    assert entry["DTEND"].dt == starts + datetime.timedelta(hours=2)
    assert str(entry["LOCATION"]) == "Kulturforum, Berlin"
    assert str(entry["URL"]) == f"http://testserver{article.get_absolute_url()}"
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Berlin"]
    uid = str(entry["UID"])

    article.title = "Forum on City Diplomacy (moved)"
    article.save()
    event.starts_at = starts + datetime.timedelta(days=1)
    event.save()
    [edited] = icalendar.Calendar.from_ical(client.get(url).content).walk("VEVENT")

    assert str(edited["UID"]) == uid
    assert str(edited["SUMMARY"]) == "Forum on City Diplomacy (moved)"
    assert edited["DTSTART"].dt == starts + datetime.timedelta(days=1)


def test_event_page_shows_the_time_in_the_events_zone_and_links_the_calendar_file(client):
    starts = datetime.datetime(2031, 3, 14, 17, 30, tzinfo=datetime.UTC)
    event = EventDetailsFactory(
        starts_at=starts,
        ends_at=starts + datetime.timedelta(hours=2),
        time_zone="Europe/Berlin",
        venue="Kulturforum",
        city="Berlin",
        registration_url="https://example.org/register",
    )
    root = fetch(client, event.article.get_absolute_url())
    [details] = by_class(root, "event-details")

    assert "March 14, 2031, 18:30 – 20:30 (Europe/Berlin)" in text(details)
    assert "Kulturforum, Berlin" in text(details)
    links = {text(a): a.get("href") for a in details.iter("a")}
    assert links["Register"] == "https://example.org/register"
    assert links["Add to calendar"] == reverse("articles:event_ics", args=[event.article.slug])


def test_an_article_that_is_not_an_event_has_no_calendar_file(client):
    article = PublishedArticleFactory()
    assert client.get(reverse("articles:event_ics", args=[article.slug])).status_code == 404


# --- Error pages ------------------------------------------------------------------------------


def test_the_500_page_renders_without_touching_the_database(django_assert_num_queries, monkeypatch):
    def database_down(*args, **kwargs):
        raise OperationalError("could not connect to server")

    request = RequestFactory().get("/articles/some-article/")
    with django_assert_num_queries(0):
        for name in ("cursor", "chunked_cursor", "ensure_connection"):
            monkeypatch.setattr(connections[DEFAULT_DB_ALIAS], name, database_down)
        response = server_error(request)

    assert response.status_code == 500
    root = parse_html(response.content)
    assert [text(h1) for h1 in root.iter("h1")] == ["Something went wrong"]
    assert any(form.get("role") == "search" for form in main(root).iter("form"))
    assert list(root.iter("header"))
    assert list(root.iter("footer"))
    html = response.content.decode()
    assert "Traceback" not in html
    assert "OperationalError" not in html


def test_a_failing_page_answers_with_the_500_page(client, monkeypatch):
    def database_down(*args, **kwargs):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(HomeView, "get_context_data", database_down)
    client.raise_request_exception = False

    response = client.get(reverse("home"))

    assert response.status_code == 500
    assert b'role="search"' in response.content
    assert b"could not connect" not in response.content


# --- Escaping ---------------------------------------------------------------------------------

NASTY = "<script>alert(\"x\")</script> & 'quoted'"
ESCAPED = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#x27;quoted&#x27;"


def test_titles_summaries_and_names_are_escaped_on_listings_and_detail_pages(client):
    topic = TopicFactory(name=f"Topic {NASTY}")
    section = SectionFactory(name=f"Section {NASTY}")
    expert = ExpertFactory(name=f"Expert {NASTY}", title=NASTY, short_bio=NASTY)
    expert.topics.add(topic)
    article = PublishedArticleFactory(
        title=f"Article {NASTY}",
        summary=f"Summary {NASTY}",
        byline=NASTY,
        source_name=NASTY,
        hero_caption=NASTY,
        section=section,
        topics=[topic],
        authors=[expert],
        hero_image=ContentFile(hero_placeholder_jpeg((48, 27)), "hero.jpg"),
    )
    article.tags.add(f"tag {NASTY}")
    publication = PublishedPublicationFactory(
        title=f"Publication {NASTY}", summary=NASTY, byline=NASTY, authors=[expert]
    )
    pages = {
        "home": reverse("home"),
        "all articles": reverse("articles:list"),
        "topic": topic.get_absolute_url(),
        "section": section.get_absolute_url(),
        "tag": reverse("articles:tag", args=[article.tags.get().slug]),
        "search": reverse("search") + "?q=" + "%3Cscript%3E",
        "article": article.get_absolute_url(),
        "experts": reverse("experts:list"),
        "expert": expert.get_absolute_url(),
        "publications": reverse("publications:list"),
        "publication": publication.get_absolute_url(),
        "topics": reverse("topics"),
    }
    for name, url in pages.items():
        html = client.get(url).content.decode()
        assert "<script>alert" not in html, name
        assert ESCAPED in html, name
    # The search words are shown back escaped too.
    html = client.get(reverse("search") + "?q=%3Cscript%3Ealert(1)").content.decode()
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)" in html


def test_article_bodies_bios_and_pages_come_sanitized(client):
    dirty = (
        '<p onclick="steal()">Kept <strong>bold</strong></p><script>alert(2)</script>'
        '<a href="javascript:alert(3)">link</a><img src="/x.png" onerror="alert(4)" alt="x">'
        '<iframe src="https://evil.example/"></iframe><style>body{display:none}</style>'
        '<a href="https://example.org/" style="color:red">fine</a>'
    )
    article = PublishedArticleFactory(body=dirty)
    expert = ExpertFactory(bio=dirty)
    page = PageFactory(body=dirty)

    for url in (article.get_absolute_url(), expert.get_absolute_url(), page.get_absolute_url()):
        [prose] = by_class(fetch(client, url), "prose")
        html = client.get(url).content.decode()
        assert "<p>Kept <strong>bold</strong></p>" in html, url
        for bad in ("onclick", "alert(", "javascript:", "onerror", "<iframe", "<style", "color:"):
            assert bad not in html, (url, bad)
        assert [a.get("href") for a in prose.iter("a") if a.get("href")] == ["https://example.org/"]


def test_an_experts_publications_are_paginated_apart_from_the_articles(client):
    expert = ExpertFactory(name="Prolific Author")
    for n in range(12):
        PublishedPublicationFactory(title=f"Book number {n:02d}", authors=[expert])
    PublishedArticleFactory(title="Only article", authors=[expert])

    first = client.get(expert.get_absolute_url()).content.decode()
    assert first.count("Book number") == 10
    assert 'href="?publications_page=2"' in first

    second = client.get(expert.get_absolute_url(), {"publications_page": 2}).content.decode()
    assert second.count("Book number") == 2
    assert "Only article" in second
    for bad in ("0", "abc", "3"):
        response = client.get(expert.get_absolute_url(), {"publications_page": bad})
        assert response.status_code == 404
