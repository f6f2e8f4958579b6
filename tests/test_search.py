"""Site search: one query over articles, experts and publications, filters with their counts,
the web search syntax, hostile input, highlighting, and (on PostgreSQL) ranking, stemming
and stored vectors that follow every change."""

import datetime
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import time_machine
from django.db import connection
from django.http import QueryDict
from django.template.defaultfilters import date as date_filter
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from articles.factories import (
    ArchivedArticleFactory,
    DraftArticleFactory,
    PublishedArticleFactory,
    ScheduledArticleFactory,
    SectionFactory,
)
from articles.models import Article
from charhar import search as search_module
from charhar.factories import RegionFactory, TopicFactory
from charhar.pagecache import bump_content_version, content_state
from charhar.search import (
    MAX_QUERY_LENGTH,
    Filters,
    Search,
    SlugUrls,
    _parsed,
    parse_query,
    refresh_search_vectors,
    without_phrases,
)
from experts.factories import ExpertFactory, InactiveExpertFactory
from experts.models import Expert
from publications.factories import (
    DraftPublicationFactory,
    PublishedPublicationFactory,
    SeriesFactory,
)
from publications.models import Publication, PublicationAuthor
from tests.html_validation import by_class, parse_html, text

pytestmark = pytest.mark.django_db


def at(year, month=6, day=1):
    return datetime.datetime(year, month, day, 12, tzinfo=datetime.UTC)


@pytest.fixture
def library():
    """A small institute: two topics, two regions, a section, a series, three experts and
    articles and publications spread over years, kinds and credits."""
    peace, trade = TopicFactory(name="Peace"), TopicFactory(name="Trade")
    asia, europe = RegionFactory(name="Asia"), RegionFactory(name="Europe")
    section = SectionFactory(name="Peace Studies")
    series = SeriesFactory(name="Quarterly")
    zhao = ExpertFactory(name="ZHAO Minghao", short_bio="Writes on Korea.")
    zhao.topics.add(peace)
    zhao.regions.add(asia)
    li = ExpertFactory(name="Li Wei", short_bio="Writes on trade.")
    li.topics.add(trade)
    retired = InactiveExpertFactory(name="Retired Summit Fellow")
    make = PublishedArticleFactory
    articles = {
        "korea": make(
            title="Summit diplomacy on the Korean Peninsula",
            summary="Talks resume.",
            kind=Article.Kind.RESEARCH,
            published_at=at(2019),
            topics=[peace],
            regions=[asia],
            authors=[zhao],
        ),
        "japan": make(
            title="Japan and the summit season",
            summary="Tokyo hosts.",
            kind=Article.Kind.COMMENTARY,
            published_at=at(2020),
            topics=[peace, trade],
            regions=[asia],
            authors=[zhao, li],
        ),
        "tariffs": make(
            title="Tariffs after the summit",
            summary="Trade measures.",
            kind=Article.Kind.NEWS,
            section=section,
            published_at=at(2022),
            topics=[trade],
            regions=[europe],
            authors=[li],
        ),
        "forum": make(
            title="Forum on public diplomacy",
            summary="Scholars meet in Berlin.",
            kind=Article.Kind.NEWS,
            section=section,
            published_at=at(2023),
            topics=[peace],
            regions=[europe],
        ),
    }
    book = PublishedPublicationFactory(
        title="Summit Diplomacy Quarterly",
        summary="Essays on summits.",
        series=series,
        published_on=datetime.date(2021, 3, 1),
        authors=[zhao],
    )
    book.topics.add(peace)
    book.regions.add(asia)
    for factory in (DraftArticleFactory, ScheduledArticleFactory, ArchivedArticleFactory):
        factory(title=f"Hidden summit {factory.__name__}", topics=[peace], authors=[zhao])
    DraftPublicationFactory(title="Hidden summit book", series=series)
    return {
        "peace": peace,
        "trade": trade,
        "asia": asia,
        "europe": europe,
        "section": section,
        "series": series,
        "zhao": zhao,
        "li": li,
        "retired": retired,
        "articles": articles,
        "book": book,
    }


def search(client, status=200, **params):
    query = urlencode(params, doseq=True)
    response = client.get(reverse("search") + ("?" + query if query else ""))
    assert response.status_code == status, params
    return parse_html(response.content)


def result_titles(root):
    return [text(card.find(".//a")) for card in by_class(root, "card--result", "article")]


def count(root):
    return text(by_class(root, "search__count")[0])


def facets(root):
    """{facet title: {value label: (count, link, selected)}} as the page shows them."""
    shown = {}
    for section in by_class(root, "facet", "section"):
        values = {}
        for link in section.iter("a"):
            [number] = by_class(link, "facet__count")
            label = (link.text or "").strip()
            selected = link.get("aria-current") == "true"
            values[label] = (int(text(number).strip("()")), link.get("href"), selected)
        shown[text(section.find("h3"))] = values
    return shown


# --- What is found ----------------------------------------------------------------------------


def test_one_query_finds_articles_experts_and_publications_but_nothing_unpublished(client, library):
    root = search(client, q="summit")
    found = result_titles(root)
    assert set(found) == {
        "Summit diplomacy on the Korean Peninsula",
        "Japan and the summit season",
        "Tariffs after the summit",
        "Summit Diplomacy Quarterly",
    }
    assert count(root) == "4 results for “summit”"
    assert "Hidden" not in str(client.get(reverse("search") + "?q=hidden").content)
    assert "ZHAO Minghao" in result_titles(search(client, q="Korea"))
    # An inactive expert is not found, even by name.
    assert result_titles(search(client, q="Retired")) == []


def test_an_author_name_finds_what_they_wrote(client, library):
    found = result_titles(search(client, q="Li Wei"))
    assert "Tariffs after the summit" in found
    assert "Japan and the summit season" in found
    assert "Forum on public diplomacy" not in found


def test_a_quoted_phrase_must_appear_as_written(client, library):
    PublishedArticleFactory(title="Diplomacy of the public kind", summary="Other words.")
    found = result_titles(search(client, q='"public diplomacy"'))
    assert found == ["Forum on public diplomacy"]
    both = result_titles(search(client, q="public diplomacy"))
    assert {"Forum on public diplomacy", "Diplomacy of the public kind"} <= set(both)


def test_or_makes_alternatives_and_a_minus_leaves_words_out(client, library):
    assert set(result_titles(search(client, q="Japan or Tariffs"))) == {
        "Japan and the summit season",
        "Tariffs after the summit",
    }
    without = set(result_titles(search(client, q="summit -Japan -tariffs")))
    assert without == {"Summit diplomacy on the Korean Peninsula", "Summit Diplomacy Quarterly"}


def test_the_query_syntax_is_parsed_like_websearch():
    groups = parse_query('"public  diplomacy" korea or japan -trade')
    assert [[(t.text, t.phrase, t.negated) for t in g] for g in groups] == [
        [("public diplomacy", True, False)],
        [("korea", False, False), ("japan", False, False)],
        [("trade", False, True)],
    ]
    assert parse_query('or "" - " -') == []


# --- Filters and facets -----------------------------------------------------------------------


def test_each_filter_narrows_the_results(client, library):
    lib = library
    cases = {
        "kind research": ({"kind": "research"}, {"Summit diplomacy on the Korean Peninsula"}),
        "kind publication": ({"kind": "publication"}, {"Summit Diplomacy Quarterly"}),
        "section": (
            {"section": lib["section"].slug},
            {"Tariffs after the summit"},
        ),
        "topic": (
            {"topic": lib["trade"].slug},
            {"Japan and the summit season", "Tariffs after the summit"},
        ),
        "region": (
            {"region": lib["asia"].slug},
            {
                "Summit diplomacy on the Korean Peninsula",
                "Japan and the summit season",
                "Summit Diplomacy Quarterly",
            },
        ),
        "expert": (
            {"expert": lib["li"].slug},
            {"Japan and the summit season", "Tariffs after the summit"},
        ),
        "series": ({"series": lib["series"].slug}, {"Summit Diplomacy Quarterly"}),
        "years": (
            {"year_from": "2020", "year_to": "2021"},
            {"Japan and the summit season", "Summit Diplomacy Quarterly"},
        ),
        "since": (
            {"year_from": "2021"},
            {"Tariffs after the summit", "Summit Diplomacy Quarterly"},
        ),
    }
    for name, (params, expected) in cases.items():
        assert set(result_titles(search(client, q="summit", **params))) == expected, name


def test_filters_combine_and_repeat(client, library):
    lib = library
    root = search(
        client,
        q="summit",
        topic=[lib["peace"].slug, lib["trade"].slug],
        expert=lib["zhao"].slug,
        region=lib["asia"].slug,
        year_from="2019",
    )
    assert result_titles(root) == ["Japan and the summit season"]
    # Without a query: the latest content, narrowed the same way.
    root = search(client, topic=lib["peace"].slug, kind="news")
    assert result_titles(root) == ["Forum on public diplomacy"]


def test_every_facet_count_is_the_total_its_link_leads_to(client, library):
    for start in ({"q": "summit"}, {}, {"q": "summit", "topic": library["peace"].slug}):
        root = search(client, **start)
        shown = facets(root)
        assert set(shown) >= {"Kind", "Topic", "Region", "Expert", "Year"}, start
        total = int(count(root).split()[0])
        assert sum(n for n, _, _ in shown["Kind"].values()) == total, start
        checked = 0
        for title, values in shown.items():
            for label, (number, link, selected) in values.items():
                followed = search(client, **parse_qs(urlsplit(link).query))
                if selected:  # the link takes the filter away again
                    assert int(count(followed).split()[0]) >= number, (start, title, label)
                else:
                    assert int(count(followed).split()[0]) == number, (start, title, label)
                    checked += 1
        assert checked >= 8, start


def test_an_expert_facet_lists_only_active_experts(client, library):
    article = library["articles"]["korea"]
    article.authorships.create(expert=library["retired"], order=5)
    shown = facets(search(client, q="summit"))
    assert "ZHAO Minghao" in shown["Expert"]
    assert "Retired Summit Fellow" not in shown["Expert"]


def test_unknown_filter_values_are_ignored(client, library):
    root = search(
        client, q="summit", topic="no-such", kind="nothing", year_from="abc", expert="nobody"
    )
    assert count(root) == "4 results for “summit”"


def test_no_match_with_filters_suggests_removing_them(client, library):
    root = search(client, q="Tariffs", region=library["asia"].slug)
    assert result_titles(root) == []
    [empty] = by_class(root, "search-empty")
    links = [a.get("href") for a in empty.iter("a")]
    assert "Remove Region: Asia" in text(empty)
    assert result_titles(search(client, **parse_qs(urlsplit(links[0]).query))) == [
        "Tariffs after the summit"
    ]


def test_an_empty_query_shows_the_filters_and_the_latest_content(client, library):
    root = search(client)
    assert result_titles(root)[:2] == ["Forum on public diplomacy", "Tariffs after the summit"]
    assert facets(root)["Kind"]["Experts"][0] == 2  # ZHAO Minghao and Li Wei


def test_sort_by_date_puts_the_newest_first(client, library):
    root = search(client, q="summit", sort="date")
    assert result_titles(root) == [
        "Tariffs after the summit",
        "Summit Diplomacy Quarterly",
        "Japan and the summit season",
        "Summit diplomacy on the Korean Peninsula",
    ]


def test_filters_live_in_the_url_of_every_link(client, library):
    root = search(client, q="summit", topic=library["peace"].slug, sort="date")
    for facet_links in facets(root).values():
        for _, link, _ in facet_links.values():
            params = parse_qs(urlsplit(link).query)
            assert params["q"] == ["summit"]
            assert params["sort"] == ["date"]
    form = next(f for f in root.iter("form") if "search-page" in f.get("class", ""))
    hidden = {
        i.get("name"): i.get("value") for i in form.iter("input") if i.get("type") == "hidden"
    }
    assert hidden == {"topic": library["peace"].slug}


def test_results_are_paged_by_20_and_a_bad_page_is_not_found(client):
    for n in range(25):
        PublishedArticleFactory(title=f"Paged summit {n}")
    first, second = search(client, q="summit"), search(client, q="summit", page="2")
    assert len(result_titles(first)) == 20
    assert len(result_titles(second)) == 5
    assert not set(result_titles(first)) & set(result_titles(second))
    for page in ("0", "3", "abc", "1.5", "-1"):
        search(client, 404, q="summit", page=page)


# --- Hostile input ----------------------------------------------------------------------------

HOSTILE = [
    '"',
    '""',
    '"unclosed phrase',
    "\\",
    "\\\\'; DROP TABLE articles_article; --",
    "%",
    "_",
    "%_%",
    "-",
    "--",
    "or",
    "OR or OR",
    "- or -",
    "!!! ((( ))) &&& ||| :* <-> <2>",
    "'",
    "a & b | !c",
    "数字外交 Ελλάδα ñandú 🙂",
    "\u202e\u200b\ufeff",
    "nul\x00byte",
    "x" * 2000,
    "summit " * 400,
    "<script>alert(1)</script>",
]


@pytest.mark.parametrize("query", HOSTILE, ids=range(len(HOSTILE)))
def test_anything_typed_gives_a_normal_page(client, library, query):
    response = client.get(reverse("search"), {"q": query, "topic": query, "year_from": query})
    assert response.status_code == 200
    root = parse_html(response.content)
    [field] = [i for i in root.iter("input") if i.get("id") == "search-page-query"]
    assert len(field.get("value")) <= MAX_QUERY_LENGTH
    assert "\x00" not in response.content.decode()


def test_broken_encodings_in_the_address_give_a_normal_page(client, library):
    for raw in ("%ED%A0%80", "%FF%FE", "%C0%AF", "%00", "%E2%80%AE"):
        response = client.get(f"{reverse('search')}?q={raw}&topic={raw}&expert={raw}")
        assert response.status_code == 200, raw


def test_a_long_query_is_cut_to_a_sane_length(client, library):
    root = search(client, q="summit " + "y" * 3000)
    [field] = [i for i in root.iter("input") if i.get("id") == "search-page-query"]
    assert field.get("value") == ("summit " + "y" * 3000)[:MAX_QUERY_LENGTH]


# --- Highlighting -----------------------------------------------------------------------------


def test_matched_words_are_highlighted_in_an_escaped_snippet(client):
    PublishedArticleFactory(
        title="Briefing",
        summary="Before <b>bold</b> & the negotiations <img src=x onerror=alert(1)> ended.",
        body="<p>Body words.</p>",
    )
    html = client.get(reverse("search"), {"q": "negotiations"}).content.decode()
    assert "<mark>negotiations</mark>" in html
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; the" in html
    assert "<img src=x" not in html
    assert "<b>bold</b>" not in html


def test_a_query_cannot_inject_markup_through_the_highlight(client):
    PublishedArticleFactory(title="Markup", summary="The word mark appears: <mark> and script.")
    for query in ('"><script>alert(1)</script>', "mark script", "<mark>", "</mark><i>"):
        html = client.get(reverse("search"), {"q": query}).content.decode()
        assert "<script>alert(1)" not in html, query
        assert "</mark><i>" not in html, query
        main = html[html.index("<main") :]
        assert "<i>" not in main, query
        assert main.count("<mark>") == main.count("</mark>"), query


def test_a_body_match_is_shown_from_the_body(client):
    PublishedArticleFactory(
        title="Report",
        summary="Nothing here.",
        body="<p>" + "Filler words. " * 40 + "The denuclearization talks stalled.</p>",
    )
    root = search(client, q="denuclearization")
    [summary] = by_class(root, "card__summary")
    assert "denuclearization talks stalled" in text(summary)
    assert text(summary).startswith("…")


def test_results_credit_their_experts_in_byline_order(client):
    first, gone, editor = (
        ExpertFactory(name="Ann First"),
        InactiveExpertFactory(name="Ben Gone"),
        ExpertFactory(name="Cy Editor"),
    )
    PublishedArticleFactory(title="Credited summit", authors=[first, gone])
    book = PublishedPublicationFactory(title="Credited summit book")
    PublicationAuthor.objects.create(publication=book, expert=gone, order=1)
    PublicationAuthor.objects.create(
        publication=book, expert=editor, role=PublicationAuthor.Role.EDITOR, order=0
    )
    root = search(client, q="credited summit", sort="date")
    bylines = {text(card.find(".//a")): card for card in by_class(root, "card--result", "article")}
    article_byline = by_class(bylines["Credited summit"], "byline")[0]
    assert text(article_byline) == "Ann First, Ben Gone"
    # Only experts still with the institute are linked.
    assert [a.get("href") for a in article_byline.iter("a")] == [first.get_absolute_url()]
    book_byline = by_class(bylines["Credited summit book"], "byline")[0]
    assert text(book_byline) == "Cy Editor, Ben Gone"  # by order, not by when credited


@pytest.mark.parametrize(
    "slug", ["plain-slug", "éditorial", "a b", "50%-off", "a+b=c", "q?x#y", "~me:@x", "..", ""]
)
def test_result_addresses_are_what_reverse_makes_of_the_slug(slug):
    urls = SlugUrls()
    for model in (Article, Expert, Publication):
        try:
            expected = reverse(f"{model._meta.app_label}:detail", kwargs={"slug": slug})
        except NoReverseMatch:
            with pytest.raises(NoReverseMatch):
                urls(model, slug)
        else:
            assert urls(model, slug) == expected


@pytest.mark.parametrize(
    ("zone", "local"),
    [
        # 20:00 UTC on June 30 is 04:00 on July 1 in Shanghai, 17:30 in St. John's.
        ("Asia/Shanghai", "2024-07-01T04:00:00+0800"),
        ("America/St_Johns", "2024-06-30T17:30:00-0230"),
    ],
)
@time_machine.travel(datetime.datetime(2024, 6, 30, 20, 0, tzinfo=datetime.UTC), tick=False)
def test_result_dates_read_as_the_date_filter_shows_them(client, settings, zone, local):
    settings.TIME_ZONE = zone
    PublishedArticleFactory(title="Dated summit", published_at=timezone.now())
    PublishedPublicationFactory(title="Dated summit book", published_on=datetime.date(2024, 6, 30))
    root = search(client, q="dated summit", sort="date")
    times = [(node.get("datetime"), text(node)) for node in root.iter("time")]
    # The reader's day and offset, the day and the month as the date filter writes them.
    moment = datetime.datetime.fromisoformat(local[:-2] + ":" + local[-2:])
    assert times == [
        (local, date_filter(moment)),
        ("2024-06-30", date_filter(datetime.date(2024, 6, 30))),
    ]


# --- Queries ----------------------------------------------------------------------------------


def _grow(n, lib):
    for i in range(n):
        PublishedArticleFactory(
            title=f"Summit {i}",
            kind=Article.Kind.RESEARCH,
            topics=[lib["peace"]],
            regions=[lib["asia"]],
            authors=[lib["zhao"], ExpertFactory()],
            published_at=at(2019 + i % 5),
        )
        PublishedPublicationFactory(title=f"Summit book {i}", authors=[lib["zhao"]])


def test_a_search_with_filters_and_facets_costs_the_same_few_queries_at_any_size(client, library):
    urls = {
        "query": {"q": "summit"},
        "two filters": {"q": "summit", "topic": library["peace"].slug, "year_from": "2019"},
        "expert filter": {"q": "summit", "expert": library["zhao"].slug},
        "nothing typed": {},
    }

    def measure():
        counts = {}
        for name, params in urls.items():
            client.get(reverse("search"), {"q": "unrelated"})  # the site's chrome and taxonomy
            bump_content_version()
            content_state()  # read once per content change, by whichever page comes first
            _parsed.cache_clear()  # each process parses a query once, whichever test came first
            with CaptureQueriesContext(connection) as queries:
                assert client.get(reverse("search"), params).status_code == 200
            counts[f"{name}, first"] = len(queries)
            with CaptureQueriesContext(connection) as queries:
                assert client.get(reverse("search"), params).status_code == 200
            counts[f"{name}, again"] = len(queries)
        return counts

    _grow(5, library)
    small = measure()
    _grow(45, library)
    assert measure() == small
    assert max(small.values()) <= 9, small  # with a transaction's own statements
    again = [n for name, n in small.items() if name.endswith("again")]
    assert max(again) <= 3, small  # the page's rows and credits (and the expert filter)


# --- PostgreSQL: ranking, stemming and stored vectors ----------------------------------------


@pytest.mark.postgres
def test_a_title_match_outranks_a_summary_and_a_body_match(client):
    PublishedArticleFactory(
        title="Annual report", summary="Words.", body="<p>On mediation in Africa.</p>"
    )
    PublishedArticleFactory(title="Overview", summary="Mediation in the Gulf.", body="<p>x</p>")
    PublishedArticleFactory(title="Mediation in Asia", summary="Words.", body="<p>x</p>")
    assert result_titles(search(client, q="mediation")) == [
        "Mediation in Asia",
        "Overview",
        "Annual report",
    ]


def test_a_phrase_is_relaxed_to_its_words_only_where_that_finds_more():
    assert without_phrases("'public' <-> 'diplomaci'") == "'public' & 'diplomaci'"
    assert without_phrases("'state' <3> 'union' | 'korea'") == "'state' & 'union' | 'korea'"
    assert without_phrases("( 'a' | 'b' ) <-> 'c'") == "( 'a' | 'b' ) & 'c'"
    # A lexeme is never read as an operator, whatever it holds.
    assert without_phrases("'o''<->' <-> 'x'") == "'o''<->' & 'x'"
    assert without_phrases("'korea' & 'japan'") is None  # no phrase: nothing to relax
    assert without_phrases("'x' & !( 'a' <-> 'b' )") is None  # would exclude more
    assert without_phrases("") is None


@pytest.mark.postgres
def test_a_phrase_is_checked_after_the_other_filters_and_finds_only_itself(client):
    PublishedArticleFactory(title="Public diplomacy now", published_at=at(2024))
    PublishedArticleFactory(title="Public views on diplomacy", published_at=at(2024))
    PublishedArticleFactory(title="Public diplomacy then", published_at=at(2019))
    DraftArticleFactory(title="Public diplomacy drafted")
    params = {"q": '"public diplomacy"', "year_from": "2024"}
    page = search(client, **params)
    assert result_titles(page) == ["Public diplomacy now"]
    assert {year: n for year, (n, _link, _on) in facets(page)["Year"].items()} == {"2024": 1}
    statement = Search(params["q"], Filters.from_query_dict(QueryDict(urlencode(params))))
    sql, sql_params = statement._entry_hits()
    # The index is asked for the words; the phrase is tested after the year, behind a fence.
    assert "'public' & 'diplomaci'" in sql_params
    fence = "OFFSET 0) e WHERE search_vector @@ %s::tsquery"
    assert "published_on >=" in sql
    assert sql.index("published_on >=") < sql.index(fence)
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", sql_params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    # The phrase's own check comes after the scan's filters, in a node of its own.
    assert "Subquery Scan" in plan
    assert set(result_titles(search(client, q='diplomacy -"public diplomacy"'))) == {
        "Public views on diplomacy"
    }


@pytest.mark.postgres
def test_english_stemming_finds_other_forms_of_a_word(client):
    PublishedArticleFactory(title="Negotiating peace", summary="The negotiators met in June.")
    assert result_titles(search(client, q="negotiations")) == ["Negotiating peace"]
    html = client.get(reverse("search"), {"q": "negotiations"}).content.decode()
    assert "The <mark>negotiators</mark> met in June." in html


@pytest.mark.postgres
def test_vectors_follow_every_save_credit_and_rename(client):
    expert = ExpertFactory(name="Original Name")
    article = PublishedArticleFactory(title="Plain title")
    assert result_titles(search(client, q="Quixotic")) == []

    article.title = "Quixotic title"
    article.save()
    assert result_titles(search(client, q="Quixotic")) == ["Quixotic title"]

    article.authors.add(expert, through_defaults={"order": 0})
    assert "Quixotic title" in result_titles(search(client, q="Original"))

    expert.name = "Renamed Person"
    expert.save()
    assert "Quixotic title" in result_titles(search(client, q="Renamed"))
    assert "Quixotic title" not in result_titles(search(client, q="Original"))

    article.authorships.all().delete()
    assert "Quixotic title" not in result_titles(search(client, q="Renamed"))


@pytest.mark.postgres
def test_bulk_writers_refresh_many_vectors_in_one_update(client, django_assert_num_queries):
    Article.objects.bulk_create(
        [
            Article(
                title=f"Bulk item {n}", slug=f"bulk-{n}", status="published", published_at=at(2020)
            )
            for n in range(30)
        ]
    )
    PublishedPublicationFactory(title="Before")
    Publication.objects.update(title="Bulk book")
    Expert.objects.bulk_create([Expert(name="Bulk Expert", slug="bulk-expert")])
    assert Article.objects.filter(search_vector__isnull=True).count() == 30

    with django_assert_num_queries(1):
        assert refresh_search_vectors(Article.objects.filter(slug__startswith="bulk-")) == 30
    refresh_search_vectors(Publication.objects.all())
    refresh_search_vectors(Expert.objects.all())

    assert not Article.objects.filter(search_vector__isnull=True).exists()
    found = Search("bulk", Filters())
    assert found.count == 32  # 30 articles, the book and the expert
    assert found.full_text  # found by the index, not by the substring fallback


@pytest.mark.postgres
def test_a_query_of_only_stop_words_or_symbols_falls_back_to_substring_matching(client):
    PublishedArticleFactory(title="The <tag> and the rest")
    assert result_titles(search(client, q="<tag>")) == ["The <tag> and the rest"]
    assert result_titles(search(client, q="the")) == ["The <tag> and the rest"]


# --- Speed at scale: cached counts, bounded ranking, later pages ------------------------------


def test_a_repeated_search_is_counted_once_until_content_changes(client, library):
    first = search(client, q="summit")
    with CaptureQueriesContext(connection) as queries:
        again = search(client, q="summit")
    assert count(again) == count(first) == "4 results for “summit”"
    assert facets(again) == facets(first)
    assert not any("COUNT(" in q["sql"] for q in queries.captured_queries)

    # An edit anywhere makes every cached search new: the counts follow at once.
    forum = library["articles"]["forum"]
    forum.title = "Forum after the summit"
    forum.save()
    root = search(client, q="summit")
    assert count(root) == "5 results for “summit”"
    assert facets(root)["Kind"]["News"][0] == 2
    assert "Forum after the summit" in result_titles(root)

    # So does a change of topics, through the links alone.
    forum.topics.add(library["trade"])
    assert facets(search(client, q="summit"))["Topic"]["Trade"][0] == 3


def test_a_scheduled_article_is_found_when_its_time_comes(client, library):
    due = timezone.now() + datetime.timedelta(hours=2)
    ScheduledArticleFactory(title="Summit to come", published_at=due)
    assert count(search(client, q="summit")) == "4 results for “summit”"
    with time_machine.travel(due + datetime.timedelta(minutes=1), tick=False):
        root = search(client, q="summit")
        assert count(root) == "5 results for “summit”"
        assert "Summit to come" in result_titles(root)


def _all_pages(client, **params):
    titles, page = [], 1
    while True:
        root = search(client, page=str(page), **params)
        titles += result_titles(root)
        if not any(a.get("rel") == "next" for a in root.iter("a")):
            return titles
        page += 1


@pytest.mark.parametrize("sort", ["relevance", "date"])
def test_pages_past_the_cached_first_places_continue_the_same_order(client, sort, monkeypatch):
    for n in range(45):
        PublishedArticleFactory(
            title=f"Paged summit {n}" if n % 3 else f"Summit summit {n}",
            summary="A summit." if n % 2 else "Other words.",
            published_at=at(2000 + n % 20, 1 + n % 12),
        )
    expected = _all_pages(client, q="summit", sort=sort)
    assert len(expected) == len(set(expected)) == 45
    monkeypatch.setattr(search_module, "LEAD", 7)
    bump_content_version()
    assert _all_pages(client, q="summit", sort=sort) == expected


@pytest.mark.postgres
def test_with_many_matches_the_newest_are_ranked_and_older_ones_follow_by_date(client, monkeypatch):
    monkeypatch.setattr(search_module, "RANKED", 2)
    make = PublishedArticleFactory
    make(title="Mediation", summary="x", body="<p>x</p>", published_at=at(2010))
    make(title="Overview", summary="Mediation", body="<p>x</p>", published_at=at(2011))
    make(title="Report", summary="x", body="<p>Mediation</p>", published_at=at(2024))
    make(title="Mediation talks", summary="x", body="<p>x</p>", published_at=at(2023))
    make(title="Notes", summary="x", body="<p>Mediation</p>", published_at=at(2022))
    root = search(client, q="mediation")
    # The two newest matches, by relevance; then the rest, newest first.
    assert result_titles(root) == ["Mediation talks", "Report", "Notes", "Overview", "Mediation"]
    # Counts and facets still cover every match.
    assert count(root) == "5 results for “mediation”"
    assert sum(n for n, _, _ in facets(root)["Year"].values()) == 5
    monkeypatch.setattr(search_module, "RANKED", 500)
    bump_content_version()
    assert result_titles(search(client, q="mediation"))[:2] == ["Mediation talks", "Mediation"]


@pytest.mark.postgres
def test_search_statements_run_without_jit_or_sequential_scans(client, library):
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('work_mem')")
        work_mem = cursor.fetchone()[0]
    assert work_mem != "32MB"
    with CaptureQueriesContext(connection) as queries:
        search(client, q="summit", topic=library["peace"].slug)
    statements = [q["sql"] for q in queries.captured_queries]
    at_hits = next(i for i, sql in enumerate(statements) if sql.startswith("WITH hits"))
    assert statements[at_hits - 1] == search_module.SEARCH_SETTINGS.replace("%s", "'off'")
    with connection.cursor() as cursor:  # for that transaction only
        cursor.execute(
            "SELECT current_setting('jit'), current_setting('enable_seqscan'), "
            "current_setting('work_mem')"
        )
        assert cursor.fetchone() == ("on", "on", work_mem)


@pytest.mark.postgres
def test_searches_that_test_no_vector_may_read_the_entries_whole(client, library):
    with CaptureQueriesContext(connection) as queries:
        search(client, topic=library["peace"].slug)
    statements = [q["sql"] for q in queries.captured_queries]
    at_hits = next(i for i, sql in enumerate(statements) if sql.startswith("WITH hits"))
    assert statements[at_hits - 1] == search_module.SEARCH_SETTINGS.replace("%s", "'on'")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_search_settings_end_with_the_search_statement(client):
    PublishedArticleFactory(title="Summit outside a test transaction")
    assert result_titles(search(client, q="summit")) == ["Summit outside a test transaction"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('jit'), current_setting('enable_seqscan')")
        assert cursor.fetchone() == ("on", "on")


def test_the_taxonomy_comes_from_the_cache_in_one_read_and_follows_edits(django_assert_num_queries):
    from django.core.cache import cache

    from articles.models import Section
    from charhar.caching import cached_rows_many
    from charhar.models import Region, Topic
    from publications.models import Series

    peace = TopicFactory(name="Peace")
    cache.clear()
    with django_assert_num_queries(4):  # each table once, then kept
        rows = cached_rows_many(Section, Series, Topic, Region)
    assert rows[Topic] == [peace]
    with django_assert_num_queries(0):
        assert cached_rows_many(Section, Series, Topic, Region) == rows

    peace.name = "Peace and Security"
    peace.save()
    assert [t.name for t in cached_rows_many(Topic)[Topic]] == ["Peace and Security"]
