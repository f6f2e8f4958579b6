"""The export: all content to JSON Lines with media beside it, and back again unchanged."""

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from taggit.models import Tag

from articles.models import Article, Section
from charhar.demo import load_demo
from charhar.models import Menu, Office, Page, Redirect, Region, SiteSettings, Topic
from experts.models import Expert
from publications.models import Publication, Series

pytestmark = pytest.mark.django_db

DATA = Path(__file__).parent / "data"


def quiet(*args, **options):
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err, **options)
    return out.getvalue()


def wipe_content():
    for model in (
        Redirect, Menu, Article, Publication, Expert, Page, Tag, Topic, Region, Section, Series,
        Office, SiteSettings,
    ):  # fmt: skip
        model.objects.all().delete()


def test_export_import_export_gives_identical_files(tmp_path):
    load_demo()
    quiet("import_content", str(DATA / "content.jsonl"), media_dir=str(DATA / "media"))
    first, second = tmp_path / "first", tmp_path / "second"
    quiet("export_content", str(first))

    wipe_content()
    quiet("import_content", str(first))
    quiet("export_content", str(second))

    assert (first / "content.jsonl").read_bytes() == (second / "content.jsonl").read_bytes()
    first_media = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    second_media = sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    assert first_media == second_media
    for path in first_media:
        assert (first / path).read_bytes() == (second / path).read_bytes()


def test_the_export_names_every_kind_of_content_and_copies_its_media(tmp_path):
    load_demo()
    quiet("import_content", str(DATA / "content.jsonl"), media_dir=str(DATA / "media"))
    out = quiet("export_content", str(tmp_path))

    records = [json.loads(line) for line in (tmp_path / "content.jsonl").read_text().splitlines()]
    types = {record["type"] for record in records}
    assert types == {
        "site_settings", "topic", "region", "section", "series", "tag", "office", "page",
        "expert", "article", "publication", "menu", "redirect",
    }  # fmt: skip
    assert "Exported 1 site_settings" in out
    summit = next(r for r in records if r.get("slug") == "process-of-denuclearization")
    assert summit["hero_image"] == "articles/2018/06/summit.png"
    assert (summit["hero_focal_x"], summit["hero_focal_y"]) == (40, 30)
    assert (tmp_path / "media/articles/2018/06/summit.png").is_file()
    assert summit["authors"] == ["zhao-minghao"]
    assert summit["tags"] == ["DPRK", "Singapore summit"]
    event = next(r for r in records if r.get("slug") == "charhar-forum-on-city-diplomacy")
    assert event["event"]["time_zone"] == "Asia/Shanghai"


def test_an_export_dry_run_writes_nothing(tmp_path):
    load_demo()
    out = quiet("export_content", str(tmp_path / "out"), dry_run=True)
    assert "Would export" in out
    assert not (tmp_path / "out").exists()
