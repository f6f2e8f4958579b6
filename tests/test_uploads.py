"""Uploads: the type comes from the content, never the name; SVG (an image that can carry
script) is refused however it is named; only the image formats the site shows are opened;
uploads are stored under generated names with the extension of the type found; files stored
before keep their names."""

import io
import re

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from articles.factories import PublishedArticleFactory
from articles.models import Article
from charhar.validators import GeneratedName, sniff_extension, validate_image_upload
from experts.models import Expert
from publications.models import Publication
from tests.test_admin import _form_errors, _publication_form, _url

pytestmark = pytest.mark.django_db

SVG = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(document.cookie)</script></svg>"
)
BARE_SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'
HEX_NAME = r"[0-9a-f]{32}"


def _image(fmt="PNG", size=(40, 30)):
    buffer = io.BytesIO()
    Image.new("RGB", size, "darkred").save(buffer, format=fmt)
    return buffer.getvalue()


class ExpertPhotoForm(forms.ModelForm):
    """The way every upload arrives from staff: a model form with a file field."""

    class Meta:
        model = Expert
        fields = ["name", "slug", "photo"]


def _upload_photo(name, content):
    form = ExpertPhotoForm(
        data={"name": "Zhao Minghao", "slug": "zhao-minghao"},
        files={"photo": SimpleUploadedFile(name, content, content_type="image/png")},
    )
    return form


@pytest.mark.parametrize(
    ("name", "content", "extension"),
    [
        ("portrait.png", _image("PNG"), "png"),
        ("portrait.png", _image("JPEG"), "jpg"),  # a JPEG called .png is stored as what it is
        ("portrait.gif", _image("WEBP"), "webp"),
        ("portrait.JPEG", _image("GIF"), "gif"),
    ],
    ids=["png", "jpeg-named-png", "webp-named-gif", "gif-named-jpeg"],
)
def test_an_upload_is_stored_under_a_generated_name_with_its_sniffed_extension(
    name, content, extension
):
    form = _upload_photo(name, content)
    assert form.is_valid(), form.errors
    expert = form.save()

    assert re.fullmatch(rf"experts/{HEX_NAME}\.{extension}", expert.photo.name)
    assert expert.photo.storage.exists(expert.photo.name)
    assert Expert.objects.get().photo.width == 40


def test_two_uploads_of_the_same_name_never_share_or_reveal_it():
    first = _upload_photo("../../etc/passwd.png", _image()).save()
    second = Expert.objects.create(name="Other", slug="other")
    second.photo = SimpleUploadedFile("../../etc/passwd.png", _image())
    second.save()
    assert first.photo.name != second.photo.name
    for expert in (first, second):
        assert "passwd" not in expert.photo.name
        assert ".." not in expert.photo.name


def test_a_hero_image_goes_into_the_dated_folder():
    article = PublishedArticleFactory()
    article.hero_image = SimpleUploadedFile("Hero Photo.JPEG", _image("JPEG"))
    article.save()
    today = timezone.now()
    assert re.fullmatch(rf"articles/{today:%Y}/{today:%m}/{HEX_NAME}\.jpg", article.hero_image.name)


def test_a_pdf_uploaded_in_the_admin_is_stored_under_a_generated_name(admin_client):
    pdf = SimpleUploadedFile(
        "Quarterly (final) v2.PDF", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf"
    )
    response = admin_client.post(_url(Publication, "add"), _publication_form(pdf=pdf))
    assert response.status_code == 302
    publication = Publication.objects.get()
    year = timezone.now().year
    assert re.fullmatch(rf"publications/pdf/{year}/{HEX_NAME}\.pdf", publication.pdf.name)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("drawing.svg", SVG),
        ("drawing.png", SVG),  # renamed: the content still says SVG
        ("drawing.jpg", BARE_SVG),
        ("drawing.png", b"\xef\xbb\xbf  " + BARE_SVG),  # a byte-order mark and spaces first
    ],
    ids=["svg", "svg-named-png", "bare-svg-named-jpg", "svg-after-bom"],
)
def test_svg_is_refused_whatever_it_is_called(name, content):
    with pytest.raises(ValidationError) as error:
        validate_image_upload(SimpleUploadedFile(name, content))
    assert error.value.code == "svg_not_allowed"

    article = Article(title="T", slug="t", hero_image=SimpleUploadedFile(name, content))
    with pytest.raises(ValidationError) as error:
        article.full_clean()
    assert [e.code for e in error.value.error_dict["hero_image"]] == ["svg_not_allowed"]


def test_svg_is_refused_in_the_admin_and_nothing_is_stored(admin_client, settings):
    upload = SimpleUploadedFile("cover.png", SVG, content_type="image/png")
    response = admin_client.post(_url(Publication, "add"), _publication_form(cover=upload))
    assert "cover" in _form_errors(response)
    assert not Publication.objects.exists()
    media = settings.MEDIA_ROOT
    assert not media.exists() or not [path for path in media.rglob("*") if path.is_file()]


@pytest.mark.parametrize("fmt", ["TIFF", "BMP", "ICO", "PPM"])
def test_image_formats_the_site_does_not_show_are_refused(fmt):
    with pytest.raises(ValidationError) as error:
        validate_image_upload(SimpleUploadedFile("photo.png", _image(fmt, size=(16, 16))))
    assert error.value.code == "invalid_image"


@pytest.mark.parametrize(
    "content",
    [
        b"<html><script>alert(1)</script></html>\n%PDF-1.4\n",  # an HTML page with a PDF inside
        b"\n%PDF-1.4\n",
        b"PK\x03\x04 a zip file",
    ],
    ids=["html-then-pdf", "newline-first", "zip"],
)
def test_a_pdf_must_start_as_a_pdf(content):
    publication = Publication(
        title="Book",
        slug="book",
        published_on=timezone.localdate(),
        pdf=SimpleUploadedFile("report.pdf", content),
    )
    with pytest.raises(ValidationError) as error:
        publication.full_clean()
    assert [e.code for e in error.value.error_dict["pdf"]] == ["invalid_pdf_content"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (_image("JPEG"), "jpg"),
        (_image("PNG"), "png"),
        (b"%PDF-1.7\n", "pdf"),
        (SVG, None),
        (b"GIF89a but not really", None),
        (_image("TIFF"), None),
    ],
    ids=["jpeg", "png", "pdf", "svg", "fake-gif", "tiff"],
)
def test_sniffing_reads_the_content(content, expected):
    assert sniff_extension(io.BytesIO(content)) == expected


def test_files_stored_before_keep_their_names_and_still_serve():
    article = PublishedArticleFactory()
    article.hero_alt = "The summit"
    article.hero_image.name = "articles/2018/06/summit.jpg"
    article.hero_image.storage.save("articles/2018/06/summit.jpg", ContentFile(_image("JPEG")))
    article.save()

    article.refresh_from_db()
    article.title = "Renamed"
    article.full_clean()
    article.save()

    assert Article.objects.get().hero_image.name == "articles/2018/06/summit.jpg"
    assert article.hero_image.storage.exists("articles/2018/06/summit.jpg")


def test_files_saved_from_code_keep_their_file_name_in_the_folder():
    """Imports and the demo validate their files first and save them from code; their media
    keep the names that their links and re-runs rely on."""
    expert = Expert.objects.create(name="N", slug="n")
    expert.photo.save("../zhao.png", ContentFile(_image()), save=True)
    assert expert.photo.name == "experts/zhao.png"
    assert str(GeneratedName("experts/", "photo")) == "experts/"
