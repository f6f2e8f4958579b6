"""Pick the pages the benchmark measures on the bench database, and check each answers 200.

Prints ``name=path`` lines (the form ``load.sh`` and ``queries.py`` take) on stdout and
writes the choices, the peer page each one is compared with and any notes to ``--meta``
(JSON). Run by ``bench/run.sh`` with the server's environment (production settings,
``DATABASE_URL``); ``testserver`` must be in ``ALLOWED_HOSTS`` for the checks.

The choices are made from the data, so they hold at any N:

- the topic listing is the topic with the most published articles; its deep page is the
  middle page of the whole-site listing's page count (2,500 of 5,000 at 100,000 articles)
  when the topic has that many pages, otherwise the topic's last page, the deepest there is;
- ``/articles/`` (every article, like the peer's index) is measured at page 1 and at its
  middle page, which is page 2,500 of 5,000 at 100,000 articles, the depth the issue names;
- the article is the middle one by publication order (the peer takes its middle one too);
- the expert is the one with the most published articles, the costliest profile;
- search uses the filters the search page accepts (``topic`` and ``kind`` when present);
- the feed is the site-wide feed, when the URL conf has one.
"""

import argparse
import json
import math
import os
import sys
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PER_PAGE = 20
SEARCH_WORD = "policy"  # a body word of both generators, like the peer's default search
# Search filter parameters and the attribute of charhar.search.Filters each one fills.
FILTER_FIELDS = {"topic": "topics", "kind": "kind", "region": "regions"}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meta", required=True, help="Write the choices here (JSON).")
    parser.add_argument("--no-check", action="store_true", help="Skip the 200 checks.")
    parser.add_argument(
        "--memory-paths",
        help="Also write here, one a line, the many distinct pages the memory check cycles "
        "through (articles, listing pages, topics, experts).",
    )
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "charhar.settings.production")
    import django

    django.setup()
    from django.db.models import Count, Q
    from django.http import QueryDict
    from django.test import Client
    from django.urls import NoReverseMatch, reverse

    from articles.models import Article
    from charhar.models import Region, Topic
    from experts.models import Expert

    notes = []
    published = Article.objects.published()
    total = published.count()
    if total == 0:
        sys.exit("paths.py: the bench database has no published article; run the setup first.")
    all_pages = math.ceil(total / PER_PAGE)
    mid_page = max(1, all_pages // 2)

    topic = (
        Topic.objects.annotate(
            n=Count("articles", filter=Q(articles__in=published.values("pk")), distinct=True)
        )
        .order_by("-n", "pk")
        .first()
    )
    topic_pages = math.ceil(topic.n / PER_PAGE)
    if topic_pages >= mid_page:
        topic_deep = mid_page
    else:
        topic_deep = topic_pages
        notes.append(
            f"The largest topic ({topic.name}, {topic.n:,} articles) has {topic_pages:,} pages: "
            f"its deep page is its last, page {topic_deep:,}; page {mid_page:,} of "
            f"{all_pages:,} is measured on /articles/ (every article)."
        )

    article = published.order_by("published_at", "pk")[total // 2]
    expert = (
        Expert.objects.published()
        .annotate(n=Count("articles", filter=Q(articles__in=published.values("pk"))))
        .order_by("-n", "pk")
        .first()
    )

    client = Client()

    def answers(path):
        """The page's status through the full stack; an exception counts as a 500."""
        if args.no_check:
            return 200
        try:
            return client.get(path).status_code
        except Exception as exc:  # a broken page is reported, not fatal
            print(f"paths.py: {path} raised {type(exc).__name__}: {exc}", file=sys.stderr)
            return 500

    # Two filters when the search page takes them; fewer when it does not (yet), said so.
    region = Region.objects.filter(articles__in=published.values("pk")).order_by("pk").first()
    candidates = [
        {"topic": topic.slug, "kind": Article.Kind.RESEARCH.value},
        {"topic": topic.slug, "region": region.slug if region else ""},
        {"topic": topic.slug},
        {},
    ]
    try:
        from charhar.search import Filters
    except ImportError:
        Filters = None
    search_params = None
    for filters in candidates:
        wanted = {"q": SEARCH_WORD, **filters}
        if filters and Filters is not None:
            parsed = Filters.from_query_dict(QueryDict(urlencode(wanted)))
            ignored = [key for key in filters if not getattr(parsed, FILTER_FIELDS[key], None)]
            if ignored:
                notes.append(f"The search page ignores the {', '.join(ignored)} filter(s).")
                continue
        status = answers(f"{reverse('search')}?{urlencode(wanted)}")
        if status == 200:
            search_params = wanted
            break
        notes.append(
            f"Search with {', '.join(filters) or 'no filter'} answered HTTP {status}: "
            "measured with fewer filters."
        )
    if search_params is None:
        search_params = {"q": SEARCH_WORD}
    elif len(search_params) < 3:
        notes.append(
            f"Search measured with {len(search_params) - 1} filter(s), not two: "
            f"{urlencode(search_params)}."
        )
    try:
        from charhar.bulk import RARE_TERMS

        rare = RARE_TERMS[0]
    except ImportError:
        rare = "kakakax"

    try:
        feed = reverse("feeds:all", kwargs={"fmt": "rss"})
    except NoReverseMatch:
        feed = None
        notes.append("No site-wide feed in the URL conf (feeds:all): the feed row is left out.")

    pages = [
        # (name, path, peer page compared with, whether it is the same kind of page)
        ("home", "/", "home", True),
        ("topic_p1", topic.get_absolute_url(), "index_p1", True),
        ("topic_deep", f"{topic.get_absolute_url()}?page={topic_deep}", "peer_deep_topic", True),
        ("articles_p1", reverse("articles:list"), "index_p1", True),
        ("articles_mid", f"{reverse('articles:list')}?page={mid_page}", "peer_deep_mid", True),
        ("article", article.get_absolute_url(), "article", True),
        ("expert", expert.get_absolute_url(), "article", False),
        ("search", f"{reverse('search')}?{urlencode(search_params)}", "search", True),
        ("search_rare", f"{reverse('search')}?{urlencode({'q': rare})}", "search_rare", True),
    ]
    if feed:
        pages.append(("feed", feed, "index_p1", False))

    working = []
    for page in pages:
        status = answers(page[1])
        if status == 200:
            working.append(page)
        else:
            notes.append(f"{page[0]} ({page[1]}) answered HTTP {status}: left out of this run.")
    pages = working

    meta = {
        "articles_published": total,
        "articles_pages": all_pages,
        "mid_page": mid_page,
        "topic": {"slug": topic.slug, "name": topic.name, "articles": topic.n},
        "topic_pages": topic_pages,
        "topic_deep_page": topic_deep,
        "expert": {"slug": expert.slug, "articles": expert.n},
        "search_params": search_params,
        "pages": [
            {"name": name, "path": path, "peer": peer, "same_kind": same}
            for name, path, peer, same in pages
        ],
        "peer_extra": {
            "peer_deep_topic": f"/articles/?page={topic_deep}",
            "peer_deep_mid": f"/articles/?page={mid_page}",
        },
        "notes": notes,
    }
    if args.memory_paths:
        Path(args.memory_paths).write_text(
            "\n".join(memory_paths(published, total, [p[1] for p in pages])) + "\n"
        )
    Path(args.meta).write_text(json.dumps(meta, indent=2, ensure_ascii=False))
    for name, path, *_ in pages:
        print(f"{name}={path}")


def memory_paths(published, total, measured) -> list[str]:
    """About 1,500 distinct pages: with the page cache on, the first pass renders each (and
    stores it) and later passes are served from the cache, so both paths run."""
    from django.urls import reverse

    from charhar.models import Topic
    from experts.models import Expert

    step = max(1, total // 1000)
    slugs = published.order_by("pk").values_list("slug", flat=True)[::step]
    paths = [p for p in measured if "search" not in p]
    paths += [reverse("articles:detail", kwargs={"slug": slug}) for slug in slugs]
    listing = reverse("articles:list")
    paths += [f"{listing}?page={n}" for n in range(1, min(200, total // PER_PAGE) + 1)]
    for topic in Topic.objects.all():
        count = published.filter(topics=topic).count()
        url = topic.get_absolute_url()
        paths += [f"{url}?page={n}" for n in range(1, min(20, math.ceil(count / PER_PAGE)) + 1)]
    paths += [e.get_absolute_url() for e in Expert.objects.published().order_by("pk")[:100]]
    return list(dict.fromkeys(paths))


if __name__ == "__main__":
    main()
