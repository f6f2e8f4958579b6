"""The structured import (`import_content`): JSON Lines and CSV in the documented format."""

import io
import json
import shutil
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command

from articles.models import Article, EventDetails
from charhar.models import Menu, Page, Redirect, SiteSettings, Topic
from charhar.transfer.common import Progress
from experts.models import Expert
from publications.models import Publication

pytestmark = pytest.mark.django_db

DATA = Path(__file__).parent / "data"


def run(*args, **options):
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def import_fixture(**options):
    return run(
        "import_content", str(DATA / "content.jsonl"), media_dir=str(DATA / "media"), **options
    )


def test_jsonl_imports_every_record_type_with_relations_media_and_sanitized_html(client):
    out, _err = import_fixture()

    assert "Created:" in out
    assert "No failures." in out
    article = Article.objects.get(slug="process-of-denuclearization")
    assert article.status == Article.Status.PUBLISHED
    assert article.published_at.isoformat() == "2018-06-18T04:00:00+00:00"
    assert article.section.name == "Peace Studies"
    assert [t.slug for t in article.topics.all()] == ["the-korean-peninsula"]
    assert sorted(t.name for t in article.tags.all()) == ["DPRK", "Singapore summit"]
    assert article.ordered_authors == [Expert.objects.get(slug="zhao-minghao")]
    assert "onclick" not in article.body
    assert article.body.startswith("<p>The summit")
    assert default_storage.exists(article.hero_image.name)
    assert default_storage.exists(article.card_image.name)  # renditions generated

    chinese = Article.objects.get(title="公共外交的新时代")
    assert chinese.slug == "公共外交的新时代"
    assert chinese.authors.get().slug == "韩方明"

    event = EventDetails.objects.get(article__slug="charhar-forum-on-city-diplomacy")
    assert event.starts_at.isoformat() == "2022-06-01T01:30:00+00:00"  # 09:30 in Shanghai
    expert = Expert.objects.get(slug="zhao-minghao")
    assert "<script>" not in expert.bio
    assert expert.photo.name == "experts/zhao.png"

    publication = Publication.objects.get(slug="city-diplomacy")
    assert publication.isbn == "9787501255559"
    assert (
        publication.pdf_size
        == (DATA / "media/publications/pdf/2018/city-diplomacy.pdf").stat().st_size
    )
    assert [(c.expert.slug, c.role) for c in publication.ordered_contributions] == [
        ("zhao-minghao", "author"),
        ("韩方明", "editor"),
    ]
    assert Page.objects.get(slug="about-us").title == "About Us"
    menu = Menu.objects.get(slug="main")
    assert [item.label for item in menu.items.order_by("order", "pk")] == [
        "About Us",
        "Contact",
        "Topics",
    ]
    assert SiteSettings.load().phone == "+86 10 68290431"

    # The legacy permalink is a redirect to the article, and fixed redirects are kept.
    response = client.get("/en/article/2018/06/123.html")
    assert response.status_code == 301
    assert response["Location"] == article.get_absolute_url()
    assert client.get("/en/experts.html")["Location"] == "/experts/"


def test_a_second_run_creates_nothing_and_reports_everything_unchanged():
    import_fixture()
    counts = {m: m.objects.count() for m in (Article, Expert, Topic, Publication, Redirect)}

    out, _err = import_fixture()

    assert "Created" not in out
    assert "Updated" not in out
    assert "Unchanged: 1 site settings" in out
    assert "3 articles" in out
    assert {m: m.objects.count() for m in counts} == counts


def test_a_changed_record_is_updated_in_place(tmp_path):
    import_fixture()
    lines = (DATA / "content.jsonl").read_text(encoding="utf-8").splitlines()
    changed = []
    for line in lines:
        record = json.loads(line)
        if record.get("slug") == "process-of-denuclearization":
            record["title"] = "A new title"
            record["topics"] = []
        changed.append(json.dumps(record, ensure_ascii=False))
    path = tmp_path / "changed.jsonl"
    path.write_text("\n".join(changed), encoding="utf-8")

    out, _err = run("import_content", str(path), media_dir=str(DATA / "media"))

    assert "Updated: 1 article." in out
    article = Article.objects.get(slug="process-of-denuclearization")
    assert article.title == "A new title"
    assert not article.topics.exists()
    assert Article.objects.count() == 3


def test_dry_run_reports_what_it_would_do_and_writes_nothing(settings):
    out, _err = import_fixture(dry_run=True)

    assert "Dry run: nothing was written." in out
    assert "Would create: 1 site settings" in out
    assert not Article.objects.exists()
    assert not Expert.objects.exists()
    assert not Redirect.objects.exists()
    assert not Topic.objects.exists()
    media_root = Path(settings.MEDIA_ROOT)
    assert not media_root.exists() or not any(p.is_file() for p in media_root.rglob("*"))


def test_csv_bad_rows_are_reported_with_key_field_and_reason_and_the_rest_imported():
    with pytest.raises(CommandError, match="2 of the records could not be imported"):
        run("import_content", str(DATA / "articles.csv"), type="article")

    assert Article.objects.count() == 4
    g20 = Article.objects.get(slug="challenges-for-the-g20")
    assert sorted(t.name for t in g20.topics.all()) == [
        "Economic and Trade",
        "The Korean Peninsula",
    ]
    assert "onmouseover" not in g20.body
    assert (
        Article.objects.get(title="察哈尔学会举办公共外交论坛").slug == "察哈尔学会举办公共外交论坛"
    )
    unity = Article.objects.get(slug="china-africa-unity-sees-friendship-of-new-era")
    assert [e.name for e in unity.ordered_authors] == ["ZHAO Minghao", "韩方明"]
    assert EventDetails.objects.get().venue == "Charhar Institute"
    assert not Article.objects.filter(slug="bad-date").exists()


def test_the_failure_report_names_record_field_and_reason_on_stderr():
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command(
            "import_content",
            str(DATA / "articles.csv"),
            type="article",
            stdout=io.StringIO(),
            stderr=err,
        )
    report = err.getvalue()
    assert "Failed: 2" in report
    assert (
        "http://old.charhar.org.cn/en/article/2021/03/504.html · published_at · “yesterday”"
        in report
    )
    assert "articles.csv line 6 · - · the row does not have the header's 16 cells" in report


def test_the_command_exits_non_zero_when_a_record_fails(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"type": "article", "title": "No status", "status": "maybe"}\nnot json\n')
    with pytest.raises(CommandError) as excinfo:
        run("import_content", str(path))
    assert "2 of the records could not be imported" in str(excinfo.value)


def test_a_media_path_outside_the_media_folder_is_refused(tmp_path):
    outside = tmp_path / "secret.png"
    shutil.copy(DATA / "media/experts/zhao.png", outside)
    path = tmp_path / "escape.jsonl"
    records = [
        {"type": "article", "slug": "escape-1", "title": "Escape", "hero_image": "../secret.png"},
        {"type": "article", "slug": "escape-2", "title": "Escape", "hero_image": str(outside)},
    ]
    path.write_text("\n".join(json.dumps(r) for r in records))
    media = tmp_path / "media"
    media.mkdir()

    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command(
            "import_content", str(path), media_dir=str(media), stdout=io.StringIO(), stderr=err
        )

    assert err.getvalue().count("points outside the media folder; refused.") == 2
    assert not Article.objects.exists()


def test_unknown_references_fail_when_missing_ones_may_not_be_created(tmp_path):
    path = tmp_path / "refs.jsonl"
    path.write_text(json.dumps({"type": "article", "title": "T", "topics": ["Nowhere"]}))
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command(
            "import_content", str(path), no_create_missing=True, stdout=io.StringIO(), stderr=err
        )
    assert "topics · No topic has the slug or name “Nowhere”." in err.getvalue()
    assert not Topic.objects.exists()


def test_a_slug_taken_by_another_record_is_deduplicated_and_stays_so_on_rerun(tmp_path):
    path = tmp_path / "dupes.jsonl"
    records = [
        {"type": "article", "title": "Same", "slug": "same", "legacy_url": "/old/1"},
        {"type": "article", "title": "Same", "slug": "same", "legacy_url": "/old/2"},
    ]
    path.write_text("\n".join(json.dumps(r) for r in records))
    run("import_content", str(path))
    out, _err = run("import_content", str(path))

    assert sorted(Article.objects.values_list("slug", flat=True)) == ["same", "same-2"]
    assert "Unchanged: 2 articles, 2 redirects." in out


def test_quiet_in_a_pipe_and_a_line_per_record_at_verbosity_2():
    out, err = import_fixture()
    assert "\r" not in out + err

    out, _err = import_fixture(verbosity=2)
    assert "unchanged." not in out  # a line per unchanged record only at verbosity 3
    article = Article.objects.get(slug="process-of-denuclearization")
    article.title = "Edited"
    article.save()
    out, _err = import_fixture(verbosity=2)
    assert "Article “http://www.charhar.org.cn/en/article/2018/06/123.html” updated." in out


def test_the_progress_bar_draws_on_a_terminal_only():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

        def write(self, text, ending="\n"):
            super().write(text + ending)

    terminal, pipe = Terminal(), io.StringIO()
    for stream in (terminal, pipe):
        progress = Progress(stream, total=10)
        for n in range(10):
            progress.update(n + 1)
        progress.close()
    assert "\r[" in terminal.getvalue()
    assert "100%" in terminal.getvalue()
    assert pipe.getvalue() == ""


def test_a_record_that_fails_in_the_database_leaves_its_batch_neighbours_imported(tmp_path):
    # Two records claim one legacy URL through different slugs: the batch write fails on the
    # unique constraint, is rolled back, and is written again one record at a time.
    Article.objects.create(title="Existing", slug="existing", legacy_url="/taken")
    path = tmp_path / "batch.jsonl"
    records = [
        {"type": "article", "title": "Fine", "slug": "fine"},
        {"type": "article", "title": "Bad", "slug": "existing-2", "source_url": "not a url"},
        {"type": "article", "title": "Also fine", "slug": "also-fine"},
    ]
    path.write_text("\n".join(json.dumps(r) for r in records))
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_content", str(path), stdout=io.StringIO(), stderr=err)
    assert "source_url" in err.getvalue()
    assert set(Article.objects.values_list("slug", flat=True)) == {"existing", "fine", "also-fine"}


def test_an_import_invalidates_cached_pages(client, settings, tmp_path):
    settings.PAGE_CACHE_SECONDS = 600
    client.get("/articles/")
    assert client.get("/articles/")["X-Page-Cache"] == "hit"
    source = tmp_path / "one.jsonl"
    source.write_text(
        '{"type": "article", "title": "Imported after caching", "status": "published",'
        ' "published_at": "2020-01-02T03:04:05+00:00"}\n',
        encoding="utf-8",
    )

    call_command("import_content", str(source), stdout=io.StringIO())

    response = client.get("/articles/")
    assert "X-Page-Cache" not in response
    assert "Imported after caching" in response.content.decode()


@pytest.mark.postgres
def test_imported_and_updated_articles_are_searchable_on_postgresql(tmp_path):
    source = tmp_path / "one.jsonl"

    def write(summary):
        source.write_text(
            json.dumps(
                {
                    "type": "article",
                    "slug": "imported-search",
                    "title": "Imported for searching",
                    "status": "published",
                    "published_at": "2020-01-02T03:04:05+00:00",
                    "summary": summary,
                }
            )
            + "\n",
            encoding="utf-8",
        )
        call_command("import_content", str(source), stdout=io.StringIO())

    write("About denuclearization.")
    assert Article.objects.filter(search_vector="denuclearization").exists()
    write("About peninsula diplomacy.")
    assert not Article.objects.filter(search_vector="denuclearization").exists()
    assert Article.objects.filter(search_vector="diplomacy").exists()


@pytest.mark.postgres
def test_imported_vectors_are_the_ones_a_save_computes_and_follow_the_authors(tmp_path):
    from charhar.search import refresh_search_vectors

    import_fixture()
    written = dict(Article.objects.values_list("pk", "search_vector"))
    assert all(written.values())
    refresh_search_vectors(Article.objects.all())
    assert dict(Article.objects.values_list("pk", "search_vector")) == written

    # Only the authors change: the vector holds their names, so it changes with them.
    source = tmp_path / "credits.jsonl"
    expert = {"type": "expert", "slug": "quentin-marlowe", "name": "Quentin Marlowe"}
    article = {
        "type": "article",
        "slug": "credited-piece",
        "title": "A credited piece",
        "status": "published",
        "published_at": "2020-01-02T03:04:05+00:00",
        "authors": ["quentin-marlowe"],
    }
    source.write_text(f"{json.dumps(expert)}\n{json.dumps(article)}\n", encoding="utf-8")
    call_command("import_content", str(source), stdout=io.StringIO())
    assert Article.objects.filter(search_vector="marlowe", slug="credited-piece").exists()

    article["authors"] = []
    source.write_text(f"{json.dumps(expert)}\n{json.dumps(article)}\n", encoding="utf-8")
    call_command("import_content", str(source), stdout=io.StringIO())
    assert not Article.objects.filter(search_vector="marlowe").exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_new_rows_get_their_vectors_beside_the_next_batches_the_ones_a_save_computes():
    from charhar.search import refresh_search_vectors
    from charhar.transfer.common import ImportReport
    from charhar.transfer.records import ContentWriter, run_import

    records = [{"type": "expert", "slug": "quentin-marlowe", "name": "Quentin Marlowe"}] + [
        {
            "type": "article",
            "slug": f"piece-{n}",
            "title": f"Piece {n} on maritime diplomacy",
            "body": f"<p>Paragraph {n} about <b>shipping</b> lanes.</p>",
            "authors": ["quentin-marlowe"],
        }
        for n in range(12)
    ]
    writer = ContentWriter(ImportReport(), batch_size=5)

    report = run_import(iter(records), writer)

    assert report.total("created") == 13
    # Every batch was committed on its own, so its vectors were filled on the second
    # connection: none was left for the end.
    assert writer.vectors.filled_at_end == 0
    written = dict(Article.objects.values_list("pk", "search_vector"))
    assert len(written) == 12
    assert all(written.values())
    refresh_search_vectors(Article.objects.all())
    assert dict(Article.objects.values_list("pk", "search_vector")) == written
    assert Article.objects.filter(search_vector="marlowe").count() == 12


@pytest.mark.postgres
def test_vectors_a_batch_could_not_fill_after_its_commit_are_filled_at_the_end():
    from charhar.transfer.common import ImportReport
    from charhar.transfer.records import ContentWriter, run_import

    # Inside the test's transaction no batch commits on its own.
    record = {"type": "article", "slug": "late", "title": "Filled at the end"}
    writer = ContentWriter(ImportReport())

    run_import(iter([record]), writer)

    assert writer.vectors.filled_at_end == 1
    assert Article.objects.filter(search_vector="filled").exists()


@pytest.mark.postgres
def test_a_large_import_says_to_lay_search_entries_in_order(monkeypatch):
    out, _err = import_fixture()
    assert "rebuild_search_entries --reorder" not in out  # a few records: no need
    Article.objects.all().delete()
    monkeypatch.setattr("charhar.transfer.cli.REORDER_ADVISED", 2)
    out, _err = import_fixture()
    assert "rebuild_search_entries --reorder" in out
    assert "new articles, publications and experts" in out
