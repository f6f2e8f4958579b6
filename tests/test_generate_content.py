"""`manage.py generate_content`: deterministic, idempotent bulk content for benchmarks."""

import datetime
import hashlib
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from taggit.models import Tag

from articles.models import Article, ArticleAuthor, EventDetails, Section, TaggedArticle
from charhar.bulk import (
    REGION_NAMES,
    SECTION_NAMES,
    SERIES_NAMES,
    TOPIC_NAMES,
    ContentSpec,
    generate_content,
)
from charhar.models import Region, Topic
from charhar.sanitize import clean_html
from experts.models import Expert
from publications.models import Publication, PublicationAuthor, Series

pytestmark = pytest.mark.django_db

SMALL = {"articles": 60, "experts": 12, "tags": 10, "publications": 5, "events": 8}
FROZEN = datetime.datetime(2026, 6, 1, 12, 0, tzinfo=datetime.UTC)


def generate(**options):
    out = StringIO()
    call_command("generate_content", stdout=out, **{**SMALL, **options})
    return out.getvalue()


def content_digest() -> str:
    """A hash of every generated row by natural keys (slugs and names), never by pk."""
    rows = [
        *Article.objects.order_by("slug").values_list(
            "slug", "title", "summary", "body", "published_at", "kind", "status",
            "section__name", "is_featured", "source_name", "source_url",
        ),
        *ArticleAuthor.objects.order_by("article__slug", "order").values_list(
            "article__slug", "expert__slug", "order"
        ),
        *sorted(Article.topics.through.objects.values_list("article__slug", "topic__name")),
        *sorted(Article.regions.through.objects.values_list("article__slug", "region__name")),
        *sorted(TaggedArticle.objects.values_list("content_object__slug", "tag__name")),
        *EventDetails.objects.order_by("article__slug").values_list(
            "article__slug", "starts_at", "ends_at", "time_zone", "venue", "city"
        ),
        *Expert.objects.order_by("slug").values_list(
            "slug", "name", "title", "affiliation", "short_bio", "bio", "order"
        ),
        *sorted(Expert.topics.through.objects.values_list("expert__slug", "topic__name")),
        *Publication.objects.order_by("slug").values_list(
            "slug", "title", "series__name", "published_on", "isbn", "volume", "issue",
            "publisher", "summary",
        ),
        *PublicationAuthor.objects.order_by("publication__slug", "order").values_list(
            "publication__slug", "expert__slug", "role", "order"
        ),
        *Tag.objects.order_by("name").values_list("name", "slug"),
    ]  # fmt: skip
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def digest_of_a_fresh_run(**options) -> str:
    """Generate into the empty test database, hash the rows, then roll the run back."""
    with transaction.atomic():
        generate(**options)
        digest = content_digest()
        transaction.set_rollback(True)
    assert not Article.objects.exists()
    return digest


def test_creates_what_the_options_ask_for_and_the_seed_taxonomy():
    output = generate()

    assert Article.objects.count() == 60
    assert Expert.objects.count() == 12
    assert Tag.objects.count() == 10
    assert Publication.objects.count() == 5
    assert EventDetails.objects.count() == 8
    assert Article.objects.filter(kind=Article.Kind.EVENT).count() == 8
    assert list(Topic.objects.order_by("order").values_list("name", flat=True)) == [*TOPIC_NAMES]
    assert set(Region.objects.values_list("name", flat=True)) == set(REGION_NAMES)
    assert set(Section.objects.values_list("name", flat=True)) == set(SECTION_NAMES)
    assert set(Series.objects.values_list("name", flat=True)) == set(SERIES_NAMES)
    assert "60 articles" in output
    assert "Done in" in output


def test_every_article_has_one_or_two_authors_in_order_one_or_two_topics_and_one_to_three_tags():
    generate()

    articles = Article.objects.annotate(
        n_authors=Count("authorships", distinct=True),
        n_topics=Count("topics", distinct=True),
        n_regions=Count("regions", distinct=True),
    )
    for article in articles:
        assert 1 <= article.n_authors <= 2
        assert 1 <= article.n_topics <= 2
        assert 0 <= article.n_regions <= 2
        orders = list(article.authorships.order_by("order").values_list("order", flat=True))
        assert orders == list(range(article.n_authors))
        assert 1 <= len(article.tags.all()) <= 3
    # The spread is realistic: the counts vary rather than sitting at one value.
    assert {a.n_authors for a in articles} == {1, 2}
    assert {a.n_regions for a in articles} == {0, 1, 2}
    for publication in Publication.objects.annotate(n=Count("contributions")):
        assert 1 <= publication.n <= 3


def test_all_articles_are_published_visible_and_dated_over_the_past_ten_years():
    generate()
    now = timezone.now()

    assert Article.objects.published().count() == 60
    assert not Article.objects.exclude(status=Article.Status.PUBLISHED).exists()
    assert not Article.objects.filter(published_at__gt=now).exists()
    assert not Article.objects.filter(published_at__lt=now - datetime.timedelta(days=3660)).exists()
    assert Publication.objects.published().count() == 5
    # bulk_create runs pre_save, so auto_now_add / auto_now are filled all the same.
    assert not Article.objects.filter(created_at__isnull=True).exists()
    assert not Article.objects.filter(updated_at__isnull=True).exists()


def test_kinds_are_mostly_commentary_and_research_and_news_like_kinds_have_a_section():
    generate(articles=200, events=4)

    kinds = dict(Article.objects.values_list("kind").annotate(n=Count("pk")))
    assert kinds["commentary"] + kinds["research"] > 120
    assert kinds["news"] > 0
    assert kinds["event"] == 4
    news_like = ["news", "event", "announcement", "media"]
    assert not Article.objects.filter(kind__in=news_like, section__isnull=True).exists()
    assert not Article.objects.exclude(kind__in=news_like).filter(section__isnull=False).exists()
    assert set(
        Article.objects.filter(kind="announcement").values_list("section__name", flat=True)
    ) <= {"Announcement"}


def test_events_are_some_upcoming_and_some_past():
    generate()
    events = list(EventDetails.objects.select_related("article"))

    assert {event.is_upcoming for event in events} == {True, False}
    for event in events:
        assert event.article.kind == Article.Kind.EVENT
        assert event.ends_at > event.starts_at
        assert event.article.published_at < event.starts_at


def test_bodies_are_sanitized_and_each_names_a_rare_term():
    generate()

    for body in Article.objects.values_list("body", flat=True):
        assert "<script" not in body.lower()
        assert body == clean_html(body)
        assert "Further reading: the " in body
        assert body.count("<p>") == 4


def test_the_same_seed_gives_the_same_rows_and_another_seed_different_ones(time_machine):
    time_machine.move_to(FROZEN, tick=False)

    first = digest_of_a_fresh_run()
    assert digest_of_a_fresh_run() == first
    # Rows depend on the seed and their number, not on how they were batched.
    assert digest_of_a_fresh_run(batch_size=7) == first
    assert digest_of_a_fresh_run(seed=8) != first


def test_existing_taxonomy_is_reused_instead_of_the_seed_names():
    topics = {Topic.objects.create(name=name).pk for name in TOPIC_NAMES}
    region = Region.objects.create(name="Oceania")
    section = Section.objects.create(name="Events and News")

    generate()

    assert set(Topic.objects.values_list("pk", flat=True)) == topics
    assert list(Region.objects.all()) == [region]
    assert list(Section.objects.all()) == [section]
    assert Article.objects.filter(section=section).exists()
    assert set(Article.regions.through.objects.values_list("region", flat=True)) == {region.pk}
    # Series was empty, so it gets the institute's own.
    assert Series.objects.count() == len(SERIES_NAMES)


def test_existing_tags_are_reused_and_new_ones_avoid_their_slugs():
    soft_power = Tag.objects.create(name="soft power", slug="soft-power")
    Tag.objects.create(name="Public Diplomacy", slug="public-diplomacy")

    generate(tags=3)

    assert Tag.objects.count() == 2 + 2
    assert Tag.objects.get(name="public diplomacy").slug == "public-diplomacy_1"
    assert TaggedArticle.objects.filter(tag=soft_power).exists()


def test_a_second_identical_run_creates_nothing():
    generate()
    digest = content_digest()

    output = generate()

    assert content_digest() == digest
    assert Article.objects.count() == 60
    assert ArticleAuthor.objects.count() == ArticleAuthor.objects.distinct().count()
    assert "Nothing to create" in output
    assert "60 articles" in output  # reported as already there


def test_a_bigger_run_with_the_same_seed_adds_only_the_missing_rows():
    generate(articles=30, events=0, publications=2)
    first = set(Article.objects.values_list("slug", flat=True))

    generate(articles=60, events=0, publications=5)

    assert Article.objects.count() == 60
    assert first < set(Article.objects.values_list("slug", flat=True))
    assert Publication.objects.count() == 5
    assert Expert.objects.count() == 12


def test_generated_slugs_do_not_collide_with_existing_rows():
    Article.objects.create(title="Existing", slug="existing", status=Article.Status.DRAFT)

    generate(seed=3)

    assert all(
        slug.endswith(f"-g3-{slug.rsplit('-', 1)[1]}")
        for slug in Article.objects.exclude(slug="existing").values_list("slug", flat=True)
    )
    assert all("-g3-" in slug for slug in Expert.objects.values_list("slug", flat=True))


def test_dry_run_says_what_it_would_create_and_writes_nothing():
    output = generate(dry_run=True)

    assert "Dry run: nothing was written." in output
    assert "60 articles" in output
    assert "12 experts" in output
    for model in (Article, Expert, Tag, Topic, Region, Section, Series, Publication):
        assert not model.objects.exists()


def test_dry_run_after_a_run_would_create_nothing():
    generate()

    output = generate(dry_run=True)

    assert "Would create: nothing." in output


def test_the_number_of_queries_does_not_grow_with_the_number_of_articles():
    def queries(articles):
        with transaction.atomic(), CaptureQueriesContext(transaction.get_connection()) as ctx:
            generate(articles=articles, events=2, publications=2)
            transaction.set_rollback(True)
        return len(ctx.captured_queries)

    # Existence checks go 900 slugs at a time and inserts one batch at a time (30 articles
    # also fit in one INSERT under SQLite's 999-parameter limit that Django observes).
    assert queries(10) == queries(30)


def test_verbosity_zero_prints_nothing_and_two_prints_phases():
    assert generate(verbosity=0) == ""
    output = generate(verbosity=2, seed=9)
    assert "Seconds per phase:" in output
    assert "articles: insert" in output
    assert "60 of 60 articles" in output


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"articles": -1}, "The number of articles must be at least 1; -1 was given."),
        ({"articles": 0}, "The number of articles must be at least 1; 0 was given."),
        ({"experts": 0}, "The number of experts must be at least 1; 0 was given."),
        ({"tags": 0}, "The number of tags must be at least 1; 0 was given."),
        ({"batch_size": 0}, "The batch size must be at least 1; 0 was given."),
        ({"seed": -2}, "The seed must be at least 0; -2 was given."),
        ({"publications": -1}, "The number of publications cannot be negative; -1 was given."),
        ({"articles": 5, "events": 6}, "6 events cannot fit in 5 articles."),
    ],
)
def test_bad_option_values_are_refused_with_a_clear_sentence(options, message):
    with pytest.raises(CommandError, match=message.replace(".", r"\.")):
        generate(**options)
    assert not Article.objects.exists()


def test_the_service_defaults_publications_and_events_to_a_share_of_the_articles():
    spec = ContentSpec(articles=1000)
    assert (spec.publications, spec.events) == (20, 10)

    result = generate_content(ContentSpec(articles=100, experts=5, tags=5), dry_run=True)

    assert result.created["articles"] == 100
    assert result.created["publications"] == 2
    assert result.created["events"] == 1


def test_generated_content_invalidates_cached_pages(client, settings):
    settings.PAGE_CACHE_SECONDS = 600
    client.get("/articles/")
    assert client.get("/articles/")["X-Page-Cache"] == "hit"

    generate(articles=3, experts=2, events=1)

    response = client.get("/articles/")
    assert "X-Page-Cache" not in response
    assert Article.objects.first().title in response.content.decode()


@pytest.mark.postgres
@pytest.mark.parametrize("rebuild_above", [1000, 2])
def test_generated_content_is_searchable_on_postgresql(client, monkeypatch, rebuild_above):
    """Small runs update the GIN index row by row; big ones drop and rebuild it."""
    from django.db import connection

    from charhar import bulk, searchentries

    monkeypatch.setattr(bulk, "REBUILD_SEARCH_INDEX_ABOVE", rebuild_above)
    generate(articles=6, experts=3, events=1)

    assert not Article.objects.filter(search_vector__isnull=True).exists()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = %s", [searchentries.INDEX]
        )
        assert "USING gin (search_vector, kind, topic_ids" in cursor.fetchone()[0]
    assert searchentries.drift() == 0
    title = Article.objects.order_by("pk").first().title
    word = max(title.replace(":", " ").split(), key=len)  # the longest: never a stop word
    assert Article.objects.filter(search_vector=word).exists()
    assert title in client.get("/search/", {"q": word}).content.decode()


# The digest of SMALL with seed 7 at FROZEN. PostgreSQL writes articles with COPY, other
# databases with bulk_create: both suites check this one value, so both write the same rows.
SMALL_DIGEST = "ba135df98119b923cba353f7ce2ff24af36b7c02d9d1b015c12ce87309d0e560"


def test_every_database_gets_the_same_rows(time_machine):
    time_machine.move_to(FROZEN, tick=False)

    assert digest_of_a_fresh_run() == SMALL_DIGEST


@pytest.mark.postgres
def test_vectors_written_with_the_rows_are_the_ones_a_save_computes():
    from charhar.search import refresh_search_vectors

    generate()
    written = dict(Article.objects.values_list("pk", "search_vector"))
    assert all(written.values())

    refresh_search_vectors(Article.objects.all())

    assert dict(Article.objects.values_list("pk", "search_vector")) == written
