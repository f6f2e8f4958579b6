"""What pages tell machines: schema.org JSON-LD fitting each page type (parsed, with its
required properties, and safe inside its script element), Open Graph and Twitter card tags,
and the "cite this" box with its BibTeX download."""

import datetime
import json

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from articles.factories import EventDetailsFactory, PublishedArticleFactory, SectionFactory
from articles.models import Article
from charhar.demo import hero_placeholder_jpeg
from charhar.factories import SiteSettingsFactory, TopicFactory
from experts.factories import ExpertFactory
from publications.factories import PublishedPublicationFactory, SeriesFactory
from publications.models import PublicationAuthor
from tests.html_validation import by_class, parse_html, text

pytestmark = pytest.mark.django_db

NASTY = "</script><script>alert(1)</script> & <!--"


def page(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode(), parse_html(response.content)


def json_ld(root):
    blocks = [s for s in root.iter("script") if s.get("type") == "application/ld+json"]
    return [json.loads(s.text) for s in blocks]


def nodes(data):
    for block in data:
        yield from block.get("@graph", [block])


def of_type(root, kind):
    found = [node for node in nodes(json_ld(root)) if node.get("@type") == kind]
    assert found, kind
    return found[0]


def og(root):
    return {
        m.get("property") or m.get("name"): m.get("content")
        for m in root.iter("meta")
        if (m.get("property") or m.get("name") or "").startswith(("og:", "twitter:", "article:"))
    }


@pytest.fixture
def expert():
    person = ExpertFactory(name="ZHAO Minghao", title="Adjunct Senior Fellow")
    person.topics.add(TopicFactory(name="Peace"))
    return person


def test_home_describes_the_organization_and_its_site_search(client):
    SiteSettingsFactory(institute_name="The Charhar Institute", twitter_url="https://x.com/ci")
    _, root = page(client, reverse("home"))
    org = of_type(root, "Organization")
    assert org["name"] == "The Charhar Institute"
    assert org["url"] == "http://testserver/"
    assert org["sameAs"] == ["https://x.com/ci"]
    site = of_type(root, "WebSite")
    assert site["potentialAction"]["target"]["urlTemplate"].startswith(
        "http://testserver/search/?q="
    )


def test_a_research_article_is_a_scholarly_article_with_its_authors(client, expert):
    article = PublishedArticleFactory(
        title="Denuclearization talks",
        summary="Where they stand.",
        kind=Article.Kind.RESEARCH,
        section=SectionFactory(name="Peace Studies"),
        authors=[expert],
        byline="A Guest",
        hero_image=ContentFile(hero_placeholder_jpeg((48, 27)), "hero.jpg"),
    )
    _, root = page(client, article.get_absolute_url())
    data = of_type(root, "ScholarlyArticle")
    for key in ("headline", "datePublished", "dateModified", "author", "publisher", "image"):
        assert data[key], key
    assert data["headline"] == "Denuclearization talks"
    assert data["author"] == [
        {
            "@type": "Person",
            "name": "ZHAO Minghao",
            "url": "http://testserver" + expert.get_absolute_url(),
            "jobTitle": "Adjunct Senior Fellow",
        },
        {"@type": "Person", "name": "A Guest"},
    ]
    assert datetime.datetime.fromisoformat(data["datePublished"]) == article.published_at
    assert data["articleSection"] == "Peace Studies"
    tags = og(root)
    assert tags["og:type"] == "article"
    assert tags["og:title"] == "Denuclearization talks"
    assert tags["og:description"] == "Where they stand."
    assert tags["og:url"] == "http://testserver" + article.get_absolute_url()
    assert tags["og:image"].startswith("http://testserver/media/")
    assert tags["twitter:card"] == "summary_large_image"
    assert tags["twitter:image"] == tags["og:image"]


def test_a_news_piece_is_a_news_article_and_an_event_has_place_and_dates(client):
    news = PublishedArticleFactory(kind=Article.Kind.NEWS)
    _, root = page(client, news.get_absolute_url())
    assert of_type(root, "NewsArticle")["author"] == [
        {"@type": "Organization", "name": "The Charhar Institute", "url": "http://testserver/"}
    ]
    starts = datetime.datetime(2031, 3, 14, 9, 30, tzinfo=datetime.UTC)
    event = EventDetailsFactory(
        starts_at=starts,
        ends_at=starts + datetime.timedelta(hours=2),
        venue="Kulturforum",
        city="Berlin",
        time_zone="Europe/Berlin",
    )
    _, root = page(client, event.article.get_absolute_url())
    data = of_type(root, "Event")
    assert data["name"] == event.article.title
    assert data["startDate"] == "2031-03-14T10:30:00+01:00"
    assert data["endDate"] == "2031-03-14T12:30:00+01:00"
    assert data["location"]["name"] == "Kulturforum"
    assert data["location"]["address"]["addressLocality"] == "Berlin"


def test_an_expert_page_is_a_person(client, expert):
    _, root = page(client, expert.get_absolute_url())
    data = of_type(root, "Person")
    assert data["name"] == "ZHAO Minghao"
    assert data["jobTitle"] == "Adjunct Senior Fellow"
    assert data["url"] == "http://testserver" + expert.get_absolute_url()
    assert data["knowsAbout"] == ["Peace"]
    assert og(root)["og:type"] == "profile"


def test_a_book_is_a_book_and_a_journal_issue_a_publication_issue(client, expert):
    book = PublishedPublicationFactory(title="City Diplomacy", isbn="9787500000000")
    book.authors.add(expert)
    _, root = page(client, book.get_absolute_url())
    data = of_type(root, "Book")
    assert data["name"] == "City Diplomacy"
    assert data["author"][0]["name"] == "ZHAO Minghao"
    assert data["datePublished"] == book.published_on.isoformat()
    issue = PublishedPublicationFactory(
        title="Quarterly 2024/1", series=SeriesFactory(name="Quarterly"), volume="12", issue="1"
    )
    _, root = page(client, issue.get_absolute_url())
    data = of_type(root, "PublicationIssue")
    assert data["issueNumber"] == "1"
    assert data["isPartOf"]["volumeNumber"] == "12"
    assert data["isPartOf"]["isPartOf"]["name"] == "Quarterly"


def test_listings_carry_a_breadcrumb_trail(client):
    topic = TopicFactory(name="Peace")
    PublishedArticleFactory(topics=[topic])
    _, root = page(client, topic.get_absolute_url())
    trail = of_type(root, "BreadcrumbList")["itemListElement"]
    assert [(i["position"], i["name"], i["item"]) for i in trail] == [
        (1, "Home", "http://testserver/"),
        (2, "Topics", "http://testserver/topics/"),
        (3, "Peace", "http://testserver/topics/peace/"),
    ]
    for url in ("/articles/", "/news/", "/events/", "/experts/", "/publications/", "/topics/"):
        _, root = page(client, url)
        assert of_type(root, "BreadcrumbList")["itemListElement"][0]["name"] == "Home", url


def test_json_ld_cannot_be_broken_out_of_by_content(client):
    article = PublishedArticleFactory(title=f"Title {NASTY}", summary=NASTY, byline=NASTY)
    html, root = page(client, article.get_absolute_url())
    assert "<script>alert(1)" not in html
    data = of_type(root, "NewsArticle")
    assert data["name"] == f"Title {NASTY}"
    assert data["description"] == NASTY


def test_every_page_has_open_graph_and_twitter_tags(client, expert):
    SiteSettingsFactory(twitter_handle="CharharInst")
    article = PublishedArticleFactory()
    for url in ("/", "/articles/", article.get_absolute_url(), expert.get_absolute_url()):
        _, root = page(client, url)
        tags = og(root)
        for key in ("og:site_name", "og:type", "og:title", "og:url", "twitter:card"):
            assert tags.get(key), (url, key)
        assert tags["twitter:site"] == "@CharharInst", url


# --- Cite this --------------------------------------------------------------------------------


def test_a_research_article_has_apa_chicago_and_a_bibtex_download(client, expert):
    colleague = ExpertFactory(name="Li Wei-ming")
    article = PublishedArticleFactory(
        title="Denuclearization & the summit",
        kind=Article.Kind.RESEARCH,
        authors=[expert, colleague],
        published_at=datetime.datetime(2022, 6, 9, 12, tzinfo=datetime.UTC),
    )
    _, root = page(client, article.get_absolute_url())
    [box] = by_class(root, "cite", "section")
    apa = text(by_class(box, "cite__text--apa")[0])
    chicago = text(by_class(box, "cite__text--chicago")[0])
    url = "http://testserver" + article.get_absolute_url()
    assert apa == (
        f"Zhao, M., & Wei-ming, L. (2022, June 9). Denuclearization & the summit. "
        f"The Charhar Institute. {url}"
    )
    assert chicago == (
        f"Zhao, Minghao and Li Wei-ming. “Denuclearization & the summit.” "
        f"The Charhar Institute, June 9, 2022. {url}."
    )
    [link] = [a for a in box.iter("a") if "Download BibTeX" in text(a)]
    response = client.get(link.get("href"))
    assert response["Content-Type"].startswith("application/x-bibtex")
    assert 'filename="' in response["Content-Disposition"]
    bib = response.content.decode()
    assert bib.startswith("@techreport{Zhao2022")
    assert "author = {Zhao, Minghao and Wei-ming, Li}" in bib
    assert "title = {{Denuclearization \\& the summit}}" in bib
    assert "year = {2022}" in bib
    assert bib.count("{") == bib.count("}")


def test_commentary_has_no_cite_box_and_its_bibtex_is_not_found(client):
    article = PublishedArticleFactory(kind=Article.Kind.COMMENTARY)
    _, root = page(client, article.get_absolute_url())
    assert not by_class(root, "cite", "section")
    assert client.get(reverse("cite_bibtex", args=["article", article.slug])).status_code == 404
    assert client.get(reverse("cite_bibtex", args=["other", article.slug])).status_code == 404


def test_a_publication_is_cited_as_a_book_with_its_editors(client, expert):
    book = PublishedPublicationFactory(
        title="City Diplomacy",
        publisher="World Affairs Press",
        published_on=datetime.date(2020, 1, 1),
        isbn="9787500000000",
    )
    PublicationAuthor.objects.create(publication=book, expert=expert, role="editor")
    _, root = page(client, book.get_absolute_url())
    [box] = by_class(root, "cite", "section")
    assert text(by_class(box, "cite__text--apa")[0]).startswith(
        "Zhao, M. (Ed.) (2020). City Diplomacy. World Affairs Press."
    )
    assert text(by_class(box, "cite__text--chicago")[0]) == (
        "Zhao, Minghao, ed. City Diplomacy. World Affairs Press, 2020."
    )
    bib = client.get(reverse("cite_bibtex", args=["publication", book.slug])).content.decode()
    assert bib.startswith("@book{")
    assert "editor = {Zhao, Minghao}" in bib
    assert "isbn = {9787500000000}" in bib
