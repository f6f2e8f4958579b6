"""Hostile input on every public address and form: the answer is a normal page, a redirect, a
400, a 404, a 405 or a 429, never a 500, and no payload comes back unescaped.

The addresses are discovered from the URL resolver (a new pattern without a way to fill its
parameters fails `test_every_public_pattern_is_fuzzed`), filled with real rows of a small
dataset; the forms are discovered from the pages themselves. Property-based tests
(hypothesis) drive the sanitizer and the query-string handling.
"""

import datetime
import re
from urllib.parse import quote, urlencode

import lxml.html
import pytest
from django.http import Http404, QueryDict
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from articles.factories import (
    EventDetailsFactory,
    PublishedArticleFactory,
    SectionFactory,
)
from articles.models import Article
from charhar import search
from charhar.factories import OfficeFactory, PageFactory, RegionFactory, TopicFactory
from charhar.sanitize import clean_html
from charhar.views import paginate
from experts.factories import ExpertFactory
from newsletter.factories import ConfirmedSubscriberFactory, PendingSubscriberFactory
from newsletter.tokens import make_confirmation_token, make_subscriber_token
from publications.factories import PublishedPublicationFactory, SeriesFactory

ALLOWED = {200, 301, 302, 304, 400, 404, 405, 429}

# Values as a client could type them; each is sent percent-encoded.
TEXT_PAYLOADS = [
    "A" * 4000,
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "' OR 1=1--",
    "1; DROP TABLE articles_article;--",
    "../../etc/passwd",
    "..%2F..%2Fetc%2Fpasswd",
    "-1",
    "0",
    "99999999999999999999",
    "1e400",
    "NaN",
    "²³",  # digits to str.isdigit(), not to int()
    "\u202eevil",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ☃",
    " ",
    "%",
]
# Raw query-string or path pieces: a NUL, invalid UTF-8, a lone surrogate's escapes.
RAW_PAYLOADS = ["%00", "a%00b", "%ff%fe", "%c3%28", "%ed%a0%80", "%C0%AF"]
# The markup that must never come back as markup.
REFLECTED = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>"]

# Every query parameter a public view reads (listings, filters, search, an expert's two
# paginations, the feeds), and one no view reads.
QUERY_PARAMETERS = [
    "page",
    "q",
    "sort",
    "kind",
    "section",
    "series",
    "topic",
    "region",
    "expert",
    "year_from",
    "year_to",
    "publications_page",
    "unknown",
]


@pytest.fixture
def dataset(db):
    """A small site: one of everything a public address can name."""
    topic, region = TopicFactory(), RegionFactory()
    section = SectionFactory()
    expert = ExpertFactory()
    expert.topics.set([topic])
    expert.regions.set([region])
    series = SeriesFactory()
    publication = PublishedPublicationFactory(series=series, authors=[expert])
    publication.topics.set([topic])
    articles = []
    for kind in (Article.Kind.RESEARCH, Article.Kind.NEWS, Article.Kind.EVENT):
        article = PublishedArticleFactory(
            kind=kind, section=section, topics=[topic], regions=[region], authors=[expert]
        )
        article.tags.add("diplomacy")
        articles.append(article)
    event = articles[-1]
    EventDetailsFactory(
        article=event,
        starts_at=timezone.now() + datetime.timedelta(days=3),
        ends_at=timezone.now() + datetime.timedelta(days=3, hours=2),
    )
    page = PageFactory()
    OfficeFactory()
    pending = PendingSubscriberFactory(confirmation_sent_at=timezone.now())
    confirmed = ConfirmedSubscriberFactory()
    return {
        "topic": topic,
        "region": region,
        "section": section,
        "expert": expert,
        "series": series,
        "publication": publication,
        "research": articles[0],
        "event": event,
        "page": page,
        "tag": event.tags.get(),
        "confirm_token": make_confirmation_token(pending),
        "subscriber_token": make_subscriber_token(confirmed.pk),
    }


# URL name → its keyword arguments, from the dataset.
KWARGS = {
    "page": lambda d: {"slug": d["page"].slug},
    "feeds:all": lambda d: {"fmt": "atom"},
    "feeds:scoped": lambda d: {"scope": "topic", "slug": d["topic"].slug, "fmt": "rss"},
    "sitemap_section": lambda d: {"section": "articles"},
    "cite_bibtex": lambda d: {"kind": "publication", "slug": d["publication"].slug},
    "topic": lambda d: {"slug": d["topic"].slug},
    "region": lambda d: {"slug": d["region"].slug},
    "articles:kind": lambda d: {"kind": "research"},
    "articles:detail": lambda d: {"slug": d["research"].slug},
    "articles:event_ics": lambda d: {"slug": d["event"].slug},
    "articles:section": lambda d: {"slug": d["section"].slug},
    "articles:tag": lambda d: {"slug": d["tag"].slug},
    "experts:detail": lambda d: {"slug": d["expert"].slug},
    "publications:series": lambda d: {"slug": d["series"].slug},
    "publications:detail": lambda d: {"slug": d["publication"].slug},
    "newsletter:confirm": lambda d: {"token": d["confirm_token"]},
    "newsletter:preferences": lambda d: {"token": d["subscriber_token"]},
    "newsletter:unsubscribe": lambda d: {"token": d["subscriber_token"]},
    "preview:article": lambda d: {"pk": d["research"].pk},
    "preview:publication": lambda d: {"pk": d["publication"].pk},
    "preview:expert": lambda d: {"pk": d["expert"].pk},
    "preview:page": lambda d: {"pk": d["page"].pk},
}
# Staff's own: Django's admin, fuzzed by Django itself and behind the sign-in.
SKIPPED_NAMESPACES = {"admin"}


def _public_patterns(resolver=None, namespace=""):
    """(URL name, keyword names) of every named pattern outside the skipped namespaces."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = entry.namespace or namespace
            if inner in SKIPPED_NAMESPACES:
                continue
            prefix = f"{entry.namespace}:" if entry.namespace else namespace
            yield from _public_patterns(entry, prefix)
        elif isinstance(entry, URLPattern) and entry.name:
            name = f"{namespace}{entry.name}" if namespace.endswith(":") else entry.name
            yield name, sorted(entry.pattern.converters)


PATTERNS = sorted({(name, tuple(keys)) for name, keys in _public_patterns()})
NAMES = [name for name, _ in PATTERNS]


def test_every_public_pattern_is_fuzzed():
    """A pattern added without a way to fill its parameters would escape the fuzzing."""
    unfilled = [name for name, keys in PATTERNS if keys and name not in KWARGS]
    assert unfilled == []
    assert {"home", "search", "articles:detail", "newsletter:signup"} <= set(NAMES)


def _check(response, url):
    assert response.status_code in ALLOWED, (url, response.status_code)
    if "html" in response.get("Content-Type", "") and not response.streaming:
        body = response.content.decode("utf-8", "replace")
        for markup in REFLECTED:
            assert markup not in body, url


def _encoded(value: str) -> str:
    return quote(value, safe="")


def _query_values():
    return [_encoded(value) for value in TEXT_PAYLOADS] + RAW_PAYLOADS


# Views that answer 404 to a filter naming nothing: their other parameters are fuzzed one at
# a time too, so that the early 404 cannot hide a crash further on.
READ_ONE_BY_ONE = {
    "search": QUERY_PARAMETERS,
    "experts:list": ["topic", "region", "page"],
    "experts:detail": ["page", "publications_page"],
}


@pytest.mark.parametrize("name", NAMES)
def test_query_parameters_with_hostile_values(client, dataset, name):
    url = reverse(name, kwargs=KWARGS[name](dataset) if name in KWARGS else None)
    for value in _query_values():
        everything = "&".join(f"{parameter}={value}" for parameter in QUERY_PARAMETERS)
        _check(client.get(f"{url}?{everything}"), f"{url}?{everything}"[:200])
        for parameter in READ_ONE_BY_ONE.get(name, ()):
            _check(client.get(f"{url}?{parameter}={value}"), f"{url}?{parameter}={value[:50]}")
    repeated = "&".join(
        f"{parameter}={value}" for parameter in QUERY_PARAMETERS for value in ("1", "2", "", "-1")
    )
    _check(client.get(f"{url}?{repeated}"), f"{url}?{repeated}")


@pytest.mark.parametrize("name", [name for name, keys in PATTERNS if keys])
def test_path_parameters_with_hostile_values(client, dataset, name):
    kwargs = KWARGS[name](dataset)
    marker = "424242424242"  # fits every converter, int included
    for keyword in kwargs:
        placeholder = reverse(name, kwargs={**kwargs, keyword: marker})
        for value in _query_values():
            url = placeholder.replace(marker, value)
            _check(client.get(url), url[:200])


def _forms(client, dataset):
    """Every distinct form on the public pages: (method, action, {field: default value})."""
    found = {}
    pages = [reverse("home"), reverse("search"), reverse("newsletter:signup")]
    for name in ("newsletter:confirm", "newsletter:preferences", "newsletter:unsubscribe"):
        pages.append(reverse(name, kwargs=KWARGS[name](dataset)))
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        for form in lxml.html.fromstring(response.content).forms:
            method = (form.method or "GET").upper()
            action = form.action or page
            fields = {}
            for element in form.inputs:
                name = element.get("name")
                if not name or element.get("type") in ("submit", "button"):
                    continue
                if element.get("type") in ("checkbox", "radio"):
                    if element.checked:
                        fields.setdefault(name, element.get("value", "on"))
                    continue
                fields.setdefault(name, element.value or "")
            found[(method, action, tuple(sorted(fields)))] = (method, action, fields)
    return list(found.values())


def test_every_public_form_with_hostile_values(client, dataset):
    forms = _forms(client, dataset)
    actions = {action.split("?")[0] for _, action, _ in forms}
    assert reverse("newsletter:subscribe") in actions
    assert reverse("search") in actions
    assert len(forms) >= 4
    for method, action, defaults in forms:
        for field in defaults:
            if field == "csrfmiddlewaretoken":
                continue
            for value in [*TEXT_PAYLOADS, "reader@example.org\x00", "a@b.c<script>"]:
                data = {**defaults, field: value}
                if method == "GET":
                    response = client.get(action, data)
                else:
                    response = client.post(action, data)
                    _check(response, f"POST {action} {field}={value[:40]}")
                    response = client.post(action, data, headers={"Accept": "application/json"})
                _check(response, f"{method} {action} {field}={value[:40]}")
            for value in RAW_PAYLOADS:
                body = urlencode({k: v for k, v in defaults.items() if k != field})
                body = f"{body}&{field}={value}"
                if method == "GET":
                    response = client.get(f"{action}?{body}")
                else:
                    response = client.post(
                        action, body, content_type="application/x-www-form-urlencoded"
                    )
                _check(response, f"{method} {action} {field}={value}")


def test_post_to_every_get_only_page_is_refused_politely(client, dataset):
    for name in NAMES:
        url = reverse(name, kwargs=KWARGS[name](dataset) if name in KWARGS else None)
        _check(client.post(url, {"q": "<script>alert(1)</script>"}), f"POST {url}")


# --- properties -------------------------------------------------------------------------

HTML_PIECES = st.sampled_from(
    [
        "<script>alert(1)</script>",
        "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
        "<scr<script>ipt>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "<img src=javascript:alert(1)>",
        '<a href="javascript:alert(1)">x</a>',
        '<a href="JaVaScRiPt:alert(1)">x</a>',
        '<a href="jav&#x09;ascript:alert(1)">x</a>',
        '<a href=" javascript:alert(1)">x</a>',
        '<a href="https://example.org/" onclick="x()">ok</a>',
        '<svg onload="alert(1)"><circle/></svg>',
        '<iframe src="https://evil.example"></iframe>',
        "<style>body{display:none}</style>",
        '<p style="background:url(javascript:x)">styled</p>',
        "<!-- <script>alert(1)</script> -->",
        "<p>",
        "</p>",
        "<div>",
        "<table><tr><td>cell",
        "<b><i>nested</b></i>",
        "<h1>Title</h1>",
        "&lt;script&gt;",
        "&amp;",
        "<",
        ">",
        '"',
        "'",
        "\x00",
        '<p class="MsoNormal" style="mso-list:l0 level1 lfo1">Word</p>',
        '<b id="docs-internal-guid-1"><span style="font-weight:700">Docs</span></b>',
        "<math><mi xlink:href=javascript:alert(1)>x</mi></math>",
        '<form action="javascript:alert(1)"><input></form>',
        "<object data=x></object>",
        "<base href=//evil.example/>",
        '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    ]
)
HTML = st.lists(st.one_of(HTML_PIECES, st.text(max_size=12)), max_size=12).map("".join)
_HANDLER = re.compile(r"^on", re.IGNORECASE)


def _assert_harmless(html: str) -> None:
    assert "<script" not in html.lower()
    root = lxml.html.fragment_fromstring(html or "<p></p>", create_parent="div")
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        assert element.tag not in {"script", "style", "iframe", "object", "svg", "form", "base"}
        for attribute, value in element.attrib.items():
            assert not _HANDLER.match(attribute), (attribute, html)
            assert attribute != "style"
            compact = re.sub(r"[\x00-\x20]", "", value).lower()
            assert not compact.startswith(("javascript:", "vbscript:", "data:")), (value, html)


@settings(max_examples=400, deadline=None)
@given(HTML)
def test_the_sanitizer_output_is_harmless_and_stable(html):
    cleaned = clean_html(html)
    _assert_harmless(cleaned)
    assert clean_html(cleaned) == cleaned


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_the_sanitizer_takes_any_text(text):
    cleaned = clean_html(text)
    _assert_harmless(cleaned)
    assert clean_html(cleaned) == cleaned


QUERY_TEXT = st.one_of(
    st.text(max_size=300),
    st.sampled_from(TEXT_PAYLOADS),
    st.from_regex(r'-?"[^"]{0,20}"?( OR |\s)-?\w{0,10}', fullmatch=True),
)


@settings(max_examples=300, deadline=None)
@given(QUERY_TEXT)
def test_search_query_parsing_keeps_within_its_limits(text):
    query = search.clean_query(text)
    assert len(query) <= search.MAX_QUERY_LENGTH
    assert "\x00" not in query
    assert query == search.clean_query(query)
    search.parse_query(query)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=12))
def test_a_year_is_four_digits_or_nothing(value):
    year = search._year(value)
    assert year is None or 1000 <= year <= 9999


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    st.dictionaries(
        st.sampled_from(QUERY_PARAMETERS),
        st.lists(st.one_of(st.text(max_size=30), st.sampled_from(TEXT_PAYLOADS)), max_size=3),
        max_size=6,
    )
)
def test_search_filters_read_from_any_query_string(dataset, params):
    query = QueryDict(mutable=True)
    for name, values in params.items():
        query.setlist(name, values)
    filters = search.Filters.from_query_dict(query)
    if filters.year_from and filters.year_to:
        assert filters.year_from <= filters.year_to
    assert filters.kind in ("", *search.KIND_LABELS)


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    page=st.one_of(st.integers(), st.text(max_size=25), st.floats().map(str)),
    q=QUERY_TEXT,
    year_from=st.text(max_size=6),
    year_to=st.text(max_size=6),
)
def test_search_and_listings_answer_any_page_query_and_years(
    client, dataset, page, q, year_from, year_to
):
    params = {"page": page, "q": q, "year_from": year_from, "year_to": year_to}
    for url in (reverse("search"), reverse("articles:research"), reverse("experts:list")):
        response = client.get(url, params)
        assert response.status_code in (200, 404), (url, params)
        if response.status_code == 200:
            assert "<script>alert(1)</script>" not in response.content.decode()


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.one_of(st.integers(), st.text(max_size=25), st.lists(st.text(max_size=5), max_size=3)))
def test_a_page_number_is_a_page_or_a_404(dataset, page):
    query = QueryDict(mutable=True)
    query.setlist("page", page if isinstance(page, list) else [str(page)])
    request = RequestFactory().get("/articles/", query)
    articles = Article.objects.published().order_by("-published_at", "-pk")
    try:
        current = paginate(request, articles, 2)
    except Http404:
        return
    assert 1 <= current.number <= 2
