"""sitemap.xml and robots.txt: a sitemap index of per-type sitemaps with lastmod, every file
valid against the Sitemaps 0.9 XML schema, and no unpublished content listed."""

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.urls import reverse
from lxml import etree

from articles.factories import DraftArticleFactory, PublishedArticleFactory, SectionFactory
from charhar.factories import PageFactory, RegionFactory, TopicFactory
from experts.factories import ExpertFactory, InactiveExpertFactory
from publications.factories import DraftPublicationFactory, PublishedPublicationFactory

pytestmark = pytest.mark.django_db

SCHEMAS = Path(__file__).parent / "schemas"
NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}


def schema(name):
    return etree.XMLSchema(etree.parse(str(SCHEMAS / name)))


@pytest.fixture
def content():
    TopicFactory(name="Peace")
    RegionFactory(name="Asia")
    SectionFactory(name="Peace Studies")
    live = PublishedArticleFactory(title="Live")
    DraftArticleFactory(title="Hidden draft", slug="hidden-draft")
    PublishedPublicationFactory(title="Live book")
    DraftPublicationFactory(title="Hidden book", slug="hidden-book")
    ExpertFactory(name="Visible")
    InactiveExpertFactory(name="Retired", slug="retired")
    PageFactory(title="About Us")
    return live


def fetch(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    assert response["Content-Type"].startswith("application/xml"), url
    return etree.fromstring(response.content)


def test_the_index_and_every_sitemap_are_valid_and_dated(client, content):
    index = fetch(client, reverse("sitemap"))
    index_schema = schema("siteindex.xsd")
    assert index_schema.validate(index), index_schema.error_log
    entries = index.findall("s:sitemap", NS)
    names = [urlsplit(e.findtext("s:loc", namespaces=NS)).path for e in entries]
    assert names == [
        "/sitemap-listings.xml",
        "/sitemap-articles.xml",
        "/sitemap-publications.xml",
        "/sitemap-experts.xml",
        "/sitemap-pages.xml",
    ]
    assert all(e.findtext("s:lastmod", namespaces=NS) for e in entries)

    urlset_schema = schema("sitemap.xsd")
    listed = []
    for entry in entries:
        loc = entry.findtext("s:loc", namespaces=NS)
        assert loc.startswith("http://testserver/")
        urlset = fetch(client, urlsplit(loc).path)
        assert urlset_schema.validate(urlset), (loc, urlset_schema.error_log)
        urls = urlset.findall("s:url", NS)
        assert urls, loc
        assert all(u.findtext("s:lastmod", namespaces=NS) for u in urls), loc
        listed += [u.findtext("s:loc", namespaces=NS) for u in urls]

    assert f"http://testserver{content.get_absolute_url()}" in listed
    assert "http://testserver/topics/peace/" in listed
    assert "http://testserver/about/about-us/" in listed
    for hidden in ("hidden-draft", "hidden-book", "retired"):
        assert not [url for url in listed if hidden in url], hidden
    # Every listed page answers.
    for url in listed:
        assert client.get(urlsplit(url).path).status_code == 200, url


def test_a_sitemap_lastmod_is_the_last_change_of_its_rows(client, content):
    content.title = "Edited"
    content.save()
    index = fetch(client, reverse("sitemap"))
    [articles] = [
        e
        for e in index.findall("s:sitemap", NS)
        if "articles" in e.findtext("s:loc", namespaces=NS)
    ]
    content.refresh_from_db()
    assert articles.findtext("s:lastmod", namespaces=NS) == content.updated_at.isoformat()


def test_large_sitemaps_are_split_into_pages(client, content, settings, monkeypatch):
    from charhar import sitemaps

    monkeypatch.setattr(sitemaps.ArticleSitemap, "limit", 2)
    for n in range(4):
        PublishedArticleFactory(title=f"More {n}")
    index = fetch(client, reverse("sitemap"))
    locs = [e.findtext("s:loc", namespaces=NS) for e in index.findall("s:sitemap", NS)]
    pages = [loc for loc in locs if "articles" in loc]
    assert pages == [
        "http://testserver/sitemap-articles.xml",
        "http://testserver/sitemap-articles.xml?p=2",
        "http://testserver/sitemap-articles.xml?p=3",
    ]
    assert client.get("/sitemap-articles.xml?p=4").status_code == 404
    assert client.get("/sitemap-nothing.xml").status_code == 404


def test_robots_txt_points_at_the_sitemap_and_keeps_search_and_admin_out(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    lines = response.content.decode().splitlines()
    assert "User-agent: *" in lines
    assert "Disallow: /search/" in lines
    assert f"Disallow: {reverse('admin:index')}" in lines
    assert "Sitemap: http://testserver/sitemap.xml" in lines


def test_robots_txt_does_not_name_an_admin_moved_off_the_well_known_path(client, settings):
    settings.ADMIN_URL = "backoffice-7f3a/"
    text = client.get("/robots.txt").content.decode()
    assert "Disallow: /search/" in text.splitlines()
    assert "backoffice" not in text
    assert reverse("admin:index") not in text
