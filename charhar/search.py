"""Site search: one query across articles, experts and publications, with filters and facets.

**Matching.** On PostgreSQL each searchable row stores a weighted ``tsvector`` (A title or
name, B summary, C body and the names of its authors; English stemming) in its
``search_vector`` column; what readers type is parsed by ``websearch_to_tsquery`` (quoted
phrases, ``or``, ``-exclusion``) and ranked with ``ts_rank``. The hits are found in the
search entries (`charhar.models.SearchEntry`: narrow copies of what search filters, counts
and orders by, with one GIN index over all of it, kept by triggers), and facets counted
from their arrays of topic, region and expert ids. Everywhere else (SQLite), and on
PostgreSQL for a query that has no word the English configuration indexes (only stop words
or symbols such as ``<script>``), the same syntax is applied by `parse_query` as
case-insensitive substring matching over the content tables.

**Vectors** are refreshed after every save of an article, expert or publication and after
a change of its credits (signals below, connected in ``CharharConfig.ready``). Code that
writes without ``save()`` (``bulk_create``, ``update``, imports) calls
`refresh_search_vectors` with the rows it wrote: one UPDATE for any number of rows.

**One statement for counts and order, cached.** The filtered hits (from the entries,
`visible_entry_sql()`, or each model's ``published()`` queryset over the content tables) are
found once; every facet count and the first `LEAD` places of the
order are read from them in a single statement, whose result is cached per search and
content state. A page then reads its 20 rows by primary key. Filters on topics, regions and
experts combine with AND and may repeat; kind, section and series take one value. Every
count is taken over the current results, so a facet's number is exactly the total of the
search its link leads to. On PostgreSQL, relevance ranks the newest `RANKED` matches of each
model (docs/search.md).
"""

import datetime
import functools
import hashlib
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from urllib.parse import quote, urlencode

from django.conf import settings
from django.contrib.postgres.aggregates import StringAgg
from django.contrib.postgres.search import SearchVector
from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.db import connection, connections, transaction
from django.db.models import (
    Case,
    CharField,
    DateTimeField,
    Exists,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, ExtractYear
from django.db.models.signals import m2m_changed, post_delete, post_init, post_save
from django.utils import dateformat, timezone
from django.utils.formats import get_format
from django.utils.html import escape
from django.utils.http import RFC3986_SUBDELIMS
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from articles.models import Article, ArticleAuthor, Section
from experts.models import Expert
from publications.models import Publication, PublicationAuthor, Series

from .caching import cached_rows_many
from .models import Region, SearchEntry, Topic
from .pagecache import content_state
from .sanitize import html_to_text

CONFIG = "english"
MAX_QUERY_LENGTH = 200  # characters kept of what was typed
MAX_TERMS = 12  # words and phrases used of them
MAX_FILTER_VALUES = 5  # of each repeatable filter (topic, region, expert)
EXPERT_FACET_SIZE = 15

ARTICLE, EXPERT, PUBLICATION = "article", "expert", "publication"

# The kinds a search can be narrowed to: the kinds of article, then experts and publications.
KIND_LABELS = {
    **dict(Article.Kind.choices),
    EXPERT: _("Experts"),
    PUBLICATION: _("Publications"),
}


# --- Search vectors ---------------------------------------------------------------------------


def _credited_names(through, owner: str):
    """The names of the experts credited on the outer row, in one space-separated string."""
    names = (
        through.objects.filter(**{owner: OuterRef("pk")})
        .order_by()
        .values(owner)
        .annotate(names=StringAgg("expert__name", " "))
        .values("names")
    )
    return Coalesce(Subquery(names), Value(""), output_field=TextField())


def _vector(a, b, c):
    return (
        SearchVector(*a, weight="A", config=CONFIG)
        + SearchVector(*b, weight="B", config=CONFIG)
        + SearchVector(*c, weight="C", config=CONFIG)
    )


VECTORS = {
    Article: lambda: _vector(
        ["title"], ["summary"], ["body", "byline", _credited_names(ArticleAuthor, "article")]
    ),
    Expert: lambda: _vector(["name"], ["title", "affiliation", "short_bio"], ["bio"]),
    Publication: lambda: _vector(
        ["title"],
        ["summary"],
        ["byline", "publisher", _credited_names(PublicationAuthor, "publication")],
    ),
}


def refresh_search_vectors(queryset) -> int:
    """Recompute the search vectors of every row of `queryset` (articles, experts or
    publications) in one UPDATE; returns the number of rows. A no-op off PostgreSQL.

    Bodies are HTML: PostgreSQL's parser reads tags as tokens the configuration ignores.
    ``updated_at`` is left alone: this is derived data, not an edit.
    """
    if connections[queryset.db].vendor != "postgresql":
        return 0
    return queryset.order_by().update(search_vector=VECTORS[queryset.model]())


def _refresh_row(sender, instance, using="default", **kwargs):
    refresh_search_vectors(sender._default_manager.using(using).filter(pk=instance.pk))


def _refresh_owner(sender, instance, using="default", **kwargs):
    owner = instance.article if sender is ArticleAuthor else instance.publication
    refresh_search_vectors(type(owner)._default_manager.using(using).filter(pk=owner.pk))


def _refresh_credits(sender, instance, action, reverse, model, pk_set, using, **kwargs):
    """`article.authors.add(...)` and the like: the credited names changed."""
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if not reverse:
        owner = type(instance)
        pks = [instance.pk]
    else:
        owner = model
        pks = list(pk_set or [])
        if action == "post_clear":  # the rows are gone; pk_set is not sent for a clear
            return
    refresh_search_vectors(owner._default_manager.using(using).filter(pk__in=pks))


def _remember_name(sender, instance, **kwargs):
    instance._search_name = instance.name


def _refresh_expert_credits(sender, instance, created, using="default", **kwargs):
    """An expert's new name must be found in everything they are credited on."""
    if created or instance.name == getattr(instance, "_search_name", instance.name):
        return
    instance._search_name = instance.name
    refresh_search_vectors(Article._default_manager.using(using).filter(authors=instance))
    refresh_search_vectors(Publication._default_manager.using(using).filter(authors=instance))


def connect_signals() -> None:
    for model in VECTORS:
        post_save.connect(_refresh_row, sender=model, dispatch_uid=f"search-{model.__name__}")
    for through in (ArticleAuthor, PublicationAuthor):
        for signal in (post_save, post_delete):
            signal.connect(_refresh_owner, sender=through, dispatch_uid=f"search-{through}")
    for through in (Article.authors.through, Publication.authors.through):
        m2m_changed.connect(_refresh_credits, sender=through, dispatch_uid=f"search-m2m-{through}")
    post_init.connect(_remember_name, sender=Expert, dispatch_uid="search-expert-name")
    post_save.connect(_refresh_expert_credits, sender=Expert, dispatch_uid="search-expert-credits")


# --- What readers type ------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    text: str
    phrase: bool = False
    negated: bool = False


def clean_query(raw: str) -> str:
    """What was typed, without control characters (PostgreSQL refuses NUL), on one line,
    cut to `MAX_QUERY_LENGTH` characters."""
    text = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp") else ch for ch in raw
    )
    return " ".join(text.split())[:MAX_QUERY_LENGTH].strip()


_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')


def parse_query(text: str) -> list[list[Term]]:
    """The web search syntax as ``websearch_to_tsquery`` reads it: terms AND-ed, ``or``
    between two terms making them alternatives (binding tighter than AND), ``"…"`` a phrase
    and a leading ``-`` an exclusion. Returns the AND-ed groups of alternatives."""
    groups: list[list[Term]] = []
    pending_or = False
    count = 0
    for match in _TOKEN.finditer(text):
        if count >= MAX_TERMS:
            break
        sign, phrase, word = match.groups()
        if word is not None:
            if word.lower() == "or":
                pending_or = bool(groups)
                continue
            negated = word.startswith("-") and len(word) > 1
            term = Term(word[1:] if negated else word, negated=negated)
            if not term.text.strip("-"):
                continue
        else:
            words = " ".join(phrase.split())
            if not words:
                continue
            term = Term(words, phrase=True, negated=bool(sign))
        if not re.search(r"\w", term.text):  # punctuation alone finds nothing useful
            continue
        count += 1
        if pending_or and groups:
            groups[-1].append(term)
        else:
            groups.append([term])
        pending_or = False
    return groups


def positive_words(groups: list[list[Term]]) -> list[str]:
    """The words readers hope to see, for highlighting."""
    words = []
    for group in groups:
        for term in group:
            if not term.negated:
                words.extend(re.findall(r"\w+", term.text))
    return words


# --- Filters ----------------------------------------------------------------------------------


def _year(value: str) -> int | None:
    value = value.strip()
    if value.isdecimal() and len(value) == 4 and 1000 <= int(value) <= 9999:
        return int(value)
    return None


TAXONOMY = (Section, Series, Topic, Region)


def _pick(rows: list, slugs: list[str]) -> list:
    by_slug = {row.slug: row for row in rows}
    chosen = []
    for slug in slugs:
        row = by_slug.get(slug)
        if row is not None and row not in chosen:
            chosen.append(row)
    return chosen


@dataclass
class Filters:
    """The filters of a search as the URL carries them; values that name nothing are dropped."""

    kind: str = ""
    section: Section | None = None
    series: Series | None = None
    topics: list = field(default_factory=list)
    regions: list = field(default_factory=list)
    experts: list = field(default_factory=list)
    year_from: int | None = None
    year_to: int | None = None
    # Every row of each `TAXONOMY` model, read once for the filters, the facets and the hits.
    rows: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_query_dict(cls, data) -> "Filters":
        def many(name):
            return [clean_query(v) for v in data.getlist(name)[:MAX_FILTER_VALUES] if v]

        rows = cached_rows_many(*TAXONOMY)
        kind = clean_query(data.get("kind", ""))
        sections = _pick(rows[Section], many("section")[:1])
        series = _pick(rows[Series], many("series")[:1])
        expert_slugs = list(dict.fromkeys(many("expert")))
        experts = []
        if expert_slugs:
            found = {e.slug: e for e in Expert.objects.published().filter(slug__in=expert_slugs)}
            experts = [found[slug] for slug in expert_slugs if slug in found]
        year_from = _year(data.get("year_from", ""))
        year_to = _year(data.get("year_to", ""))
        if year_from and year_to and year_from > year_to:
            year_from, year_to = year_to, year_from
        return cls(
            kind=kind if kind in KIND_LABELS else "",
            section=sections[0] if sections else None,
            series=series[0] if series else None,
            topics=_pick(rows[Topic], many("topic")),
            regions=_pick(rows[Region], many("region")),
            experts=experts,
            year_from=year_from,
            year_to=year_to,
            rows=rows,
        )

    def taxonomy(self, model) -> list:
        """Every row of `model` (one of `TAXONOMY`)."""
        if not self.rows:
            self.rows = cached_rows_many(*TAXONOMY)
        return self.rows[model]

    @property
    def active(self) -> bool:
        return bool(
            self.kind
            or self.section
            or self.series
            or self.topics
            or self.regions
            or self.experts
            or self.year_from
            or self.year_to
        )

    def types(self) -> list[str]:
        """The models a search with these filters can find."""
        types = []
        if self.kind in ("", *Article.Kind.values) and not self.series:
            types.append(ARTICLE)
        if self.kind in ("", PUBLICATION) and not self.section:
            types.append(PUBLICATION)
        no_expert_filters = not (self.section or self.series or self.experts)
        if self.kind in ("", EXPERT) and no_expert_filters and not self.years:
            types.append(EXPERT)
        return types

    @property
    def years(self) -> bool:
        return bool(self.year_from or self.year_to)

    def _bounds(self):
        tz = timezone.get_current_timezone()
        start = datetime.datetime(self.year_from, 1, 1, tzinfo=tz) if self.year_from else None
        end = datetime.datetime(self.year_to + 1, 1, 1, tzinfo=tz) if self.year_to else None
        return start, end


# --- Matching ---------------------------------------------------------------------------------

# Simple matching: the fields searched, best first; the first counts most for relevance.
SIMPLE_FIELDS = {
    ARTICLE: (["title"], ["summary"], ["body", "byline"]),
    EXPERT: (["name"], ["title", "affiliation", "short_bio"], ["bio"]),
    PUBLICATION: (["title"], ["summary"], ["byline", "publisher"]),
}
SIMPLE_WEIGHTS = (1.0, 0.4, 0.2)
CREDITS = {ARTICLE: (ArticleAuthor, "article"), PUBLICATION: (PublicationAuthor, "publication")}


def _term_q(kind: str, term: Term) -> Q:
    q = Q()
    for tier in SIMPLE_FIELDS[kind]:
        for name in tier:
            q |= Q(**{f"{name}__icontains": term.text})
    if kind in CREDITS:
        through, owner = CREDITS[kind]
        q |= Exists(
            through.objects.filter(**{owner: OuterRef("pk")}, expert__name__icontains=term.text)
        )
    return ~q if term.negated else q


def _simple_match(kind: str, groups: list[list[Term]]) -> Q:
    q = Q()
    for group in groups:
        alternatives = Q()
        for term in group:
            alternatives |= _term_q(kind, term)
        q &= alternatives
    return q


def _simple_score(kind: str, groups: list[list[Term]]):
    score = Value(0.0, output_field=FloatField())
    for group in groups:
        for term in group:
            if term.negated:
                continue
            for weight, tier in zip(SIMPLE_WEIGHTS, SIMPLE_FIELDS[kind], strict=True):
                tier_q = Q()
                for name in tier:
                    tier_q |= Q(**{f"{name}__icontains": term.text})
                score = score + Case(
                    When(tier_q, then=Value(weight)),
                    default=Value(0.0),
                    output_field=FloatField(),
                )
    return score


# --- The search -------------------------------------------------------------------------------

# Relevance at scale. Ranking reads each hit's stored vector from its row, which costs more
# than finding and counting the hits; a word found in most bodies leaves thousands of hits
# even with two filters. So of each model's matches the newest RANKED are ranked, and any
# older ones follow them, newest first. A search with fewer matches has all of them ranked.
# Counts and facets always cover every hit.
RANKED = 500
# The first places of the order, read by the statement that counts the facets and cached with
# the counts: the first pages of a search cost no further search.
LEAD = 200

_SYMBOLS = re.compile(r"[^\w\s\"'-]")


def _null(output_field):
    """A typed NULL: PostgreSQL cannot match an untyped one across the parts of a UNION."""
    return Cast(Value(None), output_field)


@dataclass
class Hit:
    """One result row as the results page shows it."""

    type: str
    pk: int
    kind: str
    title: str
    slug: str
    summary: str
    body: str
    byline: str
    subtitle: str
    date: datetime.datetime | None
    event_starts: datetime.datetime | None
    event_time_zone: str | None
    section_id: int | None
    series_id: int | None
    credits: list = field(default_factory=list)
    snippet: str = ""
    section: Section | None = None
    series: Series | None = None
    # Set by `Search.page`: the result's address, its kind's name, its date for machines
    # (``<time datetime>``) and for readers.
    url: str = ""
    kind_label: str = ""
    date_iso: str = ""
    date_text: str = ""


MODELS = {ARTICLE: Article, EXPERT: Expert, PUBLICATION: Publication}


@dataclass(frozen=True)
class _Slug:
    slug: str


def _url(model, slug: str) -> str:
    """The model's own URL rule for `slug`, without building an instance of the model (which
    runs every post_init handler): a page of results links to some fifty of them."""
    return model.get_absolute_url(_Slug(slug))


class SlugUrls:
    """The addresses of a page of results and their experts: one ``reverse()`` per model
    (through its ``get_absolute_url``), each slug then put in the placeholder's place, quoted
    as ``reverse()`` quotes it. ``reverse()`` costs tens of microseconds (it asks for the
    active language several times), and a page links to some fifty results and experts."""

    PLACEHOLDER = "slug-placeholder"

    def __init__(self):
        self.around: dict = {}

    def __call__(self, model, slug: str) -> str:
        if slug in ("", ".", "..") or "/" in slug:
            return _url(model, slug)  # what reverse() makes of these, or refuses
        around = self.around.get(model)
        if around is None:
            around = self.around[model] = _url(model, self.PLACEHOLDER).split(self.PLACEHOLDER)
        before, after = around
        return before + quote(slug, safe=RFC3986_SUBDELIMS + "/~:@") + after


def _by_id(rows: list) -> dict:
    return {row.pk: row for row in rows}


@dataclass
class Credit:
    name: str
    slug: str
    is_active: bool
    role: str
    url: str = ""  # set by `Search.page`


@dataclass
class FacetValue:
    key: str  # the URL value
    label: str
    count: int
    selected: bool = False


# What the hits carry for counting and ordering, and what a shown result carries.
HIT_COLUMNS = ("type", "id", "kind", "score", "date", "year", "section_id", "series_id")
SHOWN_COLUMNS = (
    "type",
    "id",
    "kind",
    "date",
    "section_id",
    "series_id",
    "title",
    "slug",
    "summary",
    "body",
    "byline",
    "subtitle",
    "event_starts",
    "event_time_zone",
)
# The hits as the search entries give them: the link ids as arrays (counted by grouping the
# hits by them, then unnesting the groups), and where the entry's row is (its ``ctid``), for
# reading its vector in the same statement.
ENTRY_COLUMNS = (*HIT_COLUMNS, "topic_ids", "region_ids", "expert_ids", "tid")
ENTRY_TABLE = SearchEntry._meta.db_table
ACTIVE = "active"  # an active expert's entry status (charhar/searchentries.py)
# The order when nothing is ranked by its vector: substring scores (zero when nothing was
# typed), then by date (ORDER_KEYS).
SCORED_ORDER = (
    "ordered (type, id, date, score, later) AS (SELECT type, id, date, score, 0 FROM hits)"
)
ORDER_KEYS = {
    "relevance": "later, score DESC, date DESC NULLS LAST, type, id DESC",
    "date": "date DESC NULLS LAST, score DESC, type, id DESC",
}


def _columns(kind: str) -> dict:
    """The result columns a model has under another name or not at all, as expressions."""
    if kind == ARTICLE:
        return {
            "type": Value(ARTICLE),
            "date": F("published_at"),
            "year": Cast(ExtractYear("published_at"), IntegerField()),
            "series_id": _null(IntegerField()),
            "subtitle": Value(""),
            "event_starts": F("event__starts_at"),
            "event_time_zone": F("event__time_zone"),
        }
    if kind == PUBLICATION:
        return {
            "type": Value(PUBLICATION),
            "kind": Value(PUBLICATION),
            "date": Cast("published_on", DateTimeField()),
            "year": Cast(ExtractYear("published_on"), IntegerField()),
            "section_id": _null(IntegerField()),
            "body": Value(""),
            "subtitle": Value(""),
            "event_starts": _null(DateTimeField()),
            "event_time_zone": _null(CharField()),
        }
    return {
        "type": Value(EXPERT),
        "kind": Value(EXPERT),
        "date": _null(DateTimeField()),
        "year": _null(IntegerField()),
        "section_id": _null(IntegerField()),
        "series_id": _null(IntegerField()),
        "summary": F("short_bio"),
        "body": F("bio"),
        "byline": Value(""),
        "subtitle": F("title"),
        "title_": F("name"),
        "event_starts": _null(DateTimeField()),
        "event_time_zone": _null(CharField()),
    }


def _union(querysets: dict, columns) -> tuple[str, list]:
    """The SQL of the rows of every queryset ({kind: queryset}) as `columns`, in order, as one
    UNION ALL; only the columns asked for are annotated, so no join is made for nothing."""
    parts, params = [], []
    for kind, queryset in querysets.items():
        names = ["title_" if (kind == EXPERT and name == "title") else name for name in columns]
        expressions = _columns(kind)
        queryset = queryset.annotate(**{n: expressions[n] for n in names if n in expressions})
        names = ["pk" if name == "id" else name for name in names]
        try:
            sql, part_params = queryset.order_by().values_list(*names).query.sql_with_params()
        except EmptyResultSet:
            continue
        parts.append(sql)
        params.extend(part_params)
    return " UNION ALL ".join(parts), params


@functools.lru_cache(maxsize=1024)
def _parsed(text: str) -> str:
    """`text` as PostgreSQL's English configuration parses it (``websearch_to_tsquery``), in
    the text form of a ``tsquery``; empty when it finds no word to search for. The answer
    depends on the text alone, so each process asks once per text."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT CASE WHEN numnode(q) > 0 THEN q::text ELSE '' END "
            "FROM websearch_to_tsquery(%s::regconfig, %s) q",
            [CONFIG, text],
        )
        return cursor.fetchone()[0]


# A tsquery's text: quoted lexemes (with '' and backslash escapes inside), phrase operators
# (<-> and <N>), the other operators and parentheses, spaces.
_TSQUERY_TOKEN = re.compile(r"'(?:[^'\\]|''|\\.)*'(?::[*A-D]+)?|<(?:-|\d+)>|[!&|()]|\s+")


def without_phrases(tsquery: str) -> str | None:
    """`tsquery` (text) with each phrase operator replaced by AND: a query that every match of
    `tsquery` also matches and that a GIN index answers exactly, without reading any vector
    (word positions are not in the index, so a phrase makes it read the vector of every row
    with the words). None when `tsquery` has no phrase, or has a negation: the words of a
    negated phrase apart would exclude more than the phrase does."""
    tokens = _TSQUERY_TOKEN.findall(tsquery)
    if "".join(tokens) != tsquery or "!" in tokens:
        return None
    relaxed = ["&" if token.startswith("<") else token for token in tokens]
    return "".join(relaxed) if relaxed != tokens else None


# For the search statements only, on PostgreSQL:
# - no JIT compilation: the planner weighs a statement over many hits as worth compiling, and
#   compiling it takes longer (0.4 to 0.5 s) than running it;
# - no sequential scan where an index serves: for a word in most articles the planner prefers
#   reading the whole table and testing every row's vector, which it costs as cheap though
#   the vectors are stored apart (TOAST) and must be fetched and decompressed; the GIN index's
#   exact bitmap needs no vector at all (3 times faster at 90,000 hits). Tables no index
#   serves are still read whole.
# - room to count: work_mem for the hits a common word finds (tens of thousands of rows),
#   which would otherwise be written to disk and read back once per facet.
SEARCH_SETTINGS = (
    "SELECT set_config('jit', 'off', true), set_config('enable_seqscan', %s, true), "
    "set_config('work_mem', '32MB', true)"
)


def _run(sql: str, params: list, scan: bool = False) -> list[tuple]:
    """The rows of one search statement, with `SEARCH_SETTINGS` on PostgreSQL; with `scan`,
    sequential scans stay allowed (no vector is tested: reading a narrow table whole is
    then the quickest way to filters that match much of it)."""
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    if connection.in_atomic_block:
        # Local settings last until the transaction ends, so inside one already they are
        # taken back by rolling back to a savepoint: the statement wrote nothing.
        savepoint = transaction.savepoint()
        try:
            return _read_with_settings(sql, params, scan)
        finally:
            transaction.savepoint_rollback(savepoint)
    with transaction.atomic():
        return _read_with_settings(sql, params, scan)


def _read_with_settings(sql: str, params: list, scan: bool) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(SEARCH_SETTINGS, ["on" if scan else "off"])
        cursor.execute(sql, params)
        return cursor.fetchall()


def visible_entry_sql(types: list[str], now=None, filters=None) -> tuple[str, list]:
    """The SQL condition, with its parameters, that keeps the search entries of `types` that
    readers may see: the rules of `Article.objects.published()`,
    `Publication.objects.published()` and `Expert.objects.published()` on the entries' copies
    of the columns they read (tests/test_search_entries.py holds them equal), published
    within `filters`' years if it has any (which leaves experts out); empty for no type."""
    now = now or timezone.now()
    start, end = filters._bounds() if filters else (None, None)
    year_from, year_to = (filters.year_from, filters.year_to) if filters else (None, None)
    parts, params = [], []
    if ARTICLE in types:
        part = ["type = %s", "status = %s", "published_at <= %s"]
        params += [ARTICLE, Article.Status.PUBLISHED.value, now]
        for condition, bound in (("published_at >= %s", start), ("published_at < %s", end)):
            if bound:
                part.append(condition)
                params.append(bound)
        parts.append(part)
    if PUBLICATION in types:
        part = ["type = %s", "status = %s", "published_on <= %s"]
        params += [PUBLICATION, Publication.Status.PUBLISHED.value, timezone.localdate(now)]
        if year_from:
            part.append("published_on >= %s")
            params.append(datetime.date(year_from, 1, 1))
        if year_to:
            part.append("published_on <= %s")
            params.append(datetime.date(year_to, 12, 31))
        parts.append(part)
    if EXPERT in types and not (year_from or year_to):
        parts.append(["type = %s", "status = %s"])
        params += [EXPERT, ACTIVE]
    return " OR ".join(f"({' AND '.join(part)})" for part in parts), params


class Search:
    """A search as the URL asks for it: `count`, `facets()` and `page(offset, limit)`.

    What every page of a search needs but the page itself (the facet counts, hence the total,
    and the first `LEAD` places of the order) comes from one statement over the hits, cached
    per search and content state (`charhar.pagecache.content_state`): a repeated search, or
    its next page, only reads the rows it shows. Any content change, or a scheduled one
    coming due, makes every cached search new.
    """

    def __init__(self, query: str, filters: Filters, sort: str = ""):
        self.query = clean_query(query)
        self.groups = parse_query(self.query)
        self.filters = filters
        self.sort = sort if sort in ("relevance", "date") else ""
        if not self.groups:
            self.sort = "date"
        elif not self.sort:
            self.sort = "relevance"
        self.full_text = False
        self.parsed = ""
        if self.groups and connection.vendor == "postgresql":
            self.parsed = _parsed(self.query)
            self.full_text = bool(self.parsed)

    # The three querysets -------------------------------------------------------------------

    def _match(self, queryset, kind: str):
        """Substring matching: full-text searches find their hits in the search entries."""
        if not self.groups:
            return queryset.annotate(score=Value(0.0, output_field=FloatField()))
        return queryset.filter(_simple_match(kind, self.groups)).annotate(
            score=_simple_score(kind, self.groups)
        )

    def _in(self, queryset, through, owner: str, **lookup):
        return queryset.filter(pk__in=through.objects.filter(**lookup).values(owner))

    def _articles(self):
        f = self.filters
        articles = Article.objects.published()
        if f.kind:
            articles = articles.filter(kind=f.kind)
        if f.section:
            articles = articles.filter(section=f.section)
        for topic in f.topics:
            articles = self._in(articles, Article.topics.through, "article_id", topic=topic)
        for region in f.regions:
            articles = self._in(articles, Article.regions.through, "article_id", region=region)
        for expert in f.experts:
            articles = self._in(articles, ArticleAuthor, "article_id", expert=expert)
        start, end = f._bounds()
        if start:
            articles = articles.filter(published_at__gte=start)
        if end:
            articles = articles.filter(published_at__lt=end)
        return self._match(articles, ARTICLE)

    def _publications(self):
        f = self.filters
        publications = Publication.objects.published()
        if f.series:
            publications = publications.filter(series=f.series)
        through_topics, through_regions = Publication.topics.through, Publication.regions.through
        for topic in f.topics:
            publications = self._in(publications, through_topics, "publication_id", topic=topic)
        for region in f.regions:
            publications = self._in(publications, through_regions, "publication_id", region=region)
        for expert in f.experts:
            publications = self._in(
                publications, PublicationAuthor, "publication_id", expert=expert
            )
        if f.year_from:
            publications = publications.filter(published_on__year__gte=f.year_from)
        if f.year_to:
            publications = publications.filter(published_on__year__lte=f.year_to)
        return self._match(publications, PUBLICATION)

    def _experts(self):
        f = self.filters
        experts = Expert.objects.published()
        for topic in f.topics:
            experts = self._in(experts, Expert.topics.through, "expert_id", topic=topic)
        for region in f.regions:
            experts = self._in(experts, Expert.regions.through, "expert_id", region=region)
        return self._match(experts, EXPERT)

    @property
    def _from_entries(self) -> bool:
        """Whether the hits come from the search entries (PostgreSQL, a search the index can
        answer or nothing typed) rather than from the content tables."""
        return connection.vendor == "postgresql" and (self.full_text or not self.groups)

    def _entry_hits(self) -> tuple[str, list]:
        """The SQL of the hits (`ENTRY_COLUMNS`) from the search entries. Written out rather
        than built with the ORM, which took longer to build it than the index takes to find
        a search's hits."""
        f = self.filters
        visible, params = visible_entry_sql(f.types(), filters=f)
        if not visible:
            return "", []
        year_sql, year_params = connection.ops.datetime_extract_sql(
            "year", "published_at", (), timezone.get_current_timezone_name()
        )
        params = [PUBLICATION, *year_params, *params]
        conditions = [f"({visible})"]
        for column, value in (
            ("kind", f.kind),
            ("section_id", f.section.pk if f.section else None),
            ("series_id", f.series.pk if f.series else None),
        ):
            if value:
                conditions.append(f"{column} = %s")
                params.append(value)
        for column, chosen in (
            ("topic_ids", f.topics),
            ("region_ids", f.regions),
            ("expert_ids", f.experts),
        ):
            if chosen:
                conditions.append(f"{column} @> %s::bigint[]")
                params.append([row.pk for row in chosen])
        source = f"{ENTRY_TABLE} WHERE {{}}"
        if self.groups:
            relaxed = without_phrases(self.parsed)
            conditions.append("search_vector @@ %s::tsquery")
            params.append(relaxed or self.parsed)
            if relaxed:
                # The index found the rows with the words, every other filter narrows them
                # first, and only then is the phrase checked, in the vectors of those left:
                # behind a fence (OFFSET 0) the planner cannot reorder, for no index
                # answers a phrase.
                source = (
                    f"(SELECT *, ctid FROM {ENTRY_TABLE} WHERE {{}} OFFSET 0) e "  # noqa: S608
                    "WHERE search_vector @@ %s::tsquery"
                )
                params.append(self.parsed)
        sql = (
            "SELECT type, object_id, kind, 0.0, "  # noqa: S608 - names and constants only
            "COALESCE(published_at, CAST(published_on AS timestamp with time zone)), "
            f"CASE WHEN type = %s THEN EXTRACT(YEAR FROM published_on) ELSE {year_sql} END, "
            "section_id, series_id, topic_ids, region_ids, expert_ids, ctid "
            f"FROM {source.format(' AND '.join(conditions))}"
        )
        return sql, params

    def _hits(self) -> dict[str, tuple[str, list]]:
        """The SQL of each model's filtered hits (`HIT_COLUMNS`), by kind of hit."""
        builders = {
            ARTICLE: self._articles,
            PUBLICATION: self._publications,
            EXPERT: self._experts,
        }
        parts = {}
        for kind in self.filters.types():
            sql, params = _union({kind: builders[kind]()}, HIT_COLUMNS)
            if sql:
                parts[kind] = (sql, params)
        return parts

    def _with(self, need: int) -> tuple[str, list, list[str]]:
        """``WITH`` the hits (``hits``) and `ordered` (type, id, date, score, later), enough of
        it for the first `need` places; with the kinds of hit that can be found. From the
        search entries (`_entry_with`) on PostgreSQL for a full-text search or none typed;
        otherwise from the content tables, each model's hits apart (``hits_article`` …, so
        the planner knows how many rows each join starts from), scored by substring matching.
        """
        if self._from_entries:
            return self._entry_with(need)
        parts = self._hits()
        if not parts:
            return "", [], []
        columns = ", ".join(HIT_COLUMNS)
        ctes, params = [], []
        for kind, (sql, part_params) in parts.items():
            ctes.append(f"hits_{kind} ({columns}) AS ({sql})")
            params.extend(part_params)
        every = " UNION ALL ".join(f"SELECT * FROM hits_{kind}" for kind in parts)  # noqa: S608
        # Read through, not copied: PostgreSQL would otherwise store every hit a second time.
        inline = "NOT MATERIALIZED " if connection.vendor == "postgresql" else ""
        ctes.append(f"hits ({columns}) AS {inline}({every})")
        ctes.append(SCORED_ORDER)
        return "WITH " + ", ".join(ctes) + " ", params, list(parts)

    def _entry_with(self, need: int) -> tuple[str, list, list[str]]:
        """`_with` from the search entries: ``hits`` (`ENTRY_COLUMNS`, the link ids as
        arrays) and `ordered`, ranked (`_ranked`) for a full-text search by relevance."""
        sql, params = self._entry_hits()
        if not sql:
            return "", [], []
        kinds = self.filters.types()
        columns = ", ".join(ENTRY_COLUMNS)
        ctes = [f"hits ({columns}) AS MATERIALIZED ({sql})"]
        params = list(params)
        if self.sort == "relevance" and self.full_text:
            ctes += self._ranked(kinds, need, params)
        else:
            ctes.append(SCORED_ORDER)
        return "WITH " + ", ".join(ctes) + " ", params, kinds

    def _ranked(self, kinds, need: int, params: list) -> list[str]:
        """The CTEs of `ordered` (type, id, date, score, later) by relevance over the entries'
        ``hits``; adds the parameter it needs to `params`.

        Of each kind's hits the newest `RANKED` are ranked, reading their vectors by the
        entry's place in the table (``ctid``, in the same statement), and the next `need`
        follow them, newest first (`later`): one top-N sort per kind finds both, so nothing
        sorts every hit."""
        params.append(self.parsed)
        parts = []
        for kind in kinds:
            newest = (
                "SELECT *, ROW_NUMBER() OVER (ORDER BY date DESC NULLS LAST, id DESC) AS place "  # noqa: S608
                f"FROM (SELECT type, id, date, tid FROM hits WHERE type = '{kind}' "
                f"ORDER BY date DESC NULLS LAST, id DESC LIMIT {RANKED + int(need)}) n"
            )
            parts.append(
                "SELECT c.type, c.id, c.date, "  # noqa: S608
                f"CASE WHEN c.place <= {RANKED} THEN (SELECT ts_rank(t.search_vector, tsq.query) "
                f"FROM {ENTRY_TABLE} t WHERE t.ctid = c.tid) "
                f"ELSE CAST(0 AS REAL) END, CASE WHEN c.place <= {RANKED} THEN 0 ELSE 1 END "
                f"FROM ({newest}) c, tsq"
            )
        return [
            "tsq (query) AS (SELECT CAST(%s AS tsquery))",
            f"ordered (type, id, date, score, later) AS ({' UNION ALL '.join(parts)})",
        ]

    # Counts, facets and the order ----------------------------------------------------------

    def _cache_key(self, *extra) -> str:
        """This search's entry in the cache, for the current content state."""
        version, boundary = content_state()
        f = self.filters
        described = (
            connection.vendor,
            self.query,
            self.sort,
            f.kind,
            f.section.pk if f.section else None,
            f.series.pk if f.series else None,
            [row.pk for row in f.topics],
            [row.pk for row in f.regions],
            [row.pk for row in f.experts],
            f.year_from,
            f.year_to,
            *extra,
        )
        stamp = boundary.isoformat() if boundary else ""
        digest = hashlib.sha256(f"{version}|{stamp}|{described!r}".encode()).hexdigest()[:32]
        return f"charhar:search:{digest}"

    @cached_property
    def _summary(self) -> dict:
        """{"full_text", "facets": rows (dimension, id, name, slug, count), "lead": the first
        places of the order as (type, id)}, from the cache or from one statement."""
        key = self._cache_key()
        summary = cache.get(key)
        if summary is None:
            summary = self._read_summary()
            if self.full_text and _SYMBOLS.search(self.query) and not summary["facets"]:
                # Nothing in the index for a query with symbols: the parser may read them
                # differently in the text (such as "<script>" in a title) than in the query, so
                # substring matching gets a try; plain words not indexed are simply not there.
                self.full_text = False
                summary = self._read_summary()
            cache.set(key, summary, timeout=settings.PAGE_CACHE_SECONDS or 600)
        self.full_text = summary["full_text"]
        return summary

    def _read_summary(self) -> dict:
        summary = {"full_text": self.full_text, "facets": [], "lead": []}
        with_sql, params, kinds = self._with(LEAD)
        if not with_sql:
            return summary
        keys = ORDER_KEYS[self.sort]
        lead = (
            f"SELECT 'hit', o.id, o.type, NULL, ROW_NUMBER() OVER (ORDER BY {keys}) "  # noqa: S608
            f"FROM (SELECT * FROM ordered ORDER BY {keys} LIMIT {LEAD}) o"
        )
        if self._from_entries:
            groups, facets = _entry_facet_sql()
            with_sql = f"{with_sql.rstrip()}, {groups} "
        else:
            facets = _facet_sql(kinds)
        rows = _run(f"{with_sql}{facets} UNION ALL {lead}", params, scan=not self.full_text)
        summary["facets"] = [row for row in rows if row[0] != "hit"]
        summary["lead"] = [
            (row[2], row[1])
            for row in sorted((row for row in rows if row[0] == "hit"), key=lambda row: row[4])
        ]
        return summary

    def _places(self, offset: int, limit: int) -> list[tuple[str, int]]:
        """(type, id) of the hits at `offset` to `offset + limit` in the order."""
        lead = self._summary["lead"]
        if offset + limit <= len(lead) or len(lead) >= self.count:
            return lead[offset : offset + limit]
        key = self._cache_key(offset, limit)
        places = cache.get(key)
        if places is None:
            with_sql, params, _kinds = self._with(offset + limit)
            rows = _run(
                f"{with_sql}SELECT type, id FROM ordered "  # noqa: S608
                f"ORDER BY {ORDER_KEYS[self.sort]} LIMIT %s OFFSET %s",
                [*params, limit, offset],
                scan=not self.full_text,
            )
            places = [tuple(row) for row in rows]
            cache.set(key, places, timeout=settings.PAGE_CACHE_SECONDS or 600)
        return places

    @cached_property
    def count(self) -> int:
        return sum(n for dim, _, _, _, n in self._summary["facets"] if dim == "kind")

    def facets(self) -> dict[str, list[FacetValue]]:
        f = self.filters
        counts: dict[str, dict] = defaultdict(dict)
        names = {}
        for dim, key, label, slug, n in self._summary["facets"]:
            if dim == "kind":
                counts[dim][label] = n
            elif dim == "expert":
                counts[dim][slug] = n
                names[slug] = label
            elif key is not None:
                counts[dim][int(key)] = n

        def rows(model, dim, chosen):
            chosen_ids = {row.pk for row in chosen}
            return [
                FacetValue(row.slug, row.name, counts[dim].get(row.pk, 0), row.pk in chosen_ids)
                for row in f.taxonomy(model)
                if counts[dim].get(row.pk) or row.pk in chosen_ids
            ]

        experts = sorted(counts["expert"].items(), key=lambda item: (-item[1], names[item[0]]))
        chosen_experts = {e.slug for e in f.experts}
        top = [slug for slug, _ in experts[:EXPERT_FACET_SIZE]]
        top += [slug for slug in chosen_experts if slug not in top and slug in names]
        years = sorted(counts["year"].items(), reverse=True)
        return {
            "kind": [
                FacetValue(kind, label, counts["kind"].get(kind, 0), kind == f.kind)
                for kind, label in KIND_LABELS.items()
                if counts["kind"].get(kind) or kind == f.kind
            ],
            "section": rows(Section, "section", [f.section] if f.section else []),
            "topic": rows(Topic, "topic", f.topics),
            "region": rows(Region, "region", f.regions),
            "expert": [
                FacetValue(slug, names[slug], counts["expert"][slug], slug in chosen_experts)
                for slug in top
            ],
            "series": rows(Series, "series", [f.series] if f.series else []),
            "year": [FacetValue(str(year), str(year), n) for year, n in years],
        }

    def page(self, offset: int, limit: int) -> list[Hit]:
        if not self.count:
            return []
        hits = self._read_hits(self._places(offset, limit))
        taxonomy = self.filters.taxonomy
        sections, series = _by_id(taxonomy(Section)), _by_id(taxonomy(Series))
        for hit in hits:
            hit.section = sections.get(hit.section_id)
            hit.series = series.get(hit.series_id)
            hit.date = _aware(hit.date)
            hit.event_starts = _aware(hit.event_starts)
            if hit.type == PUBLICATION and hit.date:
                hit.date = hit.date.astimezone(datetime.UTC).date()  # a day, not a moment
        self._add_credits(hits)
        words = positive_words(self.groups)
        matcher = _Matcher(words) if words else None
        urls, labels = SlugUrls(), {}
        date_format = get_format("DATE_FORMAT")
        for hit in hits:
            hit.snippet = snippet(hit.summary, hit.body, words, matcher)
            hit.url = urls(MODELS[hit.type], hit.slug)
            if hit.kind not in labels:
                labels[hit.kind] = str(KIND_LABELS.get(hit.kind, hit.kind))
            hit.kind_label = labels[hit.kind]
            if hit.date:
                hit.date_iso, hit.date_text = _date_texts(hit.date, date_format)
            for credit in hit.credits:
                credit.url = urls(Expert, credit.slug)
        return hits

    def _read_hits(self, places: list[tuple[str, int]]) -> list[Hit]:
        """The rows of the hits at `places`, in that order, in one query by primary key."""
        ids = defaultdict(list)
        for kind, pk in places:
            ids[kind].append(pk)
        sql, params = _union(
            {
                kind: MODELS[kind].objects.published().filter(pk__in=pks)
                for kind, pks in ids.items()
            },
            SHOWN_COLUMNS,
        )
        if not sql:
            return []
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            found = {(row[0], row[1]): row for row in cursor.fetchall()}
        return [
            Hit(
                **{
                    name: value
                    for name, value in zip(SHOWN_COLUMNS, found[place], strict=True)
                    if name != "id"
                },
                pk=place[1],
            )
            for place in places
            if place in found
        ]

    def _add_credits(self, hits: list[Hit]) -> None:
        """Every hit's credited experts, in byline order, in one query (written out: the ORM
        took longer to build it than the database to answer it)."""
        ids = defaultdict(list)
        for hit in hits:
            ids[hit.type].append(hit.pk)
        qn = connection.ops.quote_name
        parts, params = [], []
        for kind, through, owner, role in (
            (ARTICLE, ArticleAuthor, "article_id", "'author'"),
            (PUBLICATION, PublicationAuthor, "publication_id", "t.role"),
        ):
            if ids[kind]:
                marks = ", ".join(["%s"] * len(ids[kind]))
                parts.append(
                    f"SELECT '{kind}', t.{owner}, e.name, e.slug, e.is_active, "  # noqa: S608
                    f"{role}, t.{qn('order')}, t.id FROM {qn(through._meta.db_table)} t "
                    f"JOIN {qn(Expert._meta.db_table)} e ON e.id = t.expert_id "
                    f"WHERE t.{owner} IN ({marks})"
                )
                params.extend(ids[kind])
        if not parts:
            return
        with connection.cursor() as cursor:
            cursor.execute(" UNION ALL ".join(parts), params)
            rows = cursor.fetchall()
        by_owner = defaultdict(list)
        for owner_type, owner, name, slug, active, role, _order, _pk in sorted(
            rows, key=lambda row: (row[6], row[7])
        ):
            by_owner[owner_type, owner].append(Credit(name, slug, bool(active), role))
        for hit in hits:
            hit.credits = by_owner.get((hit.type, hit.pk), [])


def _date_texts(value, date_format: str) -> tuple[str, str]:
    """A result's date for ``<time datetime>`` and for readers (`date_format`, the active
    language's ``DATE_FORMAT``, read once per page): a publication's day as it is, an
    article's moment in the current time zone, as the ``date`` template filter shows it."""
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value)
        # The filter's "Y-m-d\TH:i:sO", written out: the offset in hours and minutes.
        offset = int(value.utcoffset().total_seconds())
        sign, offset = "-" if offset < 0 else "+", abs(offset)
        iso = f"{value:%Y-%m-%dT%H:%M:%S}{sign}{offset // 3600:02d}{offset // 60 % 60:02d}"
        return iso, dateformat.format(value, date_format)
    return value.isoformat(), dateformat.format(value, date_format)


def _aware(value):
    if value is None:
        return None
    if isinstance(value, str):  # SQLite answers a raw query's datetimes as text
        value = datetime.datetime.fromisoformat(value)
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        value = datetime.datetime.combine(value, datetime.time())
    if timezone.is_naive(value):
        value = timezone.make_aware(value, datetime.UTC)
    return value


def _facet_sql(kinds: list[str]) -> str:
    """Every facet's counts over the hits, as rows (dimension, id, name, slug, count), for
    the `kinds` of hit the search has (``hits_<kind>``).

    The SQL is made of the models' table and column names and constants, never of input:
    what readers type reaches the database only as parameters of the ORM-built hits.
    """
    qn = connection.ops.quote_name

    def m2m(through, owner_column, value_column, kind):
        return (
            f"SELECT t.{qn(value_column)} AS value_id FROM hits_{kind} h "  # noqa: S608
            f"JOIN {qn(through._meta.db_table)} t ON t.{qn(owner_column)} = h.id"
        )

    def by_relation(dim, relations):
        parts = [
            m2m(field.remote_field.through, field.m2m_column_name(), field.m2m_reverse_name(), kind)
            for kind, field in relations
            if kind in kinds
        ]
        return (
            f"SELECT '{dim}' AS dim, x.value_id AS id, NULL AS name, NULL AS slug, "  # noqa: S608
            f"COUNT(*) AS n FROM ({' UNION ALL '.join(parts)}) x GROUP BY x.value_id"
        )

    def plain(dim, column):
        return (
            f"SELECT '{dim}', {column}, NULL, NULL, COUNT(*) FROM hits "  # noqa: S608
            f"WHERE {column} IS NOT NULL GROUP BY {column}"
        )

    credited = []
    if ARTICLE in kinds:
        credited.append(
            "SELECT value_id FROM ("  # noqa: S608
            f"{m2m(ArticleAuthor, 'article_id', 'expert_id', ARTICLE)}) a"
        )
    if PUBLICATION in kinds:
        # A publication may credit one expert in two roles: it counts once.
        credited.append(
            "SELECT value_id FROM (SELECT DISTINCT t.expert_id AS value_id, "  # noqa: S608
            f"t.publication_id FROM hits_{PUBLICATION} h "
            f"JOIN {qn(PublicationAuthor._meta.db_table)} t ON t.publication_id = h.id) p"
        )
    facets = [
        "SELECT 'kind', NULL, kind, NULL, COUNT(*) FROM hits GROUP BY kind",
        plain("section", "section_id"),
        plain("series", "series_id"),
        plain("year", "year"),
    ]
    for dim in ("topics", "regions"):
        facets.append(
            by_relation(
                dim[:-1],
                [
                    (kind, model._meta.get_field(dim))
                    for kind, model in (
                        (ARTICLE, Article),
                        (EXPERT, Expert),
                        (PUBLICATION, Publication),
                    )
                ],
            )
        )
    if credited:
        facets.append(
            f"SELECT 'expert', e.id, e.name, e.slug, COUNT(*) FROM ("  # noqa: S608
            f"{' UNION ALL '.join(credited)}"
            f") x JOIN {qn(Expert._meta.db_table)} e ON e.id = x.value_id AND e.is_active "
            f"GROUP BY e.id, e.name, e.slug"
        )
    return " UNION ALL ".join(facets)


def _entry_facet_sql() -> tuple[str, str]:
    """`_facet_sql` over hits from the search entries: the CTE ``g`` to add to the
    statement's ``WITH``, and the rows read from it. One pass over the hits: a single
    aggregate groups the hits twice at once (``GROUPING SETS``): by all their columns but the
    experts' (hits share kind, section, series, year, topics and regions, so these groups
    are far fewer than the hits), and by their experts' arrays as they are. Each facet is
    then summed from those groups, a link facet's arrays unnested. No link table is read;
    experts are named (and inactive ones left out) after counting."""
    qn = connection.ops.quote_name
    shared = ("kind", "section_id", "series_id", "year", "topic_ids", "region_ids")
    groups = (
        f"g AS (SELECT GROUPING(expert_ids) = 0 AS by_expert, {', '.join(shared)}, "  # noqa: S608
        f"expert_ids, COUNT(*) AS n FROM hits "
        f"GROUP BY GROUPING SETS (({', '.join(shared)}), (expert_ids)))"
    )
    facets = [
        *(
            f"SELECT '{name}', {key}, {label}, NULL, CAST(SUM(n) AS bigint) FROM g "  # noqa: S608
            f"WHERE NOT by_expert AND {column} IS NOT NULL GROUP BY {column}"
            for name, column, key, label in (
                ("kind", "kind", "NULL", "kind"),
                ("section", "section_id", "section_id", "NULL"),
                ("series", "series_id", "series_id", "NULL"),
                ("year", "year", "year", "NULL"),
            )
        ),
        *(
            f"SELECT '{name}', v, NULL, NULL, CAST(SUM(n) AS bigint) "  # noqa: S608
            f"FROM (SELECT unnest({column}) AS v, n FROM g WHERE NOT by_expert) x GROUP BY v"
            for name, column in (("topic", "topic_ids"), ("region", "region_ids"))
        ),
        "SELECT 'expert', e.id, e.name, e.slug, x.n FROM ("  # noqa: S608
        "SELECT v, CAST(SUM(n) AS bigint) AS n FROM (SELECT unnest(expert_ids) AS v, n FROM g "
        "WHERE by_expert) u GROUP BY v"
        f") x JOIN {qn(Expert._meta.db_table)} e ON e.id = x.v AND e.is_active",
    ]
    return groups, " UNION ALL ".join(facets)


# --- Snippets ---------------------------------------------------------------------------------

SNIPPET_CHARS = 240
_WORD = re.compile(r"\w+")


@functools.lru_cache(maxsize=1)
def _stemmer():
    import snowballstemmer

    return snowballstemmer.stemmer("english")


@functools.lru_cache(maxsize=50_000)
def _stem(word: str) -> str:
    return _stemmer().stemWord(word)


class _Matcher:
    """Whether a word of the text is one the reader searched for: the same English stem
    (what PostgreSQL matched) or containing a typed word (what substring matching found)."""

    def __init__(self, words: list[str]):
        self.words = [w.lower() for w in words if w]
        self.stems = {_stem(w) for w in self.words}
        self.seen: dict[str, bool] = {}  # a page's snippets repeat the same words often

    def __call__(self, word: str) -> bool:
        found = self.seen.get(word)
        if found is None:
            lower = word.lower()
            found = _stem(lower) in self.stems or any(w in lower for w in self.words)
            self.seen[word] = found
        return found


def _first_match(text: str, matcher) -> int | None:
    """Where the first word `matcher` accepts begins in `text` (the matcher remembers the
    words it has judged, so a page's snippets judge each distinct word once)."""
    for word in _WORD.finditer(text):
        if matcher(word.group()):
            return word.start()
    return None


def snippet(summary: str, body: str, words: list[str], matcher=None) -> str:
    """A short passage of the summary or body around the first searched word, escaped, with
    the searched words in <mark>. A page's snippets may share one `_Matcher(words)`."""
    if matcher is None and words:
        matcher = _Matcher(words)
    summary = " ".join(summary.split())
    found = _first_match(summary, matcher) if summary and matcher else None
    if found is not None:
        text, start = summary, found
    else:
        # The body's text is only made when the summary has no searched word.
        plain = " ".join(html_to_text(body).split()) if body else ""
        text, start = summary or plain, 0
        if matcher and plain:
            found = _first_match(plain, matcher)
            if found is not None:
                text, start = plain, found
    if not text:
        return ""
    # Begin a little before the match, at a word boundary; end at one too.
    begin = max(0, start - SNIPPET_CHARS // 4)
    if begin:
        space = text.find(" ", begin)
        begin = space + 1 if 0 <= space < start else begin
    end = begin + SNIPPET_CHARS
    if end < len(text):
        space = text.rfind(" ", begin, end)
        end = space if space > begin else end
    passage = text[begin:end]
    return mark_safe(  # noqa: S308 - every piece of the text is escaped
        ("… " if begin else "") + highlight(passage, matcher) + (" …" if end < len(text) else "")
    )


def highlight(text: str, matcher) -> str:
    """`text` escaped, with the words `matcher` accepts wrapped in <mark>."""
    if matcher is None:
        return escape(text)
    out, last = [], 0
    for match in _WORD.finditer(text):
        if matcher(match.group()):
            out.append(escape(text[last : match.start()]))
            out.append(f"<mark>{escape(match.group())}</mark>")
            last = match.end()
    out.append(escape(text[last:]))
    return "".join(out)


# --- The page ---------------------------------------------------------------------------------


class SearchResults:
    """What the paginator pages through: the count the facets already gave, pages on demand."""

    def __init__(self, search: Search):
        self.search = search

    def count(self) -> int:
        return self.search.count

    def __len__(self) -> int:
        return self.search.count

    def __getitem__(self, key):
        if not isinstance(key, slice):
            raise TypeError("Search results are read a page at a time.")
        start = key.start or 0
        return self.search.page(start, (key.stop or start) - start)


MULTIPLE = ("topic", "region", "expert")
FACET_TITLES = {
    "kind": _("Kind"),
    "section": _("News & Events section"),
    "topic": _("Topic"),
    "region": _("Region"),
    "expert": _("Expert"),
    "series": _("Publication series"),
    "year": _("Year"),
}


def _link(params, remove=(), **changes) -> str:
    """The current search's URL with `changes` made, on its first page. A page has a link
    for every facet value: plain lists, not copies of the QueryDict, keep that cheap."""
    query = {name: list(values) for name, values in params.lists() if name != "page"}
    for name, value in remove:
        if name == "year":
            query.pop("year_from", None)
            query.pop("year_to", None)
        else:
            query[name] = [v for v in query.get(name, []) if v != value]
    for name, value in changes.items():
        if name in MULTIPLE:
            query[name] = [*query.get(name, []), value]
        else:
            query[name] = [value]
    return "?" + urlencode([(name, value) for name, values in query.items() for value in values])


def facet_links(params, facets: dict[str, list[FacetValue]]) -> list[dict]:
    """Each facet with its values, counts and the link that adds or removes the value."""
    groups = []
    for name, values in facets.items():
        if not values:
            continue
        rows = []
        for value in values:
            if value.selected:
                url = _link(params, remove=[(name, value.key)])
            elif name == "year":
                url = _link(params, year_from=value.key, year_to=value.key)
            else:
                url = _link(params, **{name: value.key})
            rows.append(
                {"label": value.label, "count": value.count, "selected": value.selected, "url": url}
            )
        groups.append({"name": name, "title": FACET_TITLES[name], "values": rows})
    return groups


def active_filter_links(params, filters: Filters) -> list[dict]:
    """The filters in force, each with the link that removes it."""
    chosen = []
    if filters.kind:
        chosen.append(("kind", filters.kind, KIND_LABELS[filters.kind]))
    if filters.section:
        chosen.append(("section", filters.section.slug, filters.section.name))
    for name, rows in (("topic", filters.topics), ("region", filters.regions)):
        chosen.extend((name, row.slug, row.name) for row in rows)
    chosen.extend(("expert", expert.slug, expert.name) for expert in filters.experts)
    if filters.series:
        chosen.append(("series", filters.series.slug, filters.series.name))
    if filters.years:
        if filters.year_from and filters.year_to:
            label = (
                str(filters.year_from)
                if filters.year_from == filters.year_to
                else f"{filters.year_from}–{filters.year_to}"
            )
        elif filters.year_from:
            label = _("since %(year)s") % {"year": filters.year_from}
        else:
            label = _("until %(year)s") % {"year": filters.year_to}
        chosen.append(("year", "", label))
    return [
        {
            "title": FACET_TITLES[name],
            "label": label,
            "url": _link(params, remove=[(name, key)]),
        }
        for name, key, label in chosen
    ]
