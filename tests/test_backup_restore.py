"""Backup and restore as docs/operations.md describes them: its shell blocks are run as
written, into a new empty database, and the restored site is looked at from its own process
(tests/restore_probe.py): every row, the article's body, authors and tags, the media's
bytes, and search."""

import contextlib
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db import connection
from PIL import Image

from articles.factories import (
    DraftArticleFactory,
    EventDetailsFactory,
    PublishedArticleFactory,
    SectionFactory,
)
from charhar.factories import (
    MenuItemFactory,
    OfficeFactory,
    PageFactory,
    RegionFactory,
    SiteSettingsFactory,
    TopicFactory,
)
from charhar.models import Redirect
from experts.factories import ExpertFactory
from publications.factories import PublishedPublicationFactory

PROJECT = Path(__file__).resolve().parent.parent
OPERATIONS = PROJECT / "docs" / "operations.md"
SEARCH_WORD = "denuclearization"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
# What the content export carries; the dump carries every table.
CONTENT_MODELS = {
    "articles.Article", "articles.ArticleAuthor", "articles.EventDetails", "articles.Section",
    "articles.TaggedArticle", "charhar.Menu", "charhar.MenuItem", "charhar.Office",
    "charhar.Page", "charhar.Redirect", "charhar.Region", "charhar.SiteSettings",
    "charhar.Topic", "experts.Expert", "publications.Publication",
    "publications.PublicationAuthor", "publications.Series", "taggit.Tag",
}  # fmt: skip


def documented_block(heading: str) -> str:
    """The first bash block under `heading` in docs/operations.md, as written there."""
    text = OPERATIONS.read_text()
    start = text.index(f"\n{heading}\n")
    match = re.compile(r"```bash\n(.*?)```", re.DOTALL).search(text, start)
    assert match, heading
    return match.group(1)


def run_documented(heading: str, **env) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "-c", documented_block(heading)],
        cwd=PROJECT,
        env=_environment(**env),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _environment(**env) -> dict:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "MEDIA_ROOT", "CACHE_URL", "MEDIA_STORAGE"}
    }
    # The site's environment on a server; the test settings keep emails in memory.
    environment.update(DJANGO_SETTINGS_MODULE="charhar.settings.test", SECRET_KEY="test-only-key")
    environment.update({key: str(value) for key, value in env.items()})
    # `.venv/bin/python` in the documented commands: the interpreter running the tests.
    environment["PATH"] = f"{Path(sys.executable).parent}:{environment.get('PATH', '')}"
    return environment


def probe(database_url: str, media_root: Path, slug: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "tests.restore_probe", slug, SEARCH_WORD],
        cwd=PROJECT,
        env=_environment(DATABASE_URL=database_url, MEDIA_ROOT=media_root),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def _postgres_url(name: str) -> str:
    params = connection.settings_dict
    user = params.get("USER") or "postgres"
    password = f":{params['PASSWORD']}" if params.get("PASSWORD") else ""
    host = params.get("HOST") or "127.0.0.1"
    port = params.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{name}"


@contextlib.contextmanager
def empty_database(tmp_path: Path):
    """A new database with nothing in it, of the kind the suite runs on; gone afterwards."""
    if connection.vendor != "postgresql":
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    # Named after the suite's own database, so parallel runs on other databases never meet.
    name = f"{connection.settings_dict['NAME'].removeprefix('test_')}_restore_{uuid.uuid4().hex}"
    admin = _postgres_url("postgres")
    subprocess.run(["createdb", f"--maintenance-db={admin}", name], check=True, timeout=60)
    try:
        yield _postgres_url(name)
    finally:
        subprocess.run(
            ["dropdb", f"--maintenance-db={admin}", "--if-exists", "--force", name],
            check=True,
            timeout=60,
        )


def _image(color) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (1200, 675), color).save(buffer, "JPEG")
    return buffer.getvalue()


def build_site():
    """A small site with every kind of content, images and PDFs in its media."""
    SiteSettingsFactory()
    topic, other_topic = TopicFactory(name="Korean Peninsula"), TopicFactory(name="Diplomacy")
    region = RegionFactory(name="East Asia")
    section = SectionFactory(name="Commentary")
    authors = [ExpertFactory(name="Zhao Minghao"), ExpertFactory(name="Han Hua")]
    authors[0].photo.save("zhao.jpg", ContentFile(_image((90, 90, 90))))
    article = PublishedArticleFactory(
        title="The Process of Denuclearization",
        body=f"<p>The summit opened a process of {SEARCH_WORD} on the peninsula.</p>",
        section=section,
        topics=[topic, other_topic],
        regions=[region],
        authors=authors,
        hero_alt="Delegations at the summit",
    )
    article.hero_image.save("summit.jpg", ContentFile(_image((20, 60, 140))), save=False)
    article.save()
    article.tags.add("DPRK", "Singapore summit")
    DraftArticleFactory(title="Notes for later", section=section)
    EventDetailsFactory(article__title="Forum on City Diplomacy", article__section=section)
    publication = PublishedPublicationFactory(title="Yearbook of Public Diplomacy", authors=authors)
    publication.cover.save("yearbook.jpg", ContentFile(_image((140, 20, 20))), save=False)
    publication.pdf.save("yearbook.pdf", ContentFile(PDF), save=False)
    publication.save()
    PageFactory(title="About the Institute")
    OfficeFactory(city="Beijing")
    MenuItemFactory(label="Experts", url="/experts/")
    Redirect.objects.create(old_path="/old-summit/", new_path=article.get_absolute_url())
    return article


def _tree(root: Path) -> dict[str, str]:
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def _assert_the_site_is_all_there(restored: dict, original: dict, models) -> None:
    assert {label: restored["counts"][label] for label in models} == {
        label: original["counts"][label] for label in models
    }
    assert restored["article"] == original["article"]
    assert restored["article"]["authors"] == ["zhao-minghao", "han-hua"]
    assert restored["article"]["tags"] == ["DPRK", "Singapore summit"]
    assert restored["files"] == original["files"]
    assert len(restored["files"]) == 4  # the photo, the hero image, the cover and the PDF
    assert all(restored["renditions"].values()), restored["renditions"]
    assert restored["search"] == {"status": 200, "finds_article": True}
    assert restored["detail"] == {"status": 200, "shows_body": True}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_documented_backup_restores_into_an_empty_database_with_everything(tmp_path):
    # Committed rows, so that pg_dump (another session) sees them.
    article = build_site()
    source_url = _postgres_url(connection.settings_dict["NAME"])
    media = Path(settings.MEDIA_ROOT)
    original = probe(source_url, media, article.slug)
    assert original["search"]["finds_article"]  # the comparison means something

    backup = tmp_path / "backup"
    taken = run_documented("## Backup", DATABASE_URL=source_url, MEDIA_ROOT=media, BACKUP=backup)
    assert taken.returncode == 0, taken.stderr
    assert {"database.dump", "media.tar.gz", "content/content.jsonl", "SHA256SUMS"} <= {
        path.relative_to(backup).as_posix() for path in backup.rglob("*")
    }
    check = subprocess.run(
        ["sha256sum", "--check", "--quiet", "SHA256SUMS"],
        cwd=backup,
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stdout

    restored_media = tmp_path / "restored-media"
    with empty_database(tmp_path) as restored_url:
        done = run_documented(
            "### From the database dump",
            DATABASE_URL=restored_url,
            MEDIA_ROOT=restored_media,
            BACKUP=backup,
        )
        assert done.returncode == 0, done.stderr
        cleared = run_documented("### Then, in both cases", CACHE_URL="redis://127.0.0.1:6379/13")
        assert cleared.returncode == 0, cleared.stderr

        restored = probe(restored_url, restored_media, article.slug)
        # Every row of every table, not only the content.
        assert restored["counts"] == original["counts"]
        _assert_the_site_is_all_there(restored, original, original["counts"])
        assert _tree(restored_media) == _tree(media)

        # A second restore into the now full database fails and changes nothing.
        again = run_documented(
            "### From the database dump",
            DATABASE_URL=restored_url,
            MEDIA_ROOT=tmp_path / "second-media",
            BACKUP=backup,
        )
        assert again.returncode != 0
        assert "already exists" in again.stderr
        assert probe(restored_url, restored_media, article.slug)["counts"] == original["counts"]


@pytest.mark.django_db
def test_the_content_export_restores_into_an_empty_database_and_exports_the_same(tmp_path):
    article = build_site()
    backup = tmp_path / "backup"
    call_command("export_content", str(backup / "content"), stdout=io.StringIO())
    exported = (backup / "content" / "content.jsonl").read_text()
    assert SEARCH_WORD in exported
    assert len(_tree(backup / "content" / "media")) == 4

    restored_media = tmp_path / "restored-media"
    with empty_database(tmp_path) as restored_url:
        done = run_documented(
            "### From the content export",
            DATABASE_URL=restored_url,
            MEDIA_ROOT=restored_media,
            BACKUP=backup,
        )
        assert done.returncode == 0, done.stderr

        # Exported again from the restored site, it is the same export, media included.
        again = subprocess.run(
            [sys.executable, "manage.py", "export_content", str(tmp_path / "again")],
            cwd=PROJECT,
            env=_environment(DATABASE_URL=restored_url, MEDIA_ROOT=restored_media),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert again.returncode == 0, again.stderr
        assert (tmp_path / "again" / "content.jsonl").read_text() == exported
        assert _tree(tmp_path / "again" / "media") == _tree(backup / "content" / "media")

        restored = probe(restored_url, restored_media, article.slug)
    assert {label: restored["counts"][label] for label in CONTENT_MODELS} == {
        label: apps.get_model(label)._default_manager.count() for label in CONTENT_MODELS
    }
    assert restored["counts"]["articles.Article"] == 3
    media = Path(settings.MEDIA_ROOT)
    original_files = {
        name: digest for name, digest in _tree(media).items() if not name.startswith("renditions/")
    }
    assert restored["files"] == original_files
    assert restored["article"]["body"] == article.body
    assert restored["article"]["authors"] == ["zhao-minghao", "han-hua"]
    assert restored["article"]["tags"] == ["DPRK", "Singapore summit"]
    assert all(restored["renditions"].values()), restored["renditions"]
    assert restored["search"] == {"status": 200, "finds_article": True}
    assert restored["detail"] == {"status": 200, "shows_body": True}
