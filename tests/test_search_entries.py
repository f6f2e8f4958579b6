"""Search entries (PostgreSQL): the triggers keep them equal to the content, whatever writes.

After each kind of write, `drift()` (the entries against what a rebuild would make of the
content tables) must be zero, and the entry must say what the write changed.
"""

import datetime

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from articles.factories import (
    ArchivedArticleFactory,
    DraftArticleFactory,
    PublishedArticleFactory,
    ScheduledArticleFactory,
    SectionFactory,
)
from articles.models import Article, ArticleAuthor
from charhar import searchentries
from charhar.factories import RegionFactory, TopicFactory
from charhar.models import SearchEntry
from charhar.search import visible_entry_sql
from experts.factories import ExpertFactory, InactiveExpertFactory
from experts.models import Expert
from publications.factories import (
    DraftPublicationFactory,
    PublishedPublicationFactory,
    SeriesFactory,
)
from publications.models import Publication, PublicationAuthor

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def visible(kind: str, now=None) -> set[int]:
    """The ids of the entries of `kind` that search shows (`visible_entry_sql`)."""
    condition, params = visible_entry_sql([kind], now)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT object_id FROM charhar_searchentry WHERE {condition}",  # noqa: S608
            params,
        )
        return {row[0] for row in cursor.fetchall()}


def entry(row) -> SearchEntry:
    kind = {Article: "article", Publication: "publication", Expert: "expert"}[type(row)]
    return SearchEntry.objects.get(type=kind, object_id=row.pk)


def test_a_saved_article_gets_an_entry_with_its_columns_links_and_vector():
    peace, asia = TopicFactory(), RegionFactory()
    section = SectionFactory()
    zhao = ExpertFactory(name="Zhao Minghao")
    article = PublishedArticleFactory(
        title="Summit diplomacy",
        kind=Article.Kind.RESEARCH,
        section=section,
        topics=[peace],
        regions=[asia],
        authors=[zhao],
    )

    found = entry(article)
    assert (found.kind, found.status, found.section_id) == ("research", "published", section.pk)
    assert found.published_at == article.published_at
    assert (found.topic_ids, found.region_ids, found.expert_ids) == (
        [peace.pk],
        [asia.pk],
        [zhao.pk],
    )
    article.refresh_from_db()
    assert found.search_vector == article.search_vector
    assert searchentries.drift() == 0


def test_search_vectors_are_stored_without_a_compression_attempt():
    """A tsvector barely compresses, so PostgreSQL is not asked to try on each write."""
    body = " ".join(f"word{n} policy{n} summit{n}" for n in range(400))  # a vector of 8 KB
    article = PublishedArticleFactory(body=f"<p>{body}</p>")
    tables = [model._meta.db_table for model in (Article, Expert, Publication, SearchEntry)]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attrelid::regclass::text, attstorage FROM pg_attribute "
            "WHERE attname = 'search_vector' AND attrelid::regclass::text = ANY(%s)",
            [tables],
        )
        assert dict(cursor.fetchall()) == dict.fromkeys(tables, "e")  # EXTERNAL
        for table, id_column in ((tables[0], "id"), (tables[3], "object_id")):
            cursor.execute(
                f"SELECT pg_column_compression(search_vector) FROM {table} "  # noqa: S608
                f"WHERE {id_column} = %s",
                [article.pk],
            )
            assert cursor.fetchone() == (None,)


def test_links_added_removed_set_and_cleared_follow():
    first, second, third = TopicFactory(), TopicFactory(), TopicFactory()
    article = PublishedArticleFactory(topics=[first])

    article.topics.add(third, second)
    assert entry(article).topic_ids == sorted([first.pk, second.pk, third.pk])
    article.topics.remove(first)
    assert entry(article).topic_ids == sorted([second.pk, third.pk])
    article.topics.set([first])
    assert entry(article).topic_ids == [first.pk]
    article.topics.clear()
    assert entry(article).topic_ids == []
    # The link table written directly, as imports and the generator do.
    Article.regions.through.objects.bulk_create(
        [Article.regions.through(article=article, region=RegionFactory())]
    )
    assert len(entry(article).region_ids) == 1
    assert searchentries.drift() == 0


def test_credits_follow_and_an_expert_in_two_roles_counts_once():
    zhao, li = ExpertFactory(), ExpertFactory()
    article = PublishedArticleFactory(authors=[zhao])
    ArticleAuthor.objects.create(article=article, expert=li, order=2)
    assert entry(article).expert_ids == sorted([zhao.pk, li.pk])
    ArticleAuthor.objects.filter(article=article, expert=zhao).delete()
    assert entry(article).expert_ids == [li.pk]

    book = PublishedPublicationFactory(authors=[zhao])
    PublicationAuthor.objects.create(
        publication=book, expert=zhao, role=PublicationAuthor.Role.EDITOR, order=2
    )
    assert entry(book).expert_ids == [zhao.pk]
    assert searchentries.drift() == 0


def test_a_queryset_update_unpublishes_at_once():
    article = PublishedArticleFactory()
    Article.objects.filter(pk=article.pk).update(status=Article.Status.DRAFT)

    assert entry(article).status == "draft"
    assert article.pk not in visible("article")
    assert searchentries.drift() == 0


def test_deleted_rows_lose_their_entries():
    article, book, expert = (
        PublishedArticleFactory(),
        PublishedPublicationFactory(),
        ExpertFactory(),
    )
    article.delete()
    Publication.objects.filter(pk=book.pk).delete()
    expert.delete()

    assert not SearchEntry.objects.exists()
    assert searchentries.drift() == 0


def test_a_deleted_topic_leaves_no_id_behind():
    gone, kept = TopicFactory(), TopicFactory()
    article = PublishedArticleFactory(topics=[gone, kept])
    expert = ExpertFactory()
    expert.topics.add(gone)

    gone.delete()

    assert entry(article).topic_ids == [kept.pk]
    assert entry(expert).topic_ids == []
    assert searchentries.drift() == 0


def test_publications_and_experts_get_their_own_columns():
    series = SeriesFactory()
    book = PublishedPublicationFactory(series=series, published_on=datetime.date(2021, 3, 4))
    expert = ExpertFactory()
    expert.regions.add(RegionFactory())

    assert (entry(book).kind, entry(book).series_id) == ("publication", series.pk)
    assert entry(book).published_on == datetime.date(2021, 3, 4)
    assert (entry(expert).kind, entry(expert).status) == ("expert", "active")
    expert.is_active = False
    expert.save()
    assert entry(expert).status == "inactive"
    assert searchentries.drift() == 0


def test_visible_entries_are_exactly_what_published_lets_readers_see():
    now = timezone.now()
    PublishedArticleFactory()
    DraftArticleFactory()
    ScheduledArticleFactory()
    ArchivedArticleFactory()
    PublishedArticleFactory(published_at=None, status=Article.Status.PUBLISHED)
    PublishedPublicationFactory()
    PublishedPublicationFactory(published_on=timezone.localdate(now) + datetime.timedelta(days=1))
    DraftPublicationFactory()
    ExpertFactory()
    InactiveExpertFactory()

    assert visible("article", now) == set(
        Article.objects.published(now).values_list("pk", flat=True)
    )
    assert visible("publication", now) == set(
        Publication.objects.published(timezone.localdate(now)).values_list("pk", flat=True)
    )
    assert visible("expert", now) == set(Expert.objects.published().values_list("pk", flat=True))
    assert len(visible("article", now)) == 1  # the published one; the rest are not yet, or no more
    assert visible_entry_sql([], now) == ("", [])


def test_rebuild_mends_entries_written_around_the_triggers(capsys):
    article = PublishedArticleFactory(topics=[TopicFactory()])
    with connection.cursor() as cursor:
        cursor.execute("UPDATE charhar_searchentry SET topic_ids = '{}', status = 'draft'")
        cursor.execute(
            "INSERT INTO charhar_searchentry (type, object_id, kind, status, "
            "topic_ids, region_ids, expert_ids) "
            "VALUES ('article', 999999, 'news', 'published', '{}', '{}', '{}')"
        )
    assert searchentries.drift() == 3  # one changed (both sides of it) and one left over

    call_command("rebuild_search_entries", "--dry-run")
    assert searchentries.drift() == 3
    assert "3 search entries differ" in capsys.readouterr().out

    call_command("rebuild_search_entries")

    assert "Wrote 1 search entries and deleted 1 left over." in capsys.readouterr().out
    assert searchentries.drift() == 0
    assert entry(article).status == "published"


def test_bulk_writers_defer_the_entries_and_catch_up_in_one_go():
    searchentries.defer(drop_index=True)
    article = PublishedArticleFactory(topics=[TopicFactory()])
    assert not SearchEntry.objects.exists()

    searchentries.catch_up(build_index=True)

    assert entry(article).topic_ids == [article.topics.get().pk]
    assert searchentries.drift() == 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", [searchentries.INDEX])
        assert cursor.fetchone()


def test_imports_leave_the_entries_equal_to_what_they_wrote():
    from charhar.transfer.structured import import_structured
    from tests.test_import_rerun import DATA, wordpress

    wordpress()
    import_structured([DATA / "content.jsonl"])

    assert Article.objects.exists()
    assert SearchEntry.objects.filter(type="article").count() == Article.objects.count()
    assert searchentries.drift() == 0


def _physical_and_search_order() -> tuple[list, list]:
    """The entries' ids as the table holds them, and in `searchentries.ORDER`."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT array_agg(id ORDER BY ctid), "  # noqa: S608
            f"array_agg(id ORDER BY {searchentries.ORDER}) FROM charhar_searchentry"
        )
        return cursor.fetchone()


def _mixed_content() -> None:
    """Articles of two kinds and three topics, made alternately (the triggers write each
    entry as it comes), with a publication and an expert."""
    topics = [TopicFactory(), TopicFactory(), TopicFactory()]
    for i in range(12):
        PublishedArticleFactory(
            kind=(Article.Kind.RESEARCH, Article.Kind.COMMENTARY)[i % 2],
            topics=[topics[i % 3]],
            published_at=timezone.now() - datetime.timedelta(days=i),
        )
    PublishedPublicationFactory()
    ExpertFactory()


def test_bulk_writes_lay_the_entries_in_search_order():
    searchentries.defer()
    _mixed_content()
    searchentries.catch_up()

    physical, ordered = _physical_and_search_order()
    assert len(physical) == 14
    assert physical == ordered  # kind, then topics, then date
    assert searchentries.drift() == 0


def _vectors_out_of_line() -> int:
    """How many chunks of vectors the entries keep in their TOAST table."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltoastrelid::regclass::text FROM pg_class "
            "WHERE relname = 'charhar_searchentry'"
        )
        cursor.execute(f"SELECT count(*) FROM {cursor.fetchone()[0]}")  # noqa: S608
        return cursor.fetchone()[0]


def test_reorder_rewrites_the_entries_in_search_order(capsys):
    _mixed_content()
    body = " ".join(f"word{n} policy{n}" for n in range(150))  # a vector of about 2 kB
    PublishedArticleFactory(body=f"<p>{body}</p>")
    with connection.cursor() as cursor:  # an entry written around the triggers
        cursor.execute("UPDATE charhar_searchentry SET status = 'draft' WHERE type = 'expert'")
    physical, ordered = _physical_and_search_order()
    assert physical != ordered  # written one by one, as the content came
    chunks = _vectors_out_of_line()
    assert chunks

    call_command("rebuild_search_entries", "--dry-run", "--reorder")
    assert _physical_and_search_order()[0] == physical
    out = capsys.readouterr().out
    assert "2 search entries differ" in out
    assert "would then be rewritten in search order" in out

    call_command("rebuild_search_entries", "--reorder")

    assert "Rewrote 15 search entries in search order." in capsys.readouterr().out
    physical, ordered = _physical_and_search_order()
    assert physical == ordered
    assert searchentries.drift() == 0  # the differing entry mended with the rest
    assert len(visible("expert")) == 1
    assert _vectors_out_of_line() == chunks  # the rows stay narrow
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", [searchentries.INDEX])
        assert cursor.fetchone()
    # Every published article is still there for search to find.
    assert len(visible("article")) == 13


def test_entry_pages_keep_room_for_edits():
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = 'charhar_searchentry'")
        options = cursor.fetchone()[0]
    assert f"fillfactor={searchentries.FILLFACTOR}" in options
    assert "toast_tuple_target=128" in options
