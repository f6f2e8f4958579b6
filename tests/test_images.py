"""Images: uploads validated, renditions for each use made once (WebP and JPEG) and cropped
around the focal point, served through <picture> with srcset."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from articles.factories import PublishedArticleFactory
from articles.models import Article
from charhar.images import FocalCrop
from charhar.validators import validate_image_upload

pytestmark = pytest.mark.django_db


def _jpeg(width=1600, height=900, color=(200, 30, 30)):
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, "JPEG")
    return buffer.getvalue()


def _marked_jpeg(width=3200, height=900):
    """A grey picture with a black square (the “face”) near its left edge."""
    image = Image.new("RGB", (width, height), (128, 128, 128))
    image.paste((0, 0, 0), (40, 400, 200, 560))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=95)
    return buffer.getvalue()


def _article_with_image(**fields):
    article = PublishedArticleFactory(hero_alt="A meeting", **fields)
    article.hero_image.save("hero.jpg", ContentFile(_marked_jpeg()), save=False)
    article.save()
    return article


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("hero.jpg", b"not an image at all", "invalid_image"),
        ("hero.png", b"\x89PNG\r\n\x1a\n" + b"0" * 40, "invalid_image"),
    ],
)
def test_uploads_that_are_not_images_are_rejected(name, content, code):
    with pytest.raises(ValidationError) as error:
        validate_image_upload(SimpleUploadedFile(name, content))
    assert error.value.code == code


def test_uploads_over_the_size_and_pixel_limits_are_rejected(settings):
    settings.MAX_IMAGE_UPLOAD_BYTES = 100
    with pytest.raises(ValidationError) as error:
        validate_image_upload(SimpleUploadedFile("big.jpg", _jpeg(50, 50)))
    assert error.value.code == "image_too_large"
    settings.MAX_IMAGE_UPLOAD_BYTES = 10_000_000
    settings.MAX_IMAGE_PIXELS = 1000
    with pytest.raises(ValidationError) as error:
        validate_image_upload(SimpleUploadedFile("wide.jpg", _jpeg(100, 100)))
    assert error.value.code == "image_too_many_pixels"


def test_every_rendition_is_made_when_the_image_is_saved_in_its_size_and_format(settings):
    article = _article_with_image()

    expected = {
        "thumbnail": (160, 90, "JPEG"),
        "thumbnail_webp": (160, 90, "WEBP"),
        "card_image": (480, 270, "JPEG"),
        "card_image_webp": (480, 270, "WEBP"),
        "card_image_2x": (960, 540, "JPEG"),
        "card_image_2x_webp": (960, 540, "WEBP"),
        "hero_small": (800, 450, "JPEG"),
        "hero_small_webp": (800, 450, "WEBP"),
        "hero_rendition": (1200, 675, "JPEG"),
        "hero_rendition_webp": (1200, 675, "WEBP"),
        "social_image": (1200, 630, "JPEG"),
    }
    assert set(expected) == set(Article.RENDITIONS)
    for name, (width, height, fmt) in expected.items():
        path = settings.MEDIA_ROOT / getattr(article, name).name
        assert path.exists(), name
        with Image.open(path) as image:
            assert (image.width, image.height, image.format) == (width, height, fmt), name


def test_renditions_are_made_once_and_reused(settings):
    article = _article_with_image()
    path = settings.MEDIA_ROOT / article.card_image.name
    made = path.stat().st_mtime_ns

    Article.objects.get(pk=article.pk).save()

    assert path.stat().st_mtime_ns == made


def _darkness_left_half(path):
    with Image.open(path) as image:
        gray = image.convert("L")
        left = gray.crop((0, 0, gray.width // 2, gray.height))
        return sum(left.histogram()[:40])


def test_the_focal_point_keeps_the_subject_in_the_crops(settings):
    centred = _article_with_image()
    assert _darkness_left_half(settings.MEDIA_ROOT / centred.thumbnail.name) == 0

    centred.hero_focal_x, centred.hero_focal_y = 7, 53
    centred.save()

    thumbnail = settings.MEDIA_ROOT / centred.thumbnail.name
    assert thumbnail.exists()
    assert _darkness_left_half(thumbnail) > 0


def test_the_focal_crop_stays_inside_the_image():
    image = Image.new("RGB", (1000, 1000))
    for x, y in ((0, 0), (1, 1), (0.5, 0.5)):
        cropped = FocalCrop(160, 90, x, y).process(image)
        assert cropped.size == (160, 90)


def test_pages_serve_webp_with_a_jpeg_fallback_and_srcset(client):
    article = _article_with_image(title="With a picture", is_featured=True)

    home = client.get("/").content.decode()
    assert 'type="image/webp"' in home
    assert article.card_image_webp.url in home
    assert f"{article.card_image_2x.url} 960w" in home

    page = client.get(article.get_absolute_url()).content.decode()
    assert "<picture>" in page
    assert f"{article.hero_rendition_webp.url} 1200w" in page
    assert f'src="{article.hero_rendition.url}"' in page


def test_listing_pages_do_not_touch_storage_or_the_database_for_renditions(
    client, django_assert_max_num_queries
):
    for _ in range(3):
        _article_with_image()
    with django_assert_max_num_queries(10):
        assert client.get("/articles/").status_code == 200
