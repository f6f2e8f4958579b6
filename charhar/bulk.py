"""Synthetic bulk content for benchmarks: experts, tags, articles, events and publications.

`generate_content()` is the service behind ``manage.py generate_content``. Its data has the
shape of the peer Wagtail site's seed (``bench/README.md``), so both sites can be measured
on the same load: 7 topics, 5 regions, 200 experts and 40 tags; articles with 1–2 authors,
1–2 topics, 1–3 tags, a 20–30 word summary and a body of three paragraphs plus one line
naming a made-up rare term (each term appears in one article in 1,000, so searching for one
finds N/1,000 articles).

Determinism: every generated row draws from its own ``random.Random`` seeded with the run's
seed, the kind of row and its number, so row *n* is the same whatever the batch size and
whichever rows a previous run already made. Dates count back from the start of the current
UTC day: two runs on the same day give identical rows; on another day every date moves by
the same whole number of days and the order of the rows stays the same.

Idempotence: generated slugs end in ``-g<seed>-<n>``. A row whose slug exists is skipped
together with its relations, so running the same command twice creates nothing the second
time, and a bigger run with the same seed adds only the missing rows. Topics, regions,
sections and series are reused when any exist (the demo loader makes them); only an empty
table gets the institute's own names.

Rows are written in batches, skipping ``save()``: slugs are set here and bodies go through
`clean_html` exactly as ``save()`` would; ``created_at`` and ``updated_at`` are filled with
the time of the run. On PostgreSQL articles and their links are written with COPY and get
their search vectors as they go into the table (`_CopyWriter`); elsewhere with
``bulk_create`` (`_ModelWriter`), which calls each field's ``pre_save`` (where
``auto_now``/``auto_now_add`` live).
"""

import datetime
import random
import time
import zoneinfo
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import accumulate

from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.text import slugify
from taggit.models import Tag

from articles.models import Article, ArticleAuthor, EventDetails, Section
from charhar import searchentries
from charhar.copying import VectorCopy, copy_rows, next_ids
from charhar.models import Region, Topic
from charhar.pagecache import bump_content_version
from charhar.sanitize import clean_html
from charhar.search import refresh_search_vectors
from experts.models import Expert
from publications.models import Publication, PublicationAuthor, Series

# The institute's own taxonomy, created only when a table is empty.
TOPIC_NAMES = (
    "Public Diplomacy and International Relations",
    "Belt & Road Initiative",
    "The Korean Peninsula",
    "Economic and Trade",
    "Communication",
    "Law, Culture and Religion",
    "Energy, Safety and Peace",
)
REGION_NAMES = ("America", "Europe&Middle East", "Asia", "Africa&Latin America", "Indo-Pacific")
SECTION_NAMES = (
    "Public Diplomacy",
    "Peace Studies",
    "Belt & Road",
    "Charhar News",
    "Announcement",
    "For Media",
)
SERIES_NAMES = (
    "Public Diplomacy Quarterly",
    "Other books and reports",
    "Charhar Public Diplomacy series",
    "Charhar Newsletter",
    "Charhar International Relations series",
    "Introduction to Public Diplomacy",
)

TAG_NAMES = (
    "public diplomacy", "soft power", "belt and road", "korean peninsula", "asean", "g20",
    "united nations", "brics", "trade", "tariffs", "supply chains", "energy security",
    "climate", "carbon neutrality", "maritime security", "south china sea", "mediation",
    "peacebuilding", "arms control", "nuclear", "think tanks", "media", "public opinion",
    "culture", "religion", "rule of law", "education", "youth", "digital economy",
    "artificial intelligence", "cybersecurity", "infrastructure", "development finance",
    "africa", "latin america", "europe", "central asia", "middle east", "pacific islands",
    "united states",
)  # fmt: skip

# Article kinds other than events, with their share of the generated articles.
KIND_WEIGHTS = (
    (Article.Kind.COMMENTARY, 50),
    (Article.Kind.RESEARCH, 25),
    (Article.Kind.NEWS, 15),
    (Article.Kind.MEDIA, 6),
    (Article.Kind.ANNOUNCEMENT, 4),
)
_KINDS = tuple(kind for kind, _ in KIND_WEIGHTS)
_KIND_CUM_WEIGHTS = list(accumulate(weight for _, weight in KIND_WEIGHTS))
# News-like kinds live in a News & Events section; the first name found is preferred.
KIND_SECTIONS = {
    Article.Kind.NEWS: ("Charhar News", "Public Diplomacy", "Peace Studies", "Belt & Road"),
    Article.Kind.EVENT: ("Public Diplomacy", "Peace Studies", "Belt & Road", "Charhar News"),
    Article.Kind.ANNOUNCEMENT: ("Announcement",),
    Article.Kind.MEDIA: ("For Media",),
}
MEDIA_SOURCES = (
    "China Daily", "Global Times", "The Diplomat", "South China Morning Post", "CGTN",
    "The Korea Herald", "Nikkei Asia",
)  # fmt: skip

VERBS = (
    "rethinking", "rebuilding", "managing", "measuring", "reforming", "sustaining",
    "understanding", "financing", "governing", "strengthening", "navigating", "reviving",
)  # fmt: skip
ADJECTIVES = (
    "regional", "maritime", "digital", "multilateral", "bilateral", "economic", "cultural",
    "strategic", "green", "inclusive", "people-to-people", "long-term", "practical",
    "institutional", "cross-border", "public",
)  # fmt: skip
NOUNS = (
    "diplomacy", "trade", "connectivity", "security", "cooperation", "dialogue", "governance",
    "investment", "energy policy", "soft power", "infrastructure", "exchange", "mediation",
    "peacebuilding", "supply chains", "development finance", "climate action", "public opinion",
    "think-tank diplomacy", "arms control", "food security", "education exchange",
    "media narratives", "rule of law",
)  # fmt: skip
PLACES = (
    "the Korean Peninsula", "Southeast Asia", "Central Asia", "the Middle East", "Africa",
    "Latin America", "Europe", "the Indo-Pacific", "the South China Sea", "the Arctic",
    "the Pacific Islands", "South Asia", "the Gulf", "the Mekong region", "Eurasia",
    "the Balkans", "North America", "East Asia",
)  # fmt: skip
TITLE_PATTERNS = (
    "{verb} {adj} {noun} in {place}",
    "why {noun} matters for {place}",
    "{adj} {noun} and the future of {noun2}",
    "what {place} can learn from {adj} {noun}",
    "{noun} and {noun2}: {adj} lessons from {place}",
    "the case for {adj} {noun} in {place}",
    "{place} between {noun} and {noun2}",
)

# Every body word is common: it appears in most bodies, unlike the rare terms below.
BODY_WORDS = (
    "diplomacy", "policy", "dialogue", "cooperation", "exchange", "partnership", "strategy",
    "security", "economy", "trade", "investment", "region", "nation", "government", "public",
    "opinion", "culture", "media", "influence", "trust", "mutual", "understanding",
    "development", "infrastructure", "connectivity", "finance", "market", "growth",
    "stability", "peace", "conflict", "mediation", "negotiation", "agreement", "framework",
    "institution", "reform", "governance", "law", "religion", "energy", "climate",
    "transition", "resilience", "supply", "technology", "digital", "innovation", "education",
    "youth", "scholars", "experts", "research", "analysis", "evidence", "report", "survey",
    "data", "outcome", "impact", "challenge", "opportunity", "risk", "priority", "interest",
    "benefit", "consensus", "leaders", "ministers", "summit", "forum", "visit", "delegation",
    "initiative", "project", "program", "network", "community", "society", "citizens",
    "history", "tradition", "future", "context", "approach", "perspective", "balance",
    "pressure", "competition", "alliance", "neighbours", "border", "maritime", "shipping",
    "ports", "railway", "corridor",
)  # fmt: skip

# 1,000 made-up terms: 50 first syllables × 20 second syllables, ending in "q" so that no
# body word or English stem can match them.
_ONSETS = ("br", "dr", "gl", "kr", "pl", "st", "tr", "vl", "zh", "sk")
_SECOND = (
    "lo", "ve", "ni", "ra", "zu", "ka", "te", "mo", "si", "fa",
    "bu", "ge", "ho", "ji", "ku", "le", "na", "pe", "do", "wy",
)  # fmt: skip
RARE_TERMS = tuple(f"{o}{v}{s}q" for o in _ONSETS for v in "aeiou" for s in _SECOND)

GIVEN_NAMES = (
    "Wei", "Fang", "Jun", "Min", "Hui", "Lei", "Yan", "Jing", "Tao", "Ling", "Hao", "Xin",
    "Ji-woo", "Min-jun", "Hiro", "Aiko", "Arjun", "Priya", "Amara", "Kwame", "Lucia",
    "Mateo", "Elena", "Jonas", "Sophie", "Daniel", "Sarah", "Omar", "Leila", "Nadia",
)  # fmt: skip
FAMILY_NAMES = (
    "Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Zhao", "Huang", "Zhou", "Wu", "Xu", "Sun",
    "Ma", "Zhu", "Hu", "Guo", "He", "Lin", "Gao", "Luo", "Kim", "Park", "Lee", "Tanaka",
    "Singh", "Mensah", "Silva", "Müller", "Rossi", "Novak", "Carter", "Haddad",
)  # fmt: skip
EXPERT_TITLES = (
    "Senior Fellow", "Research Fellow", "Non-resident Senior Fellow", "Adjunct Fellow",
    "Visiting Scholar", "Director of Research", "Vice President", "Program Director",
)  # fmt: skip
AFFILIATIONS = (
    "The Charhar Institute", "Peking University", "Tsinghua University",
    "Renmin University of China", "Fudan University", "Chinese Academy of Social Sciences",
    "China Foreign Affairs University", "Shanghai Institutes for International Studies", "",
)  # fmt: skip
PUBLISHERS = (
    "The Charhar Institute", "World Affairs Press", "Social Sciences Academic Press",
    "Foreign Languages Press",
)  # fmt: skip
# (city, venue, time zone) of event venues; times are drawn in the venue's local time.
VENUES = (
    ("Beijing", "The Charhar Institute", "Asia/Shanghai"),
    ("Beijing", "Diaoyutai State Guesthouse", "Asia/Shanghai"),
    ("Zhangjiakou", "Charhar Conference Centre", "Asia/Shanghai"),
    ("Seoul", "Korea Press Center", "Asia/Seoul"),
    ("Washington", "National Press Club", "America/New_York"),
    ("Brussels", "Egmont Palace", "Europe/Brussels"),
    ("Nairobi", "Kenyatta International Convention Centre", "Africa/Nairobi"),
    ("Jakarta", "ASEAN Secretariat", "Asia/Jakarta"),
)

TAXONOMY_LABELS = {Topic: "topics", Region: "regions", Section: "sections", Series: "series"}
YEARS_BACK = 10
DAYS_BACK = 365 * YEARS_BACK + YEARS_BACK // 4
UPCOMING_EVENT_SHARE = 4  # one event in four is still to come


@dataclass(frozen=True)
class ContentSpec:
    """How much to generate. `publications` and `events` default to a share of `articles`."""

    articles: int = 1000
    experts: int = 200
    tags: int = 40
    publications: int | None = None
    events: int | None = None
    seed: int = 7
    batch_size: int = 2000

    def __post_init__(self):
        minimums = {
            "articles": ("number of articles", 1),
            "experts": ("number of experts", 1),
            "tags": ("number of tags", 1),
            "batch_size": ("batch size", 1),
            "seed": ("seed", 0),
        }
        for name, (label, minimum) in minimums.items():
            value = getattr(self, name)
            if value < minimum:
                raise ValueError(f"The {label} must be at least {minimum}; {value} was given.")
        if self.publications is None:
            object.__setattr__(self, "publications", self.articles // 50)
        if self.events is None:
            object.__setattr__(self, "events", self.articles // 100)
        for name in ("publications", "events"):
            value = getattr(self, name)
            if value < 0:
                raise ValueError(f"The number of {name} cannot be negative; {value} was given.")
        if self.events > self.articles:
            raise ValueError(
                f"Events are articles too: {self.events} events cannot fit in "
                f"{self.articles} articles."
            )


@dataclass
class GenerationResult:
    """What a run created (or would create, for a dry run), skipped, and where time went."""

    spec: ContentSpec
    dry_run: bool
    created: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    elapsed: float = 0.0
    # False when the shared cache could not be told of the new content (its server down).
    cache_told: bool = True

    @property
    def created_anything(self) -> bool:
        return any(self.created.values())


@dataclass
class _Plan:
    """The rows missing from the database, found before anything is written."""

    taxonomy: dict[type[models.Model], tuple[str, ...]]
    experts: list[int]
    tags: list[str]
    articles: list[int]
    events: dict[int, int]  # article number → event number
    publications: list[int]


class _Clock:
    def __init__(self, timings: dict[str, float]):
        self.timings = timings

    @contextmanager
    def __call__(self, phase: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[phase] = self.timings.get(phase, 0.0) + time.perf_counter() - start


def _rng(seed: int, kind: str, number: int) -> random.Random:
    # A string seed is hashed with SHA-512: stable across processes and Python builds.
    return random.Random(f"charhar-generate/{seed}/{kind}/{number}")  # noqa: S311


def _chunks(items: Sequence, size: int) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _cumulative(count: int, skew: float) -> list[float]:
    """Cumulative weights where item k has weight 1/(k+1)^skew: a few items are popular."""
    return list(accumulate(1 / (k + 1) ** skew for k in range(count)))


def _pick(rng: random.Random, pool: Sequence, cum_weights: list[float], count: int) -> list:
    """`count` distinct items of `pool` (fewer if the pool is smaller), favouring the first."""
    count = min(count, len(pool))
    chosen: list = []
    while len(chosen) < count:
        item = rng.choices(pool, cum_weights=cum_weights)[0]
        if item not in chosen:
            chosen.append(item)
    return chosen


def _sentence(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choices(BODY_WORDS, k=rng.randint(low, high))).capitalize() + "."


def _paragraph(rng: random.Random) -> str:
    return f"<p>{' '.join(_sentence(rng, 8, 18) for _ in range(rng.randint(4, 6)))}</p>"


def _title(rng: random.Random) -> str:
    title = rng.choice(TITLE_PATTERNS).format(
        verb=rng.choice(VERBS),
        adj=rng.choice(ADJECTIVES),
        noun=rng.choice(NOUNS),
        noun2=rng.choice(NOUNS),
        place=rng.choice(PLACES),
    )
    return title[0].upper() + title[1:]


def _expert_name(rng: random.Random) -> str:
    return f"{rng.choice(GIVEN_NAMES)} {rng.choice(FAMILY_NAMES)}"


def _publication_title(rng: random.Random, series_name: str, year: int) -> tuple[str, str]:
    """The title and issue number of a publication in `series_name` (no issue for books)."""
    if "quarterly" in series_name.lower():
        issue = str(rng.randint(1, 4))
        return f"{series_name}, {year}, No. {issue}", issue
    if "newsletter" in series_name.lower():
        issue = str(rng.randint(1, 12))
        return f"{series_name}, {year}, Issue {issue}", issue
    return _title(rng), ""


def _slug(text: str, seed: int, number: int) -> str:
    return f"{slugify(text, allow_unicode=True)[:200].strip('-')}-g{seed}-{number}"


def _isbn13(rng: random.Random) -> str:
    digits = "978" + "".join(rng.choices("0123456789", k=9))
    total = sum((1 if i % 2 == 0 else 3) * int(d) for i, d in enumerate(digits))
    return digits + str(-total % 10)


def _existing_slugs(model: type[models.Model], slugs: Sequence[str]) -> dict[str, int]:
    """slug → pk of the rows of `model` among `slugs`, in chunks any database accepts."""
    found: dict[str, int] = {}
    for chunk in _chunks(slugs, 900):
        found.update(model._default_manager.filter(slug__in=chunk).values_list("slug", "pk"))
    return found


class _Generator:
    def __init__(self, spec: ContentSpec, *, now, progress, result: GenerationResult):
        self.spec = spec
        self.seed = spec.seed
        self.batch = spec.batch_size
        # Dates end before the start of today (UTC), so every article is already published.
        self.today = now.astimezone(datetime.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        self.progress = progress or (lambda message: None)
        self.result = result
        self.clock = _Clock(result.timings)

    # Planning: read-only, shared by real and dry runs.

    def plan(self) -> _Plan:
        seed, spec = self.seed, self.spec
        taxonomy = {}
        for model, names in (
            (Topic, TOPIC_NAMES),
            (Region, REGION_NAMES),
            (Section, SECTION_NAMES),
            (Series, SERIES_NAMES),
        ):
            taxonomy[model] = () if model._default_manager.exists() else names

        expert_slugs = {
            n: _slug(_expert_name(_rng(seed, "expert", n)), seed, n)
            for n in range(1, spec.experts + 1)
        }
        existing = _existing_slugs(Expert, list(expert_slugs.values()))
        experts = [n for n, slug in expert_slugs.items() if slug not in existing]

        tag_names = self.tag_names()
        existing_tags = set(Tag.objects.filter(name__in=tag_names).values_list("name", flat=True))
        tags = [name for name in tag_names if name not in existing_tags]

        article_slugs = {
            n: _slug(_title(_rng(seed, "article", n)), seed, n) for n in range(1, spec.articles + 1)
        }
        existing = _existing_slugs(Article, list(article_slugs.values()))
        articles = [n for n, slug in article_slugs.items() if slug not in existing]
        # Events are spread evenly through the articles (and so through their dates).
        all_events = {
            int((k + 0.5) * spec.articles / spec.events) + 1: k for k in range(spec.events)
        }
        events = {n: all_events[n] for n in articles if n in all_events}

        publications = self.missing_publications(taxonomy[Series])

        return _Plan(taxonomy, experts, tags, articles, events, publications)

    def tag_names(self) -> list[str]:
        base = len(TAG_NAMES)
        return [
            TAG_NAMES[k % base] if k < base else f"{TAG_NAMES[k % base]} {k // base + 1}"
            for k in range(self.spec.tags)
        ]

    def series_names(self, to_create: tuple[str, ...]) -> list[str]:
        if to_create:
            return list(to_create)
        return list(Series.objects.order_by("order", "name", "pk").values_list("name", flat=True))

    def missing_publications(self, to_create: tuple[str, ...]) -> list[int]:
        names = self.series_names(to_create)
        slugs = {}
        for n in range(1, self.spec.publications + 1):
            rng = _rng(self.seed, "publication", n)
            title, _ = _publication_title(rng, *self.publication_head(rng, names))
            slugs[n] = _slug(title, self.seed, n)
        existing = _existing_slugs(Publication, list(slugs.values()))
        return [n for n, slug in slugs.items() if slug not in existing]

    def publication_head(self, rng: random.Random, series_names: list[str]) -> tuple[str, int]:
        """The first draws of a publication's generator: its series and year."""
        series_name = series_names[int(rng.random() * len(series_names))]
        year = self.today.year - rng.randrange(YEARS_BACK)
        return series_name, year

    def report_plan(self, plan: _Plan) -> None:
        created, skipped, spec = self.result.created, self.result.skipped, self.spec
        for model, names in plan.taxonomy.items():
            created[TAXONOMY_LABELS[model]] = len(names)
        counts = (
            ("experts", spec.experts, plan.experts),
            ("tags", spec.tags, plan.tags),
            ("articles", spec.articles, plan.articles),
            ("events", spec.events, plan.events),
            ("publications", spec.publications, plan.publications),
        )
        for label, wanted, missing in counts:
            created[label] = len(missing)
            if wanted - len(missing):
                skipped[label] = wanted - len(missing)

    # Writing.

    def run(self, plan: _Plan) -> None:
        with self.clock("taxonomy"):
            self.create_taxonomy(plan.taxonomy)
        with self.clock("experts"):
            self.experts = self.create_experts(plan.experts)
        with self.clock("tags"):
            self.tags = self.create_tags(plan.tags)
        self.create_articles(plan.articles, plan.events)
        with self.clock("publications"):
            self.create_publications(plan.publications)

    def create_taxonomy(self, to_create: dict[type[models.Model], tuple[str, ...]]) -> None:
        for model, names in to_create.items():
            model._default_manager.bulk_create(
                model(name=name, slug=slugify(name, allow_unicode=True), order=k)
                for k, name in enumerate(names)
            )

        def ordered(model):
            return list(model._default_manager.order_by("order", "name", "pk"))

        self.topics = [t.pk for t in ordered(Topic)]
        self.regions = [r.pk for r in ordered(Region)]
        self.sections = {s.name: s.pk for s in ordered(Section)}
        self.series = [(s.pk, s.name) for s in ordered(Series)]
        self.topic_weights = _cumulative(len(self.topics), 0.5)
        self.region_weights = _cumulative(len(self.regions), 0.3)

    def count(self, label: str, rows: int) -> None:
        self.result.created[label] = self.result.created.get(label, 0) + rows

    def create_experts(self, missing: list[int]) -> list[int]:
        """Create the missing experts; return the pks of experts 1..N in order."""
        seed = self.seed
        experts, picks = [], []
        for n in missing:
            rng = _rng(seed, "expert", n)
            name = _expert_name(rng)
            title = rng.choice(EXPERT_TITLES)
            affiliation = rng.choice(AFFILIATIONS)
            topics = _pick(rng, self.topics, self.topic_weights, rng.randint(1, 3))
            regions = _pick(rng, self.regions, self.region_weights, rng.randint(0, 2))
            focus = " and ".join(rng.sample(NOUNS, 2))
            experts.append(
                Expert(
                    name=name,
                    slug=_slug(name, seed, n),
                    title=title,
                    affiliation=affiliation,
                    short_bio=f"{name} is {_a(title)} {title.lower()} working on {focus}.",
                    bio=clean_html(
                        f"<p>{name} is {_a(title)} {title.lower()} whose research covers "
                        f"{focus}.</p>"
                        f"<p>{_sentence(rng, 12, 24)} {_sentence(rng, 12, 24)}</p>"
                    ),
                    order=n,
                )
            )
            picks.append((topics, regions))
        Expert.objects.bulk_create(experts, batch_size=self.batch)
        topic_rows = Expert.topics.through
        region_rows = Expert.regions.through
        topic_rows.objects.bulk_create(
            (
                topic_rows(expert_id=e.pk, topic_id=t)
                for e, (ts, _) in zip(experts, picks, strict=True)
                for t in ts
            ),
            batch_size=self.batch,
        )
        region_rows.objects.bulk_create(
            (
                region_rows(expert_id=e.pk, region_id=r)
                for e, (_, rs) in zip(experts, picks, strict=True)
                for r in rs
            ),
            batch_size=self.batch,
        )
        self.count("expert topics", sum(len(ts) for ts, _ in picks))
        self.count("expert regions", sum(len(rs) for _, rs in picks))

        slugs = [
            _slug(_expert_name(_rng(seed, "expert", n)), seed, n)
            for n in range(1, self.spec.experts + 1)
        ]
        pks = _existing_slugs(Expert, slugs)
        self.expert_weights = _cumulative(len(slugs), 0.6)
        return [pks[slug] for slug in slugs]

    def create_tags(self, missing: list[str]) -> list[int]:
        """Create the missing tags (slugs as taggit makes them); return the pks of all N."""
        wanted = {name: Tag().slugify(name) for name in missing}
        taken = set(
            Tag.objects.filter(slug__in=list(wanted.values())).values_list("slug", flat=True)
        )
        tags = []
        for name, slug in wanted.items():
            candidate, k = slug, 1
            while candidate in taken:
                candidate = Tag().slugify(name, k)
                k += 1
            taken.add(candidate)
            tags.append(Tag(name=name, slug=candidate))
        Tag.objects.bulk_create(tags, batch_size=self.batch)
        names = self.tag_names()
        pks = dict(Tag.objects.filter(name__in=names).values_list("name", "pk"))
        self.tag_weights = _cumulative(len(names), 0.8)
        return [pks[name] for name in names]

    def section_for(self, rng: random.Random, kind: str) -> int | None:
        preferred = KIND_SECTIONS.get(kind)
        if preferred is None or not self.sections:
            return None
        for name in preferred:
            if name in self.sections:
                return self.sections[name]
        return rng.choice(list(self.sections.values()))

    def published_at(
        self, rng: random.Random, min_days: int = 0, max_days: int = DAYS_BACK
    ) -> datetime.datetime:
        """A time on one of the days before today; recent years hold more articles."""
        days = min_days + int((max_days - min_days) * rng.random() ** 1.25)
        minutes = rng.randrange(7 * 60, 20 * 60)
        return self.today - datetime.timedelta(days=days + 1, minutes=-minutes)

    def create_articles(self, missing: list[int], events: dict[int, int]) -> None:
        if connection.vendor == "postgresql":
            writer = _CopyWriter(self.clock)
        else:
            writer = _ModelWriter(self.clock, self.batch)
        # Rows are generated in a second thread while the previous batch is written: the
        # database does most of its work (search vectors) while Python makes the next rows.
        chunks = list(_chunks(missing, self.batch))
        done = 0
        with ThreadPoolExecutor(max_workers=1) as pool:
            upcoming = pool.submit(self.article_rows, chunks[0], events) if chunks else None
            for k, numbers in enumerate(chunks):
                with self.clock("articles: waiting for generated rows"):
                    rows = upcoming.result()
                if k + 1 < len(chunks):
                    upcoming = pool.submit(self.article_rows, chunks[k + 1], events)
                for label, count in writer.write(rows).items():
                    self.count(label, count)
                done += len(numbers)
                self.progress(f"{done} of {len(missing)} articles")
        writer.finish()

    def article_rows(self, numbers: Sequence[int], events: dict[int, int]) -> list["_ArticleRow"]:
        with self.clock("articles: generate (beside the writes)"):
            return [self.article_row(n, events.get(n)) for n in numbers]

    def article_row(self, n: int, event: int | None) -> "_ArticleRow":
        """Article number `n`: its column values, relations and event details."""
        rng = _rng(self.seed, "article", n)
        title = _title(rng)
        if event is None:
            kind = rng.choices(_KINDS, cum_weights=_KIND_CUM_WEIGHTS)[0]
            published_at = self.published_at(rng)
        else:
            kind = Article.Kind.EVENT
            upcoming = event % UPCOMING_EVENT_SHARE == 0
            # Upcoming events were announced lately; past ones at least 60 days ago.
            published_at = (
                self.published_at(rng, max_days=30)
                if upcoming
                else self.published_at(rng, min_days=60)
            )
        paragraphs = "".join(_paragraph(rng) for _ in range(3))
        term = RARE_TERMS[n % len(RARE_TERMS)]
        body = f"{paragraphs}<p>Further reading: the {term} papers.</p>"
        source = rng.choice(MEDIA_SOURCES) if kind == Article.Kind.MEDIA else ""
        slug = _slug(title, self.seed, n)
        fields = {
            "title": title,
            "slug": slug,
            "summary": _sentence(rng, 20, 30),
            "body": clean_html(body),
            "status": Article.Status.PUBLISHED.value,
            "published_at": published_at,
            "kind": kind.value,
            "section_id": self.section_for(rng, kind),
            "source_name": source,
            "source_url": f"https://www.example.org/{slug}" if source else "",
            "is_featured": rng.random() < 0.01,
        }
        experts = _pick(rng, self.experts, self.expert_weights, 1 + (rng.random() < 0.35))
        topics = _pick(rng, self.topics, self.topic_weights, 1 + (rng.random() < 0.4))
        regions = _pick(rng, self.regions, self.region_weights, _zero_one_two(rng))
        tags = _pick(rng, self.tags, self.tag_weights, rng.choice((1, 1, 2, 2, 3)))
        details = None if event is None else self.event_details(rng, upcoming, published_at)
        return _ArticleRow(fields, experts, topics, regions, tags, details)

    def event_details(self, rng, upcoming: bool, published_at) -> EventDetails:
        city, venue, tz_name = rng.choice(VENUES)
        if upcoming:
            day = self.today + datetime.timedelta(days=rng.randint(2, 120))
        else:
            day = published_at + datetime.timedelta(days=rng.randint(7, 45))
        local = datetime.datetime(
            day.year,
            day.month,
            day.day,
            rng.choice((9, 10, 14, 15)),
            rng.choice((0, 30)),
            tzinfo=zoneinfo.ZoneInfo(tz_name),
        )
        starts_at = local.astimezone(datetime.UTC)
        # The article's pk is set once the article is inserted.
        return EventDetails(
            starts_at=starts_at,
            ends_at=starts_at + datetime.timedelta(hours=rng.choice((2, 3, 4, 8))),
            time_zone=tz_name,
            venue=venue,
            city=city,
        )

    def create_publications(self, missing: list[int]) -> None:
        seed = self.seed
        series_names = [name for _, name in self.series]
        series_pks = [pk for pk, _ in self.series]
        role_rows, topics_through = PublicationAuthor, Publication.topics.through
        regions_through = Publication.regions.through
        for numbers in _chunks(missing, self.batch):
            publications, picks = [], []
            for n in numbers:
                rng = _rng(seed, "publication", n)
                series_name, year = self.publication_head(rng, series_names)
                title, issue = _publication_title(rng, series_name, year)
                published_on = min(
                    datetime.date(year, rng.randint(1, 12), rng.randint(1, 28)),
                    (self.today - datetime.timedelta(days=1)).date(),
                )
                serial = bool(issue)
                publications.append(
                    Publication(
                        title=title,
                        slug=_slug(title, seed, n),
                        series_id=series_pks[series_names.index(series_name)],
                        publisher=rng.choice(PUBLISHERS),
                        published_on=published_on,
                        isbn="" if serial else _isbn13(rng),
                        volume=str(year - 2010) if serial else "",
                        issue=issue,
                        summary=_sentence(rng, 20, 40),
                        status=Publication.Status.PUBLISHED,
                    )
                )
                contributors = _pick(rng, self.experts, self.expert_weights, rng.randint(1, 3))
                roles = [PublicationAuthor.Role.AUTHOR] + [
                    rng.choice((PublicationAuthor.Role.AUTHOR, PublicationAuthor.Role.EDITOR))
                    for _ in contributors[1:]
                ]
                picks.append(
                    (
                        list(zip(contributors, roles, strict=True)),
                        _pick(rng, self.topics, self.topic_weights, rng.randint(1, 2)),
                        _pick(rng, self.regions, self.region_weights, _zero_one_two(rng)),
                    )
                )
            Publication.objects.bulk_create(publications, batch_size=self.batch)
            contributions, topics, regions = [], [], []
            for publication, (credits, topic_ids, region_ids) in zip(
                publications, picks, strict=True
            ):
                pk = publication.pk
                contributions += [
                    role_rows(publication_id=pk, expert_id=e, role=role, order=k)
                    for k, (e, role) in enumerate(credits)
                ]
                topics += [topics_through(publication_id=pk, topic_id=t) for t in topic_ids]
                regions += [regions_through(publication_id=pk, region_id=r) for r in region_ids]
            for label, model, rows in (
                ("publication contributors", role_rows, contributions),
                ("publication topics", topics_through, topics),
                ("publication regions", regions_through, regions),
            ):
                model.objects.bulk_create(rows, batch_size=self.batch)
                self.count(label, len(rows))


@dataclass
class _ArticleRow:
    """One generated article before it is written: columns, relations, event details."""

    fields: dict
    experts: list[int]
    topics: list[int]
    regions: list[int]
    tags: list[int]
    event: EventDetails | None


_LINK_LABELS = ("article authors", "article topics", "article regions", "tagged items")


def _link_rows(rows: list[_ArticleRow], pks: list[int]) -> dict[str, list[tuple]]:
    """The link-table rows of `rows` (whose articles have `pks`), as tuples of column values."""
    links: dict[str, list[tuple]] = {label: [] for label in _LINK_LABELS}
    authors, topics = links["article authors"], links["article topics"]
    regions, tagged = links["article regions"], links["tagged items"]
    for pk, row in zip(pks, rows, strict=True):
        authors += [(pk, expert, k) for k, expert in enumerate(row.experts)]
        topics += [(pk, topic) for topic in row.topics]
        regions += [(pk, region) for region in row.regions]
        tagged += [(pk, tag) for tag in row.tags]
    return links


class _ModelWriter:
    """Writes articles with `bulk_create`, on any database."""

    def __init__(self, clock: _Clock, batch: int):
        self.clock, self.batch = clock, batch
        self.models = {
            "article authors": (ArticleAuthor, ("article_id", "expert_id", "order")),
            "article topics": (Article.topics.through, ("article_id", "topic_id")),
            "article regions": (Article.regions.through, ("article_id", "region_id")),
            "tagged items": (Article.tags.through, ("content_object_id", "tag_id")),
        }

    def write(self, rows: list[_ArticleRow]) -> dict[str, int]:
        with self.clock("articles: insert"):
            articles = Article.objects.bulk_create(
                [Article(**row.fields) for row in rows], batch_size=self.batch
            )
        links = _link_rows(rows, [article.pk for article in articles])
        for label, (model, columns) in self.models.items():
            with self.clock(f"{label}: insert"):
                model.objects.bulk_create(
                    (model(**dict(zip(columns, values, strict=True))) for values in links[label]),
                    batch_size=self.batch,
                )
        _write_events(rows, [article.pk for article in articles])
        return {label: len(links[label]) for label in _LINK_LABELS}

    def finish(self) -> None:
        """Nothing to do: every batch is complete when written."""


def _write_events(rows: list[_ArticleRow], pks: list[int]) -> None:
    events = []
    for pk, row in zip(pks, rows, strict=True):
        if row.event is not None:
            row.event.article_id = pk
            events.append(row.event)
    EventDetails.objects.bulk_create(events)


class _CopyWriter:
    """Writes articles on PostgreSQL with COPY, search vectors included (`charhar.copying`)."""

    def __init__(self, clock: _Clock):
        self.clock = clock
        self.fields = [f for f in Article._meta.concrete_fields if f.name != "search_vector"]
        run_start = timezone.now()
        self.defaults = {}
        for f in self.fields:
            value = run_start if f.name in ("created_at", "updated_at") else f.get_default()
            self.defaults[f.attname] = getattr(value, "value", value)  # choices as plain strings
        self.links = {}
        for label, model, names in (
            ("article authors", ArticleAuthor, ("article", "expert", "order")),
            ("article topics", Article.topics.through, ("article", "topic")),
            ("article regions", Article.regions.through, ("article", "region")),
            ("tagged items", Article.tags.through, ("content_object", "tag")),
        ):
            columns = [model._meta.get_field(name).column for name in names]
            self.links[label] = (model._meta.db_table, columns)
        self.articles = VectorCopy(Article, self.fields).start()

    def write(self, rows: list[_ArticleRow]) -> dict[str, int]:
        with self.clock("articles: insert"):
            pks = next_ids(Article, len(rows))
        links = _link_rows(rows, pks)
        # The authors first: an article's search vector reads their names.
        for label, (table, columns) in self.links.items():
            with self.clock(f"{label}: insert"):
                copy_rows(table, columns, links[label])
        with self.clock("articles: insert with search vectors"):
            attnames = [f.attname for f in self.fields]
            defaults = self.defaults
            self.articles.write(
                [pk if name == "id" else row.fields.get(name, defaults[name]) for name in attnames]
                for pk, row in zip(pks, rows, strict=True)
            )
        with self.clock("events: insert"):
            _write_events(rows, pks)
        return {label: len(links[label]) for label in _LINK_LABELS}

    def finish(self) -> None:
        self.articles.finish()


def _a(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def _zero_one_two(rng: random.Random) -> int:
    """How many regions a piece is about: often none or one, sometimes two."""
    return rng.choices((0, 1, 2), cum_weights=(35, 85, 100))[0]


TOUCHED_MODELS = (
    Topic, Region, Section, Series, Tag, Expert, Expert.topics.through, Expert.regions.through,
    Article, ArticleAuthor, Article.topics.through, Article.regions.through, Article.tags.through,
    EventDetails, Publication, PublicationAuthor, Publication.topics.through,
    Publication.regions.through,
)  # fmt: skip


def _analyze() -> None:
    """Refresh the planner's statistics: they would otherwise describe the empty tables."""
    if connection.vendor != "postgresql":
        return
    tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in TOUCHED_MODELS)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {tables}")


# Above this many new articles, rebuilding the search entries' GIN index once beats updating
# it row by row.
REBUILD_SEARCH_INDEX_ABOVE = 5000


def _refresh_search_vectors() -> None:
    """Give rows written without their search vectors their vectors (bulk_create skips the
    save() that computes them): experts, publications, and on PostgreSQL nothing else, since
    `_CopyWriter` writes articles with theirs."""
    with transaction.atomic():
        for model in (Article, Expert, Publication):
            refresh_search_vectors(model.objects.filter(search_vector__isnull=True))


def generate_content(
    spec: ContentSpec,
    *,
    dry_run: bool = False,
    now: datetime.datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> GenerationResult:
    """Create the content `spec` describes, skipping rows an earlier run already made.

    With `dry_run`, only count what would be created; nothing is written. `progress` is
    called with a short message after each batch of articles.
    """
    started = time.perf_counter()
    result = GenerationResult(spec=spec, dry_run=dry_run)
    generator = _Generator(spec, now=now or timezone.now(), progress=progress, result=result)
    with transaction.atomic():
        with generator.clock("plan"):
            plan = generator.plan()
        generator.report_plan(plan)
        if not dry_run:
            # The search entries are written once at the end, set-based (`searchentries`).
            rebuild_index = len(plan.articles) > REBUILD_SEARCH_INDEX_ABOVE
            searchentries.defer(drop_index=rebuild_index)
            generator.run(plan)
            with generator.clock("search entries"):
                searchentries.catch_up(build_index=rebuild_index)
    if not dry_run and result.created_anything:
        with generator.clock("search vectors"):
            _refresh_search_vectors()
        with generator.clock("analyze"):
            _analyze()
        # bulk_create sends no signals: tell every app server's page cache ourselves.
        result.cache_told = bump_content_version()
    result.elapsed = time.perf_counter() - started
    return result
