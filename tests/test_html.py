"""The pages readers see most are valid HTML5 (the W3C's Nu Html Checker finds no error), every
image has a text alternative and a size, and nothing loads from another site."""

import datetime
from io import StringIO

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from articles.factories import EventDetailsFactory
from articles.models import Article
from charhar.demo import hero_placeholder_jpeg
from charhar.models import Topic
from experts.models import Expert
from publications.models import Publication
from tests.html_validation import nu_errors, parse_html

pytestmark = pytest.mark.django_db

SUMMIT = "Process of denuclearization remains a sticking point after Singapore summit"


@pytest.fixture
def pages(client):
    """{name: HTML} of the demo's pages, with the images, PDF and event the seed lacks."""
    call_command("load_demo", stdout=StringIO())
    expert = Expert.objects.get(slug="zhao-minghao")
    expert.photo.save("zhao-minghao.jpg", ContentFile(hero_placeholder_jpeg((240, 300))))
    publication = Publication.objects.get(slug="public-diplomacy-quarterly")
    publication.cover.save("quarterly.jpg", ContentFile(hero_placeholder_jpeg((360, 504))))
    publication.pdf.save("quarterly.pdf", ContentFile(b"%PDF-1.4\n%%EOF\n"))
    publication.isbn = "978-7-5012-5796-0"
    publication.purchase_url = "https://example.org/buy"
    publication.authors.add(expert)
    publication.save()
    starts = timezone.now() + datetime.timedelta(days=10)
    event = EventDetailsFactory(
        article__title="Forum on the Korean Peninsula & “peace”",
        article__topics=[Topic.objects.get(slug="the-korean-peninsula")],
        article__authors=[expert],
        article__source_name="Global Times",
        article__source_url="https://example.org/source",
        starts_at=starts,
        ends_at=starts + datetime.timedelta(hours=3),
        registration_url="https://example.org/register?a=1&b=2",
    ).article
    summit = Article.objects.get(title=SUMMIT)
    urls = {
        "home": reverse("home"),
        "listing": reverse("topic", args=["the-korean-peninsula"]),
        "news listing, page 1 of 1": reverse("articles:news"),
        "article": summit.get_absolute_url(),
        "event article": event.get_absolute_url(),
        "expert": expert.get_absolute_url(),
        "publication": publication.get_absolute_url(),
        "publications": reverse("publications:list"),
        "experts": reverse("experts:list") + "?topic=the-korean-peninsula",
        "events": reverse("articles:events"),
        "search": reverse("search") + "?q=Biden",
        "topics": reverse("topics"),
        "offices": reverse("offices"),
        "about page": reverse("page", args=["founding-chairman"]),
        "404": "/no-such-page/",
    }
    rendered = {}
    for name, url in urls.items():
        response = client.get(url)
        assert response.status_code == (404 if name == "404" else 200), name
        rendered[name] = response.content.decode()
    return rendered


def test_pages_are_valid_html5(pages):
    errors = nu_errors(pages)

    for name, messages in errors.items():
        print(f"\n{name}:", *messages, sep="\n  ")
    assert errors == {}


def test_every_image_has_a_text_alternative_and_a_size(pages):
    seen = 0
    for name, html in pages.items():
        for img in parse_html(html).iter("img"):
            seen += 1
            where = f"{name}: {img.get('src')}"
            assert img.get("alt", "").strip(), where
            assert img.get("width", "").isdigit(), where
            assert img.get("height", "").isdigit(), where
    # Hero, thumbnails, author photo, cover: the check did meet images.
    assert seen >= 6


def test_pages_load_nothing_from_other_sites(pages):
    for name, html in pages.items():
        root = parse_html(html)
        assets = [s.get("src") for s in root.iter("script") if s.get("src")]
        assets += [link.get("href") for link in root.iter("link") if link.get("rel") != "canonical"]
        assets += [img.get("src") for img in root.iter("img")]
        assert assets, name
        assert all(url.startswith("/") and not url.startswith("//") for url in assets), name
