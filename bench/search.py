"""Search benchmark: server time of /search/ with facets, through the Django test client.

    DEBUG=1 PAGE_CACHE_SECONDS=0 DATABASE_URL=postgres://…/charhar_bulk \\
        .venv/bin/python bench/search.py [--rounds 20] [--mix 200] [--only NAME] [--cold-only]

The page cache is off, so every request renders. Each scenario's requests are timed twice:

- *cold*: the content version is replaced before each request (outside the timing), so the
  search's cached counts are gone and it reads the database as after any content change;
- *warm*: the same requests twice more, timed the second time, when each search's counts and
  first places are cached (what a repeated search, or a later page of one, costs until
  content changes).

`mix` is `--mix` requests drawn (seeded) from about 40 distinct searches: common and rare
words, a phrase, OR, an exclusion, filters, sort by date, page 50. It is run cold and *as it
comes*: the cache kept across the run, so a search's first request is cold and its repeats
are not. p50 and p99 are over all the requests of a run; the load average is printed first.
Last, the requests of the six two-filter scenarios (`TWO_FILTERS`) are reported together,
cold and warm.
"""

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "charhar.settings.base")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from charhar.bulk import RARE_TERMS  # noqa: E402
from charhar.models import Region, Topic  # noqa: E402
from charhar.pagecache import bump_content_version, content_state  # noqa: E402

ISSUE_SEARCH = {
    "q": "policy",
    "topic": "public-diplomacy-and-international-relations",
    "kind": "research",
}


# The scenarios of issue 6's target ("search with two filters and facets"), also reported
# together: their requests pooled, as a reader's searches come.
TWO_FILTERS = (
    "issue: policy + topic + kind",
    "rare word + topic + years",
    "rare word + kind + region",
    "common word + topic + kind",
    "phrase + topic + years",
    "nothing typed, two filters",
)


def scenarios(rounds: int, mix: int) -> dict[str, list[dict]]:
    topics = [t.slug for t in Topic.objects.all()]
    regions = [r.slug for r in Region.objects.all()]
    rare = list(RARE_TERMS[:rounds])
    common = ["trade", "diplomacy", "security", "maritime", "summit", "climate"]
    runs = {
        "issue: policy + topic + kind": [dict(ISSUE_SEARCH) for _ in range(rounds)],
        "rare word + topic + years": [
            {"q": w, "topic": topics[i % len(topics)], "year_from": "2019"}
            for i, w in enumerate(rare)
        ],
        "rare word + kind + region": [
            {"q": w, "kind": "commentary", "region": regions[i % len(regions)]}
            for i, w in enumerate(rare)
        ],
        "common word + topic + kind": [
            {"q": common[i % len(common)], "topic": topics[i % len(topics)], "kind": "research"}
            for i in range(rounds)
        ],
        "phrase + topic + years": [
            {"q": '"public diplomacy"', "topic": topics[i % len(topics)], "year_from": "2024"}
            for i in range(rounds)
        ],
        "common word, no filter": [{"q": common[i % len(common)]} for i in range(rounds)],
        "nothing typed, two filters": [
            {"topic": topics[i % len(topics)], "region": regions[i % len(regions)]}
            for i in range(rounds)
        ],
    }
    pool = [
        dict(ISSUE_SEARCH),
        {**ISSUE_SEARCH, "sort": "date"},
        {**ISSUE_SEARCH, "page": "2"},
        {"q": "policy", "page": "50"},
        {"q": "diplomacy", "sort": "date", "page": "50"},
        {"q": '"public diplomacy"'},
        {"q": '"public diplomacy"', "region": regions[0]},
        {"q": "korea or japan"},
        {"q": "maritime or arctic", "kind": "commentary"},
        {"q": "diplomacy -trade"},
        {"q": "security -climate", "topic": topics[1 % len(topics)]},
        {"q": "trade", "region": regions[1 % len(regions)], "year_from": "2020"},
        {"q": "summit", "kind": "news", "sort": "date"},
        {"topic": topics[0]},
        {"topic": topics[2 % len(topics)], "region": regions[2 % len(regions)]},
        {"kind": "research", "year_from": "2022", "year_to": "2023"},
        {},
    ]
    pool += [{"q": w} for w in RARE_TERMS[100:112]]
    pool += [{"q": w, "topic": topics[i % len(topics)]} for i, w in enumerate(RARE_TERMS[200:210])]
    pool += [{"q": w} for w in common]
    draw = random.Random(6)  # noqa: S311 - a repeatable mix, not a secret
    runs["mix"] = [dict(draw.choice(pool)) for _ in range(mix)]
    return runs


def measure(client, requests, cold: bool) -> tuple[list[float], set[int]]:
    times, queries = [], set()
    for params in requests:
        if cold:
            bump_content_version()
            content_state()  # the site-wide state is read once per change, not per search
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            response = client.get("/search/", params)
            times.append((time.perf_counter() - start) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{params} answered {response.status_code}")
        queries.add(len(captured))
    return times, queries


def report(name: str, mode: str, times: list[float], queries: set[int]) -> None:
    times = sorted(times)
    p99 = times[min(len(times) - 1, round(0.99 * (len(times) - 1)))]
    print(
        f"{name:30} {mode:12} n={len(times):3}  p50 {statistics.median(times):7.1f} ms  "
        f"p99 {p99:7.1f} ms  max {times[-1]:7.1f} ms  queries {sorted(queries)}",
        flush=True,
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--mix", type=int, default=200)
    parser.add_argument("--only", action="append", help="scenario names to run (repeatable)")
    parser.add_argument("--cold-only", action="store_true", help="skip the warm runs")
    args = parser.parse_args()
    client = Client(HTTP_HOST="localhost")
    client.get("/search/", {"q": "warm"})
    print("load average:", Path("/proc/loadavg").read_text().split()[:3], flush=True)
    pooled = {"cold": ([], set()), "warm": ([], set())}
    for name, requests in scenarios(args.rounds, args.mix).items():
        if args.only and name not in args.only:
            continue
        times, queries = measure(client, requests, cold=True)
        report(name, "cold", times, queries)
        if name in TWO_FILTERS:
            pooled["cold"][0].extend(times)
            pooled["cold"][1].update(queries)
        if args.cold_only:
            continue
        if name == "mix":
            bump_content_version()
            content_state()
            report(name, "as it comes", *measure(client, requests, cold=False))
        else:
            measure(client, requests, cold=False)  # each search once, into the cache
            times, queries = measure(client, requests, cold=False)
            report(name, "warm", times, queries)
            if name in TWO_FILTERS:
                pooled["warm"][0].extend(times)
                pooled["warm"][1].update(queries)
    for mode, (times, queries) in pooled.items():
        if times:
            report("every two-filter search", mode, times, queries)
    print("load average:", Path("/proc/loadavg").read_text().split()[:3], flush=True)


if __name__ == "__main__":
    main()
