"""The content model's rules: sanitisation, visibility, validation and derived values."""

import datetime
import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from PIL import Image

from articles.factories import (
    ArchivedArticleFactory,
    ArticleFactory,
    DraftArticleFactory,
    EventDetailsFactory,
    PublishedArticleFactory,
    ScheduledArticleFactory,
)
from articles.models import Article, EventDetails
from charhar.factories import MenuFactory, MenuItemFactory, PageFactory, TopicFactory
from charhar.models import MenuItem, Page, SiteSettings
from charhar.navigation import get_menus
from charhar.sanitize import clean_html
from charhar.validators import validate_isbn
from experts.factories import ExpertFactory, InactiveExpertFactory
from experts.models import Expert
from newsletter.factories import SubscriberFactory
from newsletter.models import Subscriber, normalize_email
from publications.factories import DraftPublicationFactory, PublishedPublicationFactory
from publications.models import Publication

pytestmark = pytest.mark.django_db

HOSTILE = [
    '<p>Hi</p><script>alert("x")</script>',
    '<img src="x.png" onerror="alert(1)">',
    '<a href="javascript:alert(1)">click</a>',
    '<a href="JaVaScRiPt:alert(1)">click</a>',
    '<p onclick="steal()" style="background:url(javascript:x)">text</p>',
    "<iframe src='https://evil.example'></iframe>",
    '<svg><script>alert(1)</script></svg><object data="x"></object>',
    '<form action="/x"><input name="a"></form>',
    '<a href="data:text/html;base64,PHNjcmlwdD4=">data</a>',
]


def _assert_harmless(html):
    lowered = html.lower()
    for needle in ("<script", "onerror", "onclick", "javascript:", "<iframe", "style=", "data:"):
        assert needle not in lowered
    assert "<form" not in lowered
    assert "<input" not in lowered


@pytest.mark.parametrize("hostile", HOSTILE)
def test_article_body_never_stores_script_handlers_or_javascript_urls(hostile):
    article = ArticleFactory(body=hostile)

    stored = Article.objects.values_list("body", flat=True).get(pk=article.pk)
    _assert_harmless(stored)


@pytest.mark.parametrize("hostile", HOSTILE)
def test_page_and_expert_bodies_are_sanitized_too(hostile):
    page = PageFactory(body=hostile)
    expert = ExpertFactory(bio=hostile)

    _assert_harmless(Page.objects.values_list("body", flat=True).get(pk=page.pk))
    _assert_harmless(Expert.objects.values_list("bio", flat=True).get(pk=expert.pk))


def test_sanitizer_keeps_the_structure_an_article_needs():
    html = (
        '<h2>Heading</h2><p>A <strong>bold</strong> <a href="https://example.org">link</a>.</p>'
        '<ul><li>one</li></ul><figure><img src="/media/a.jpg" alt="A"><figcaption>Cap'
        "</figcaption></figure><blockquote>Quote</blockquote>"
    )
    cleaned = clean_html(html)

    for fragment in ("<h2>", "<strong>bold</strong>", 'href="https://example.org"', "<li>one</li>"):
        assert fragment in cleaned
    assert '<img src="/media/a.jpg" alt="A">' in cleaned
    assert 'rel="noopener noreferrer"' in cleaned


def test_published_hides_drafts_reviews_archived_and_future_articles():
    live = PublishedArticleFactory()
    DraftArticleFactory()
    ArticleFactory(status=Article.Status.REVIEW)
    ArchivedArticleFactory()
    scheduled = ScheduledArticleFactory()

    assert list(Article.objects.published()) == [live]
    assert scheduled.is_scheduled
    assert not scheduled.is_live


def test_a_scheduled_article_appears_by_itself_when_its_time_comes(time_machine):
    time_machine.move_to(datetime.datetime(2026, 1, 1, 9, 0, tzinfo=datetime.UTC), tick=False)
    article = PublishedArticleFactory(
        published_at=datetime.datetime(2026, 1, 1, 10, 0, tzinfo=datetime.UTC)
    )
    assert not Article.objects.published().filter(pk=article.pk).exists()

    time_machine.move_to(datetime.datetime(2026, 1, 1, 10, 0, tzinfo=datetime.UTC), tick=False)

    assert Article.objects.published().filter(pk=article.pk).exists()


def test_publishing_without_a_time_stamps_the_current_time():
    before = timezone.now()
    article = ArticleFactory(status=Article.Status.PUBLISHED, published_at=None)

    assert article.published_at is not None
    assert before <= article.published_at <= timezone.now()
    assert Article.objects.published().filter(pk=article.pk).exists()


def test_publications_and_experts_have_their_own_published_rule():
    visible = PublishedPublicationFactory()
    DraftPublicationFactory()
    PublishedPublicationFactory(published_on=timezone.localdate() + datetime.timedelta(days=3))
    active = ExpertFactory()
    InactiveExpertFactory()

    assert list(Publication.objects.published()) == [visible]
    assert list(Expert.objects.published()) == [active]


def test_slugs_are_made_from_titles_and_never_collide():
    first = ArticleFactory(title="Behind Biden’s Asia Trip")
    second = ArticleFactory(title="Behind Biden’s Asia Trip")

    assert first.slug == "behind-bidens-asia-trip"
    assert second.slug == "behind-bidens-asia-trip-2"


def test_duplicate_slug_is_rejected_on_the_slug_field():
    ArticleFactory(slug="same")
    article = Article(title="Other", slug="same")

    with pytest.raises(ValidationError) as error:
        article.full_clean()

    assert "slug" in error.value.message_dict


def test_legacy_url_is_unique_when_given_with_the_error_on_its_field():
    ArticleFactory(legacy_url="/en/article/1.html")
    ArticleFactory(legacy_url="")
    ArticleFactory(legacy_url="")
    article = Article(title="Other", slug="other", legacy_url="/en/article/1.html")

    with pytest.raises(ValidationError) as error:
        article.full_clean()

    assert "legacy_url" in error.value.message_dict


def test_with_related_lists_authors_in_order_in_a_fixed_number_of_queries(
    django_assert_num_queries,
):
    first, second = ExpertFactory(name="B"), ExpertFactory(name="A")
    topic = TopicFactory()
    for _ in range(3):
        PublishedArticleFactory(authors=[first, second], topics=[topic])

    with django_assert_num_queries(5):
        articles = list(Article.objects.published().with_related())
        names = [[expert.name for expert in a.ordered_authors] for a in articles]
        topics = [[t.name for t in a.topics.all()] for a in articles]

    assert names == [["B", "A"]] * 3
    assert topics == [[topic.name]] * 3


@pytest.mark.parametrize(
    "isbn", ["978-7-5012-5788-1", "9780306406157", "0-306-40615-2", "0 8044 2957 X", "080442957x"]
)
def test_valid_isbns_are_accepted_and_stored_without_separators(isbn):
    validate_isbn(isbn)
    publication = PublishedPublicationFactory(isbn=isbn)

    assert publication.isbn == isbn.replace("-", "").replace(" ", "").upper()


@pytest.mark.parametrize(
    "isbn", ["978-7-5012-5788-7", "0-306-40615-3", "12345", "ISBN", "97875012578871"]
)
def test_invalid_isbns_are_rejected_on_the_isbn_field(isbn):
    publication = Publication(
        title="Book", slug="book", published_on=datetime.date(2020, 1, 1), isbn=isbn
    )

    with pytest.raises(ValidationError) as error:
        publication.full_clean()

    assert list(error.value.message_dict) == ["isbn"]


def _image_upload(size=(40, 30), name="photo.png", fmt="PNG"):
    buffer = io.BytesIO()
    Image.new("RGB", size, "darkred").save(buffer, format=fmt)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=f"image/{fmt.lower()}")


def _publication(**fields):
    return Publication(title="Book", slug="book", published_on=datetime.date(2020, 1, 1), **fields)


def test_a_real_pdf_and_image_are_accepted():
    pdf = SimpleUploadedFile("report.pdf", b"%PDF-1.7\n%\xe2\xe3\n1 0 obj\n", "application/pdf")
    publication = _publication(pdf=pdf, cover=_image_upload())

    publication.full_clean()
    publication.save()

    assert publication.pdf.name.endswith(".pdf")
    assert Publication.objects.get().cover.width == 40


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("report.exe", b"%PDF-1.7\n", "invalid_pdf_extension"),
        ("report.pdf", b"<html>not a pdf</html>", "invalid_pdf_content"),
    ],
)
def test_non_pdf_uploads_are_rejected_on_the_pdf_field(name, content, code):
    publication = _publication(pdf=SimpleUploadedFile(name, content))

    with pytest.raises(ValidationError) as error:
        publication.full_clean()

    assert [e.code for e in error.value.error_dict["pdf"]] == [code]


def test_oversized_pdf_is_rejected(settings):
    settings.MAX_PDF_UPLOAD_BYTES = 100
    publication = _publication(pdf=SimpleUploadedFile("big.pdf", b"%PDF-1.7\n" + b"0" * 200))

    with pytest.raises(ValidationError) as error:
        publication.full_clean()

    assert [e.code for e in error.value.error_dict["pdf"]] == ["pdf_too_large"]


def test_a_file_pillow_cannot_open_is_rejected_on_the_image_field():
    article = Article(
        title="T", slug="t", hero_image=SimpleUploadedFile("hero.jpg", b"not really a jpeg")
    )

    with pytest.raises(ValidationError) as error:
        article.full_clean()

    assert [e.code for e in error.value.error_dict["hero_image"]] == ["invalid_image"]


def test_images_over_the_pixel_limit_are_rejected(settings):
    settings.MAX_IMAGE_PIXELS = 1000
    expert = Expert(name="N", slug="n", photo=_image_upload(size=(50, 50)))

    with pytest.raises(ValidationError) as error:
        expert.full_clean()

    assert [e.code for e in error.value.error_dict["photo"]] == ["image_too_many_pixels"]


def test_images_over_the_byte_limit_are_rejected(settings):
    settings.MAX_IMAGE_UPLOAD_BYTES = 10
    expert = Expert(name="N", slug="n", photo=_image_upload())

    with pytest.raises(ValidationError) as error:
        expert.full_clean()

    assert [e.code for e in error.value.error_dict["photo"]] == ["image_too_large"]


def test_subscriber_email_is_normalised_and_unique_regardless_of_case():
    SubscriberFactory(email="  Reader@Example.ORG ")
    duplicate = Subscriber(email="reader@EXAMPLE.org")

    assert Subscriber.objects.get().email == "Reader@example.org"
    with pytest.raises(ValidationError) as error:
        duplicate.full_clean()
    assert list(error.value.message_dict) == ["email"]

    with pytest.raises(IntegrityError), transaction.atomic():
        Subscriber.objects.create(email="READER@example.org")


def test_subscriber_email_is_validated_and_capped():
    for bad in ["not-an-email", "a@b", "x" * 310 + "@example.org", "a@example.org\nBcc: x@y.z"]:
        with pytest.raises(ValidationError) as error:
            Subscriber(email=bad).full_clean()
        assert "email" in error.value.message_dict


def test_normalize_email_trims_and_lowercases_only_the_domain():
    assert normalize_email("  John.Doe@Mail.Example.COM\t") == "John.Doe@mail.example.com"


def test_subscriber_interests_default_to_all_four():
    subscriber = SubscriberFactory()

    assert subscriber.interests == ["news", "events", "opinion", "publications"]


def test_event_cannot_end_before_it_starts_and_needs_a_real_time_zone():
    event = EventDetailsFactory.build(
        article=PublishedArticleFactory(),
        starts_at=timezone.now(),
        ends_at=timezone.now() - datetime.timedelta(hours=1),
        time_zone="Mars/Olympus",
    )

    with pytest.raises(ValidationError) as error:
        event.full_clean()

    assert set(error.value.message_dict) == {"ends_at", "time_zone"}


def test_event_details_hang_off_their_article():
    event = EventDetailsFactory()

    assert Article.objects.with_related().get(pk=event.article_id).event == event
    assert EventDetails.objects.get().is_upcoming


@pytest.mark.parametrize(
    "link", ["javascript:alert(1)", "//evil.example", "data:text/html,x", "ftp://x"]
)
def test_menu_links_must_be_site_paths_or_web_addresses(link):
    item = MenuItem(menu=MenuFactory(), label="X", url=link)

    with pytest.raises(ValidationError) as error:
        item.full_clean()

    assert list(error.value.message_dict) == ["url"]


def test_menu_item_takes_a_page_or_a_link_not_both():
    item = MenuItem(menu=MenuFactory(), label="About", page=PageFactory(), url="/about/")

    with pytest.raises(ValidationError) as error:
        item.full_clean()

    assert list(error.value.message_dict) == ["url"]


def test_menus_are_at_most_three_levels_deep_and_stay_in_their_menu():
    menu = MenuFactory()
    top = MenuItemFactory(menu=menu)
    middle = MenuItemFactory(menu=menu, parent=top)
    bottom = MenuItemFactory(menu=menu, parent=middle)

    with pytest.raises(ValidationError) as error:
        MenuItem(menu=menu, label="Too deep", url="/", parent=bottom).full_clean()
    assert list(error.value.message_dict) == ["parent"]

    with pytest.raises(ValidationError) as error:
        MenuItem(menu=MenuFactory(), label="Elsewhere", url="/", parent=top).full_clean()
    assert list(error.value.message_dict) == ["parent"]


def test_menus_are_built_as_trees_and_rebuilt_when_staff_edit_them(django_assert_num_queries):
    menu = MenuFactory(slug="main")
    about = PageFactory(title="About Us")
    topics = MenuItemFactory(menu=menu, label="Topics", url="", order=2)
    MenuItemFactory(menu=menu, label="About Us", page=about, url="", order=1)
    MenuItemFactory(menu=menu, parent=topics, label="All Topics", url="/topics/", description="D")

    menus = get_menus()
    with django_assert_num_queries(0):
        assert get_menus() == menus

    assert [node.label for node in menus["main"]] == ["About Us", "Topics"]
    assert menus["main"][0].href == "/about/about-us/"
    assert [(n.label, n.href, n.description) for n in menus["main"][1].children] == [
        ("All Topics", "/topics/", "D")
    ]

    MenuItemFactory(menu=menu, label="Experts", url="/experts/", order=3)
    assert [node.label for node in get_menus()["main"]] == ["About Us", "Topics", "Experts"]


def test_site_settings_is_a_single_cached_row_refreshed_on_save(django_assert_num_queries):
    unsaved = SiteSettings.load()
    assert unsaved.institute_name == "The Charhar Institute"

    first = SiteSettings(institute_name="Institute", phone="+86 10 68290431")
    first.save()
    second = SiteSettings(institute_name="Renamed")
    second.save()

    assert SiteSettings.objects.count() == 1
    assert SiteSettings.load().institute_name == "Renamed"
    with django_assert_num_queries(0):
        assert SiteSettings.load().institute_name == "Renamed"


def test_confirming_and_unsubscribing_record_when_it_happened():
    subscriber = SubscriberFactory()

    subscriber.confirm()
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.CONFIRMED
    assert subscriber.confirmed_at is not None
    assert list(Subscriber.objects.confirmed()) == [subscriber]

    subscriber.unsubscribe()
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.UNSUBSCRIBED
    assert subscriber.unsubscribed_at is not None
    assert not Subscriber.objects.confirmed().exists()

    subscriber.confirm()
    subscriber.refresh_from_db()
    assert subscriber.unsubscribed_at is None
