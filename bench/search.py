"""Search benchmark: server time of /search/ with facets, through the Django test client.

    DEBUG=1 PAGE_CACHE_SECONDS=0 DATABASE_URL=postgres://…/charhar_bulk \\
        .venv/bin/python bench/search.py [--rounds 20]

Each scenario is requested `rounds` times over several queries (the page cache is off, so
every request renders); p50 and p99 are over all its requests.
"""

import argparse
import os
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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    rounds = parser.parse_args().rounds
    topics = [t.slug for t in Topic.objects.all()]
    regions = [r.slug for r in Region.objects.all()]
    rare = list(RARE_TERMS[:rounds])
    common = ["trade", "diplomacy", "security", "maritime", "summit", "climate"]
    scenarios = {
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
    client = Client(HTTP_HOST="localhost")
    client.get("/search/", {"q": "warm"})
    for name, requests in scenarios.items():
        times, queries = [], set()
        for params in requests:
            with CaptureQueriesContext(connection) as captured:
                start = time.perf_counter()
                response = client.get("/search/", params)
                times.append((time.perf_counter() - start) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"{params} answered {response.status_code}")
            queries.add(len(captured))
        times.sort()
        p99 = times[min(len(times) - 1, round(0.99 * (len(times) - 1)))]
        print(
            f"{name:32} n={len(times):3}  p50 {statistics.median(times):6.1f} ms  "
            f"p99 {p99:6.1f} ms  queries {sorted(queries)}"
        )


if __name__ == "__main__":
    main()
