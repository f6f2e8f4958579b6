"""The pages `bench/load.sh` cycles through: home, listings, articles and search, many distinct.

Prints one path a line, in a fixed shuffled order (so that every stretch of the cycle mixes
kinds of page), and checks a sample of each kind answers 200 through the full stack. Run with
the server's environment (production settings, DATABASE_URL); ``testserver`` must be in
``ALLOWED_HOSTS``.

The mix, at 100,000 articles (about 2,200 distinct pages):

- the home page, one request in twenty;
- listings: /articles/ pages 1 to 50, News & Events, Research, events, experts, publications,
  each topic's and region's first 5 pages, each section's and kind's first 3 (those that
  exist), the 50 largest tags;
- 1,500 articles, spread evenly over the whole table;
- 60 searches: common words, alone and with a kind or a topic filter, and rare words.
"""

import argparse
import math
import os
import random
import sys
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PER_PAGE = 20

SEARCH_WORDS = [
    "policy", "diplomacy", "trade", "security", "cooperation", "economy", "climate",
    "energy", "maritime", "governance", "development", "dialogue", "region", "summit",
]  # fmt: skip


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1500, help="Distinct articles.")
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--no-check", action="store_true", help="Skip the 200 checks.")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "charhar.settings.production")
    import django

    django.setup()
    from django.db.models import Count
    from django.test import Client
    from django.urls import reverse
    from taggit.models import Tag

    from articles.models import Article, Section
    from charhar.bulk import RARE_TERMS
    from charhar.models import Region, Topic

    published = Article.objects.published()
    total = published.count()
    if total == 0:
        sys.exit("load_paths.py: the database has no published article.")

    listings = [f"{reverse('articles:list')}?page={n}" for n in range(1, 51)]
    listings += [
        reverse(name)
        for name in (
            "articles:news",
            "articles:research",
            "articles:events",
            "articles:past_events",
            "experts:list",
            "publications:list",
            "topics",
            "regions",
        )
    ]

    def pages_of(url: str, articles, most: int) -> list[str]:
        """The group's first `most` pages that exist (a page past the last is a 404)."""
        pages = min(most, max(1, math.ceil(articles.count() / PER_PAGE)))
        return [url] + [f"{url}?page={n}" for n in range(2, pages + 1)]

    for topic in Topic.objects.order_by("pk"):
        listings += pages_of(topic.get_absolute_url(), published.filter(topics=topic), 5)
    for region in Region.objects.order_by("pk"):
        listings += pages_of(region.get_absolute_url(), published.filter(regions=region), 5)
    for section in Section.objects.order_by("pk"):
        url = reverse("articles:section", kwargs={"slug": section.slug})
        listings += pages_of(url, published.filter(section=section), 3)
    for kind in Article.Kind.values:
        url = reverse("articles:kind", kwargs={"kind": kind})
        listings += pages_of(url, published.filter(kind=kind), 3)
    tags = Tag.objects.annotate(n=Count("articles_taggedarticle_items")).order_by("-n", "pk")[:50]
    listings += [reverse("articles:tag", kwargs={"slug": tag.slug}) for tag in tags]

    step = max(1, total // args.articles)
    slugs = published.order_by("pk").values_list("slug", flat=True)[::step][: args.articles]
    articles = [reverse("articles:detail", kwargs={"slug": slug}) for slug in slugs]

    search = reverse("search")
    topic_slugs = list(Topic.objects.order_by("pk").values_list("slug", flat=True)[:3])
    searches = []
    for word in SEARCH_WORDS:
        searches.append(f"{search}?{urlencode({'q': word})}")
        searches.append(f"{search}?{urlencode({'q': word, 'kind': 'research'})}")
        if topic_slugs:
            topic = topic_slugs[len(searches) % len(topic_slugs)]
            searches.append(f"{search}?{urlencode({'q': word, 'topic': topic})}")
    searches += [f"{search}?{urlencode({'q': term})}" for term in RARE_TERMS[:18]]

    mixed = listings + articles + searches
    random.Random(args.seed).shuffle(mixed)  # noqa: S311 (a fixed order, not a secret)
    paths = []
    for n, path in enumerate(mixed):
        if n % 19 == 0:
            paths.append("/")
        paths.append(path)

    if not args.no_check:
        client = Client()
        sample = ["/", *listings[:3], *listings[-3:], *articles[:3], *searches[:3]]
        for path in sample:
            status = client.get(path).status_code
            if status != 200:
                sys.exit(f"load_paths.py: {path} answered HTTP {status}.")

    print("\n".join(paths))
    print(
        f"load_paths.py: {len(set(paths)):,} distinct pages ({len(listings):,} listings, "
        f"{len(articles):,} articles, {len(searches):,} searches, the home page) in a cycle "
        f"of {len(paths):,}",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
