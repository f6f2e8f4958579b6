"""The statement a cold search runs (counts, facets and the first places), on the code of a
base commit and on this checkout, interleaved in one process on one database.

    DEBUG=1 DATABASE_URL=postgres://…/charhar_s100k \\
        .venv/bin/python bench/search_ab.py --base 4da1d65 [--rounds 25] ['{"q": "…"}' …]

On a machine whose speed moves from minute to minute, running before and after one at a
time measures the machine as much as the code; alternating them request by request does
not. Only `charhar/search.py` is taken from the base commit (its SQL must fit the current
schema). Each search (a JSON object of URL parameters; by default the two-filter searches
of `bench/search.py`) is read `--rounds` times by each, alternately, from the database
(never the cache); both must give the same counts and the same first places. Prints the
median, the lower quartile and the fastest read, in ms.
"""

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "charhar.settings.base")

import django  # noqa: E402

django.setup()

from django.http import QueryDict  # noqa: E402

from bench.search import ISSUE_SEARCH  # noqa: E402
from charhar import search as current  # noqa: E402
from charhar.models import Region, Topic  # noqa: E402


def load_base(commit: str):
    source = subprocess.run(  # noqa: S603 - git, on a commit named by whoever runs this
        ["git", "show", f"{commit}:charhar/search.py"],  # noqa: S607
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    path = Path(tempfile.mkdtemp()) / "search_base.py"
    path.write_text(source)
    # In the charhar package, so that its relative imports find the current modules.
    spec = importlib.util.spec_from_file_location("charhar.search_base", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def default_searches() -> list[dict]:
    topics = list(Topic.objects.order_by("pk").values_list("slug", flat=True))
    regions = list(Region.objects.order_by("pk").values_list("slug", flat=True))
    return [
        dict(ISSUE_SEARCH),
        {"q": "trade", "topic": topics[2 % len(topics)], "kind": "research"},
        {"q": '"public diplomacy"', "topic": topics[1 % len(topics)], "year_from": "2024"},
        {"topic": topics[3 % len(topics)], "region": regions[0]},
        {"q": "climate", "kind": "commentary", "region": regions[1 % len(regions)]},
    ]


def read(module, params: dict) -> tuple[float, dict]:
    data = QueryDict(urlencode(params))
    search = module.Search(data.get("q", ""), module.Filters.from_query_dict(data))
    start = time.perf_counter()
    summary = search._read_summary()
    return (time.perf_counter() - start) * 1000, summary


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True, help="the commit to compare with")
    parser.add_argument("--rounds", type=int, default=25)
    parser.add_argument("searches", nargs="*", help="JSON objects of URL parameters")
    args = parser.parse_args()
    base = load_base(args.base)
    searches = [json.loads(text) for text in args.searches] or default_searches()
    print("load average:", Path("/proc/loadavg").read_text().split()[:3], flush=True)
    for params in searches:
        times = {"base": [], "this": []}
        for _ in range(args.rounds):
            base_ms, before = read(base, params)
            this_ms, after = read(current, params)
            if sorted(map(tuple, before["facets"])) != sorted(map(tuple, after["facets"])):
                raise SystemExit(f"{params}: the counts differ")
            if before["lead"] != after["lead"]:
                raise SystemExit(f"{params}: the first places differ")
            times["base"].append(base_ms)
            times["this"].append(this_ms)
        shown = "  ".join(
            f"{name} {statistics.median(ms):6.1f} / {sorted(ms)[len(ms) // 4]:6.1f} / "
            f"{min(ms):6.1f}"
            for name, ms in times.items()
        )
        print(f"{json.dumps(params)[:80]:80}  {shown}", flush=True)
    print("load average:", Path("/proc/loadavg").read_text().split()[:3], flush=True)


if __name__ == "__main__":
    main()
