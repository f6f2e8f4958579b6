"""Media on S3-compatible object storage, chosen by the environment, against a real S3 API
server (moto's server mode on a local port), and local disk by default."""

import io
import json
import logging
import os
import subprocess
import sys
import urllib.request
import uuid
from pathlib import Path

import boto3
import pytest
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.management.base import CommandError
from lxml import html
from PIL import Image

from articles.factories import PublishedArticleFactory
from articles.models import Article
from publications.factories import PublishedPublicationFactory

PROJECT = Path(__file__).resolve().parent.parent
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"


def _settings_from(**env):
    """The media settings a process started with `env` ends up with."""
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({'backend': s.STORAGES['default']['BACKEND'], "
        "'media_url': s.MEDIA_URL, "
        "'img_src': s.CONTENT_SECURITY_POLICY['DIRECTIVES']['img-src'][1:], "
        "'aws': {k: getattr(s, k) for k in dir(s) if k.startswith('AWS_')}}))"
    )
    environment = {
        key: value
        for key, value in os.environ.items()
        if key != "MEDIA_STORAGE" and not key.startswith("AWS_")
    }
    environment.update(env, DEBUG="1", DJANGO_SETTINGS_MODULE="charhar.settings.base")
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _media_settings(**env):
    result = _settings_from(**env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_media_are_on_local_disk_by_default():
    media = _media_settings()
    assert media["backend"] == "django.core.files.storage.FileSystemStorage"
    assert media["media_url"] == "/media/"
    assert media["img_src"] == ["data:"]
    assert media["aws"] == {}


def test_media_storage_s3_puts_media_in_the_bucket_at_its_endpoint():
    media = _media_settings(
        MEDIA_STORAGE="s3",
        AWS_STORAGE_BUCKET_NAME="institute-media",
        AWS_S3_ENDPOINT_URL="https://minio.internal:9000/",
        AWS_S3_REGION_NAME="eu-central-1",
    )
    assert media["backend"] == "charhar.storage.MediaStorage"
    assert media["media_url"] == "https://minio.internal:9000/institute-media/"
    # The Content Security Policy lets pages show images from there.
    assert media["img_src"] == ["data:", "https://minio.internal:9000"]
    aws = media["aws"]
    assert aws["AWS_STORAGE_BUCKET_NAME"] == "institute-media"
    assert aws["AWS_S3_ENDPOINT_URL"] == "https://minio.internal:9000"
    assert aws["AWS_S3_REGION_NAME"] == "eu-central-1"
    # Public media: no signed URLs, no per-object ACL, never overwrite another file.
    assert aws["AWS_QUERYSTRING_AUTH"] is False
    assert aws["AWS_DEFAULT_ACL"] is None
    assert aws["AWS_S3_FILE_OVERWRITE"] is False


def test_a_custom_domain_and_folder_make_the_media_address():
    media = _media_settings(
        MEDIA_STORAGE="s3",
        AWS_STORAGE_BUCKET_NAME="institute-media",
        AWS_S3_REGION_NAME="eu-west-1",
        AWS_S3_CUSTOM_DOMAIN="media.example.org",
        AWS_LOCATION="/site/",
    )
    assert media["media_url"] == "https://media.example.org/site/"
    assert media["img_src"] == ["data:", "https://media.example.org"]
    # Without an endpoint of its own, the bucket is on AWS in its region.
    assert media["aws"]["AWS_S3_ENDPOINT_URL"] == "https://s3.eu-west-1.amazonaws.com"
    assert media["aws"]["AWS_LOCATION"] == "site"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"MEDIA_STORAGE": "s3"}, "MEDIA_STORAGE=s3 needs the bucket's name"),
        ({"MEDIA_STORAGE": "nfs"}, "MEDIA_STORAGE is 'nfs'"),
    ],
)
def test_an_incomplete_or_unknown_media_storage_stops_start_up_saying_why(env, message):
    result = _settings_from(**env)
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert "ImproperlyConfigured" in last_line
    assert message in last_line


# --- against an S3 API server ------------------------------------------------------------


def public_read_policy(bucket_name: str) -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket_name}/*",
            }
        ],
    }


@pytest.fixture(scope="session")
def s3_endpoint():
    """moto's S3-compatible server, on a free local port for the whole session."""
    from moto.server import ThreadedMotoServer

    # Its request log would bury the tests' own output.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def bucket(s3_endpoint, settings, monkeypatch):
    """A new, empty bucket configured as the default storage, as MEDIA_STORAGE=s3 would."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test-secret")
    name = f"media-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    client.create_bucket(Bucket=name)
    # Readers fetch media straight from the bucket: anyone may read its objects, as the
    # bucket policy in the README's "Deploying" grants.
    client.put_bucket_policy(Bucket=name, Policy=json.dumps(public_read_policy(name)))
    settings.AWS_STORAGE_BUCKET_NAME = name
    settings.AWS_S3_ENDPOINT_URL = s3_endpoint
    settings.AWS_S3_REGION_NAME = "us-east-1"
    settings.AWS_S3_CUSTOM_DOMAIN = None
    settings.AWS_LOCATION = ""
    settings.AWS_S3_ADDRESSING_STYLE = "path"
    settings.AWS_QUERYSTRING_AUTH = False
    settings.AWS_DEFAULT_ACL = None
    settings.AWS_S3_FILE_OVERWRITE = False
    settings.MEDIA_URL = f"{s3_endpoint}/{name}/"
    # Last: changing STORAGES makes Django build the storage anew, from the settings above.
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "charhar.storage.MediaStorage"},
    }
    yield client, name
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=name).get("Contents", [])]
    for key in keys:
        client.delete_object(Bucket=name, Key=key)
    client.delete_bucket(Bucket=name)


def _keys(client, name) -> set[str]:
    return {o["Key"] for o in client.list_objects_v2(Bucket=name).get("Contents", [])}


def _jpeg(width=1600, height=900) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (40, 90, 160)).save(buffer, "JPEG")
    return buffer.getvalue()


def _get(url: str):
    assert url.startswith("http://127.0.0.1:"), url
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (the local server)
        return response.headers, response.read()


@pytest.mark.django_db
def test_an_image_and_its_renditions_are_stored_in_the_bucket_and_linked_there(bucket, client):
    s3, name = bucket
    article = PublishedArticleFactory(hero_alt="The forum")
    article.hero_image.save("forum.jpg", ContentFile(_jpeg()), save=False)
    article.save()

    keys = _keys(s3, name)
    assert article.hero_image.name in keys
    renditions = [getattr(article, rendition) for rendition in Article.RENDITIONS]
    for rendition in renditions:
        assert rendition.name.startswith("renditions/")
        assert rendition.name in keys
        assert rendition.url == f"{s3.meta.endpoint_url}/{name}/{rendition.name}"
    headers, body = _get(article.thumbnail.url)
    assert headers["Content-Type"] == "image/jpeg"
    assert "Content-Disposition" not in headers  # shown in place
    with Image.open(io.BytesIO(body)) as image:
        assert image.size == (160, 90)

    page = client.get(article.get_absolute_url())
    assert page.status_code == 200
    tree = html.fromstring(page.content)
    sources = tree.xpath("//main//img/@src") + [
        candidate.split()[0]
        for srcset in tree.xpath("//main//source/@srcset | //main//img/@srcset")
        for candidate in srcset.split(",")
    ]
    assert sources
    for source in sources:
        assert source.startswith(f"{s3.meta.endpoint_url}/{name}/renditions/"), source


@pytest.mark.django_db
def test_a_pdf_in_the_bucket_is_a_download_whatever_type_the_upload_claimed(bucket):
    s3, name = bucket
    publication = PublishedPublicationFactory(title="Annual Report")
    upload = ContentFile(PDF, name="annual report.pdf")
    upload.content_type = "text/html"  # what a hostile browser might send
    publication.pdf.save("annual report.pdf", upload)

    assert publication.pdf.name in _keys(s3, name)
    assert publication.pdf_size == len(PDF)
    headers, body = _get(publication.pdf.url)
    assert body == PDF
    assert headers["Content-Type"] == "application/pdf"
    filename = publication.pdf.name.rsplit("/", 1)[-1]
    assert headers["Content-Disposition"] == f'attachment; filename="{filename}"'


@pytest.mark.django_db
def test_a_file_of_another_type_in_the_bucket_is_a_download_too(bucket):
    stored = default_storage.save("imports/page.html", ContentFile(b"<script>alert(1)</script>"))
    headers, _body = _get(default_storage.url(stored))
    assert headers["Content-Type"] == "text/html"
    assert headers["Content-Disposition"] == 'attachment; filename="page.html"'


@pytest.mark.django_db
def test_a_taken_name_in_the_bucket_gets_a_new_one_rather_than_overwriting(bucket):
    first = default_storage.save("uploads/note.pdf", ContentFile(PDF))
    second = default_storage.save("uploads/note.pdf", ContentFile(PDF + b"%second\n"))
    assert first == "uploads/note.pdf"
    assert second != first
    with default_storage.open(first) as handle:
        assert handle.read() == PDF


@pytest.mark.django_db
def test_the_content_export_copies_media_out_of_the_bucket_and_the_import_puts_them_back(
    bucket, tmp_path
):
    s3, name = bucket
    article = PublishedArticleFactory(title="Summit", hero_alt="Delegations")
    article.hero_image.save("summit.jpg", ContentFile(_jpeg(800, 450)), save=False)
    article.save()
    publication = PublishedPublicationFactory(title="Yearbook")
    publication.pdf.save("yearbook.pdf", ContentFile(PDF))
    image_name, pdf_name = article.hero_image.name, publication.pdf.name

    call_command("export_content", str(tmp_path / "export"), stdout=io.StringIO())
    assert (tmp_path / "export" / "media" / image_name).read_bytes() == _jpeg(800, 450)
    assert (tmp_path / "export" / "media" / pdf_name).read_bytes() == PDF

    Article.objects.all().delete()
    publication.delete()
    for key in _keys(s3, name):
        s3.delete_object(Bucket=name, Key=key)
    # A restore clears the cache, which remembers which renditions exist.
    cache.clear()
    call_command("import_content", str(tmp_path / "export"), stdout=io.StringIO())

    restored = Article.objects.get(slug=article.slug)
    assert restored.hero_image.name == image_name
    assert {image_name, pdf_name} <= _keys(s3, name)
    assert _get(restored.hero_image.url)[1] == _jpeg(800, 450)
    # The import makes the main renditions; generateimages makes the rest, as after a restore.
    call_command("generateimages", stdout=io.StringIO())
    keys = _keys(s3, name)
    assert {getattr(restored, rendition).name for rendition in Article.RENDITIONS} <= keys


# --- copying a folder of media into the storage ---------------------------------------------


@pytest.fixture
def media_folder(tmp_path):
    """A media backup: an upload, a PDF and a rendition at their stored names."""
    root = tmp_path / "backup-media"
    files = {
        "articles/2026/11/forum.jpg": _jpeg(320, 180),
        "publications/pdf/2026/report.pdf": PDF,
        "renditions/articles/2026/11/forum/0a1b.webp": b"RIFF\x00\x00\x00\x00WEBP",
    }
    for name, content in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(content)
    return root, files


def _copy_media(*args, **options):
    out = io.StringIO()
    call_command("copy_media", *args, stdout=out, stderr=io.StringIO(), **options)
    return out.getvalue()


def test_copy_media_puts_a_backup_into_the_bucket_with_the_sites_headers(bucket, media_folder):
    s3, name = bucket
    root, files = media_folder

    out = _copy_media(str(root))

    assert "Copied 3 files; 0 were already there." in out
    assert _keys(s3, name) == set(files)
    for stored, content in files.items():
        assert _get(default_storage.url(stored))[1] == content
    pdf_headers, _body = _get(default_storage.url("publications/pdf/2026/report.pdf"))
    assert pdf_headers["Content-Disposition"] == 'attachment; filename="report.pdf"'
    image_headers, _body = _get(default_storage.url("renditions/articles/2026/11/forum/0a1b.webp"))
    assert image_headers["Content-Type"] == "image/webp"
    assert "Content-Disposition" not in image_headers

    # Run again: nothing to do.
    assert "Copied 0 files; 3 were already there." in _copy_media(str(root))


def test_copy_media_never_overwrites_a_stored_file_with_other_content(bucket, media_folder):
    root, _files = media_folder
    _copy_media(str(root))
    (root / "publications/pdf/2026/report.pdf").write_bytes(PDF + b"%changed\n")
    (root / "experts/new.jpg").parent.mkdir(parents=True)
    (root / "experts/new.jpg").write_bytes(_jpeg(64, 64))

    with pytest.raises(CommandError, match="1 files are already stored with other content"):
        _copy_media(str(root))

    with default_storage.open("publications/pdf/2026/report.pdf") as handle:
        assert handle.read() == PDF
    assert default_storage.exists("experts/new.jpg")  # the rest was copied


def test_copy_media_dry_run_writes_nothing(bucket, media_folder):
    s3, name = bucket
    root, _files = media_folder
    out = _copy_media(str(root), dry_run=True)
    assert "Would copy 3 files" in out
    assert _keys(s3, name) == set()


def test_copy_media_onto_local_disk_keeps_the_names(settings, media_folder):
    root, files = media_folder
    _copy_media(str(root))
    for stored, content in files.items():
        assert (Path(settings.MEDIA_ROOT) / stored).read_bytes() == content


def test_copy_media_from_a_missing_folder_says_so(tmp_path):
    with pytest.raises(CommandError, match="is not a folder"):
        _copy_media(str(tmp_path / "nowhere"))
