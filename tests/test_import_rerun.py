"""Re-running an import: records unchanged at the source, whose rows nobody has changed since,
are passed over on their fingerprints (charhar/transfer/fingerprints.py), with the same report
and the same rows as reading them in full would give."""

import io
import os
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command
from PIL import Image

from articles.models import Article
from charhar.models import ImportFingerprint, Page, Redirect, Topic
from charhar.transfer.fingerprints import forget_all
from charhar.transfer.structured import import_structured
from charhar.transfer.wordpress import Mapping, import_wordpress
from experts.models import Expert

pytestmark = pytest.mark.django_db
DATA = Path(__file__).parent / "data"
WXR = DATA / "wordpress.xml"
SUMMIT_SLUG = "process-of-denuclearization"
READ_IN_FULL = "look up"  # a phase of the writer that only records read in full go through


def wordpress(path=WXR, mapping=None):
    """The WordPress import without an uploads folder, so that every post can be passed over."""
    return import_wordpress(path, mapping=mapping or Mapping.load(DATA / "wordpress-mapping.toml"))


def counts(report) -> dict:
    return {label: dict(actions) for label, actions in report.counts.items()}


def content() -> dict:
    """What the import writes, as comparable values."""
    return {
        "articles": sorted(
            (
                a.slug, a.title, a.body, a.summary, a.status, a.published_at, a.section_id,
                sorted(a.topics.values_list("name", flat=True)),
                sorted(a.regions.values_list("name", flat=True)),
                sorted(a.tags.values_list("name", flat=True)),
                list(a.authorships.order_by("order").values_list("expert__name", flat=True)),
                a.updated_at,
            )
            for a in Article.objects.all()
        ),
        "pages": sorted(Page.objects.values_list("slug", "title", "body", "updated_at")),
        "redirects": sorted(Redirect.objects.values_list("old_path", "object_id", "updated_at")),
    }  # fmt: skip


def test_a_wordpress_rerun_passes_over_every_unchanged_post_with_a_full_runs_report():
    first = wordpress()
    written = content()

    passed = wordpress()

    assert READ_IN_FULL not in passed.timings
    assert content() == written
    assert passed.failed == 0
    forget_all()
    full = wordpress()
    assert READ_IN_FULL in full.timings
    assert counts(passed) == counts(full)
    assert counts(passed)["article"] == {
        "unchanged": first.counts["article"]["created"],
        "skipped": 1,
    }
    assert content() == written


def test_a_post_changed_at_the_source_is_updated_and_the_others_passed_over(tmp_path):
    wordpress()
    changed = tmp_path / "changed.xml"
    changed.write_text(
        WXR.read_text(encoding="utf-8").replace(
            "<title>Notes for the board</title>", "<title>Notes for the whole board</title>"
        ),
        encoding="utf-8",
    )

    report = wordpress(changed)

    assert report.counts["article"]["updated"] == 1
    assert report.counts["article"]["unchanged"] == 5
    assert Article.objects.filter(title="Notes for the whole board").exists()
    again = wordpress(changed)
    assert READ_IN_FULL not in again.timings
    assert again.counts["article"]["unchanged"] == 6


def test_an_article_saved_on_the_site_since_is_read_in_full_and_set_back_to_the_source():
    wordpress()
    article = Article.objects.get(slug=SUMMIT_SLUG)
    title = article.title
    article.title = "Edited on the site"
    article.save()

    report = wordpress()

    article.refresh_from_db()
    assert article.title == title
    assert report.counts["article"]["updated"] == 1
    assert report.counts["article"]["unchanged"] == 5


def test_a_deleted_article_is_imported_again():
    wordpress()
    Article.objects.get(slug=SUMMIT_SLUG).delete()

    report = wordpress()

    assert Article.objects.filter(slug=SUMMIT_SLUG).exists()
    assert report.counts["article"]["created"] == 1


def test_deleting_a_topic_a_named_row_makes_the_next_run_read_everything_and_link_it_again():
    wordpress()
    Topic.objects.get(name="The Korean Peninsula").delete()
    assert not ImportFingerprint.objects.exists()

    report = wordpress()

    assert READ_IN_FULL in report.timings
    summit = Article.objects.get(slug=SUMMIT_SLUG)
    assert list(summit.topics.values_list("name", flat=True)) == ["The Korean Peninsula"]
    assert ImportFingerprint.objects.count() == 7  # 6 articles and a page


def test_a_redirect_deleted_on_the_site_is_written_again():
    wordpress()
    Redirect.objects.get(old_path="/?p=101").delete()

    report = wordpress()

    assert Redirect.objects.get(old_path="/?p=101").target.slug == SUMMIT_SLUG
    assert report.counts["redirect"]["created"] == 1


def test_another_mapping_reads_every_post_again():
    wordpress()
    mapping = Mapping.load(DATA / "wordpress-mapping.toml")
    mapping.kind = "research"

    report = wordpress(mapping=mapping)

    assert report.counts["article"]["updated"] == 6
    assert set(Article.objects.values_list("kind", flat=True)) == {"research"}


def test_a_dry_run_keeps_no_fingerprint_and_a_failed_record_gets_none(tmp_path):
    import_wordpress(WXR, mapping=Mapping.load(DATA / "wordpress-mapping.toml"), dry_run=True)
    assert not ImportFingerprint.objects.exists()

    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"type": "article", "slug": "fine", "title": "Fine"}\n'
        '{"type": "article", "slug": "bad", "title": "Bad", "status": "lost"}\n',
        encoding="utf-8",
    )
    report = import_structured([bad])
    assert report.failed == 1
    assert list(ImportFingerprint.objects.values_list("object_id", flat=True)) == [
        Article.objects.get(slug="fine").pk
    ]
    again = import_structured([bad])
    assert again.failed == 1
    assert again.counts["article"]["unchanged"] == 1


def test_a_structured_rerun_passes_over_unchanged_records_files_included(tmp_path):
    media = tmp_path / "old-site-media"  # not MEDIA_ROOT, which is tmp_path / "media"
    shutil.copytree(DATA / "media", media)
    import_structured([DATA / "content.jsonl"], media_dir=media)
    written = content()

    # The first run created the topics, experts and tags its records name, forgetting what
    # it had fingerprinted before each of them: the second run fingerprints the rest.
    second = import_structured([DATA / "content.jsonl"], media_dir=media)
    passed = import_structured([DATA / "content.jsonl"], media_dir=media)
    forget_all()
    full = import_structured([DATA / "content.jsonl"], media_dir=media)

    fingerprinted = set(ImportFingerprint.objects.values_list("content_type__model", "object_id"))
    assert ("article", Article.objects.get(slug=SUMMIT_SLUG).pk) in fingerprinted  # an image
    assert ("expert", Expert.objects.get(name="韩方明").pk) in fingerprinted
    for report in (second, passed):
        assert report.total("created") == report.total("updated") == 0
        assert counts(report) == counts(full)
    assert content() == written


def test_a_file_changed_under_the_same_name_is_read_in_full(tmp_path):
    media = tmp_path / "old-site-media"  # not MEDIA_ROOT, which is tmp_path / "media"
    shutil.copytree(DATA / "media", media)
    import_structured([DATA / "content.jsonl"], media_dir=media)
    import_structured([DATA / "content.jsonl"], media_dir=media)
    summit = Article.objects.get(slug=SUMMIT_SLUG)
    stored = summit.hero_image.name

    image = media / "articles/2018/06/summit.png"
    Image.new("RGB", (1200, 800), "navy").save(image)
    os.utime(image, ns=(10**18, 10**18))
    report = import_structured([DATA / "content.jsonl"], media_dir=media)

    assert report.counts["article"]["updated"] == 1
    summit.refresh_from_db()
    assert summit.hero_image.name != stored


def test_compare_all_reads_every_record_after_a_change_made_without_the_site():
    wordpress()
    # SQL typed into the database: no save(), so updated_at stays and a re-run trusts it.
    Article.objects.filter(slug=SUMMIT_SLUG).update(title="Changed in SQL")
    call_command(
        "import_wordpress",
        str(WXR),
        mapping=str(DATA / "wordpress-mapping.toml"),
        stdout=io.StringIO(),
    )
    assert Article.objects.get(slug=SUMMIT_SLUG).title == "Changed in SQL"

    out = io.StringIO()
    call_command(
        "import_wordpress",
        str(WXR),
        mapping=str(DATA / "wordpress-mapping.toml"),
        compare_all=True,
        stdout=out,
    )

    assert Article.objects.get(slug=SUMMIT_SLUG).title.startswith("Process of denuclearization")
    assert "Updated: 1 article." in out.getvalue()
