# ruff: noqa: S311 (benchmark data, not secrets)
"""Benchmark: the structured (JSON Lines) and WordPress (WXR) imports, fresh and re-run.

Generates N article records (with experts, topics, regions, a section, tags, some events)
as JSON Lines and N posts as a WXR file, then times on the configured database:

1. the structured import into an empty database (articles a second),
2. the same import again, nothing changed (records a second),
3. the WXR import, without images (posts a second),
4. the WXR import again, nothing changed (posts a second),

and the process's peak memory after a small and a large WXR file, to show the streaming
parser keeps it flat. Use a database of its own: the script empties the content tables.

    createdb -h 127.0.0.1 -U postgres charhar_import
    export SECRET_KEY=bench DATABASE_URL=postgres://postgres@127.0.0.1:5432/charhar_import
    .venv/bin/python bench/imports.py --articles 20000 --posts 20000 --wxr-mb 200

DATABASE_URL defaults to a SQLite file in /tmp.
"""

import argparse
import json
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WORDS = (  # noqa: SIM905
    "diplomacy peninsula summit cooperation dialogue security trade belt road initiative "
    "economy partnership region policy institute forum negotiation sanctions alliance "
    "development governance culture exchange strategy stability"
).split()
TOPICS = [
    "Public Diplomacy",
    "Belt & Road Initiative",
    "The Korean Peninsula",
    "Economic and Trade",
]
REGIONS = ["America", "Asia", "Europe&Middle East", "Africa&Latin America", "Indo-Pacific"]
SECTIONS = ["Public Diplomacy", "Peace Studies", "Charhar News"]


def sentence(rng, n=18):
    words = [rng.choice(WORDS) for _ in range(n)]
    return " ".join(words).capitalize() + "."


def article_records(n, seed=7):
    rng = random.Random(seed)
    # The experts first, as an export writes them: created in one batch, not one by one.
    for number in range(1, 201):
        yield {"type": "expert", "name": f"Expert {number}", "slug": f"expert-{number}"}
    for number in range(n):
        record = {
            "type": "article",
            "title": f"{sentence(rng, 7)[:-1]} {number}",
            "slug": f"bench-article-{number}",
            "kind": rng.choice(["commentary", "research", "news"]),
            "status": "published",
            "published_at": f"20{rng.randint(10, 23)}-{rng.randint(1, 12):02d}-"
            f"{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:30:00+08:00",
            "section": rng.choice(SECTIONS),
            "topics": rng.sample(TOPICS, rng.randint(1, 2)),
            "regions": rng.sample(REGIONS, rng.randint(0, 2)),
            "tags": [f"tag {rng.randint(1, 40)}" for _ in range(rng.randint(0, 3))],
            "authors": [f"Expert {rng.randint(1, 200)}" for _ in range(rng.randint(1, 2))],
            "summary": sentence(rng, 25),
            "body": "".join(f"<p>{sentence(rng, 60)}</p>" for _ in range(4)),
            "legacy_url": f"http://old.example.org/en/article/{number}.html",
        }
        if number % 100 == 0:
            record["event"] = {
                "starts_at": "2030-06-01T09:30:00",
                "time_zone": "Asia/Shanghai",
                "venue": "Charhar Institute",
                "city": "Beijing",
            }
        yield record


WXR_HEAD = """<?xml version="1.0" encoding="UTF-8" ?>
<rss version="2.0" xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/"
 xmlns:content="http://purl.org/rss/1.0/modules/content/"
 xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/">
<channel><title>Bench</title><link>http://old.example.org</link>
<wp:wxr_version>1.2</wp:wxr_version>
"""


UPLOADS = "http://old.example.org/wp-content/uploads/2018/06"


def write_wxr(path: Path, posts: int | None = None, megabytes: int | None = None, seed=11):
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as out:
        out.write(WXR_HEAD)
        for n in range(1, 201):
            out.write(
                f"<wp:author><wp:author_login><![CDATA[author{n}]]></wp:author_login>"
                f"<wp:author_display_name><![CDATA[Expert {n}]]></wp:author_display_name>"
                "</wp:author>\n"
            )
        number = 0
        while (posts is None or number < posts) and (
            megabytes is None or out.tell() < megabytes * 1_000_000
        ):
            number += 1
            body = "\n\n".join(sentence(rng, 60) for _ in range(4))
            out.write(
                f"""<item><title>{sentence(rng, 7)[:-1]} {number}</title>
<link>http://old.example.org/2018/06/post-{number}/</link>
<dc:creator><![CDATA[author{rng.randint(1, 200)}]]></dc:creator>
<guid isPermaLink="false">http://old.example.org/?p={number}</guid>
<content:encoded><![CDATA[{body}

[caption id="" align="alignnone"]<img src="{UPLOADS}/p{number}.jpg" alt="" /> Photo[/caption]
[gallery ids="1,2"]]]></content:encoded>
<excerpt:encoded><![CDATA[{sentence(rng, 20)}]]></excerpt:encoded>
<wp:post_id>{number}</wp:post_id>
<wp:post_date_gmt><![CDATA[2018-06-{rng.randint(1, 28):02d} 04:30:00]]></wp:post_date_gmt>
<wp:post_name><![CDATA[post-{number}]]></wp:post_name>
<wp:status><![CDATA[publish]]></wp:status>
<wp:post_type><![CDATA[post]]></wp:post_type>
<wp:is_sticky>0</wp:is_sticky>
<category domain="category" nicename="c{rng.randint(1, 5)}">
<![CDATA[{rng.choice(TOPICS)}]]></category>
<category domain="post_tag" nicename="t"><![CDATA[tag {rng.randint(1, 40)}]]></category>
</item>
"""
            )
        out.write("</channel></rss>\n")
    return number


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument(
        "--wxr-mb",
        type=int,
        default=0,
        help="Also import (dry run) a WXR file of this many MB and report peak memory.",
    )
    parser.add_argument("--batch-size", type=int, default=1000)
    args = parser.parse_args()

    os.environ.setdefault("SECRET_KEY", "bench")
    os.environ.setdefault("DATABASE_URL", "sqlite:////tmp/import-bench.sqlite3")
    os.environ["DJANGO_SETTINGS_MODULE"] = "charhar.settings.base"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from taggit.models import Tag

    from articles.models import Article, Section
    from charhar.models import Redirect, Region, Topic
    from charhar.transfer.structured import import_structured
    from charhar.transfer.wordpress import Mapping, import_wordpress
    from experts.models import Expert

    call_command("migrate", verbosity=0)
    print(f"Database: {connection.vendor} {connection.settings_dict['NAME']}")

    def empty():
        for model in (Redirect, Article, Expert, Tag, Topic, Region, Section):
            model.objects.all().delete()

    def report_line(label, report, unit, count):
        rate = count / report.elapsed
        created, unchanged = report.total("created"), report.total("unchanged")
        print(
            f"  {label:<44} {count:>7,} {unit} in {report.elapsed:6.2f} s = {rate:>8,.0f}/s  "
            f"(created {created:,}, unchanged {unchanged:,}, failed {report.failed})"
        )
        phases = ", ".join(f"{k} {v:.2f}" for k, v in report.timings.most_common())
        print(f"    seconds per phase: {phases}")

    work = Path(tempfile.mkdtemp(prefix="import-bench-"))
    jsonl = work / "articles.jsonl"
    with jsonl.open("w", encoding="utf-8") as out:
        for record in article_records(args.articles):
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    wxr = work / "posts.xml"
    write_wxr(wxr, posts=args.posts)

    empty()
    print(f"Structured import, {args.articles:,} articles ({jsonl.stat().st_size / 1e6:.1f} MB):")
    report = import_structured([jsonl], batch_size=args.batch_size)
    report_line("into an empty database", report, "articles", args.articles)
    report = import_structured([jsonl], batch_size=args.batch_size)
    report_line("again, unchanged", report, "records", report.records)

    empty()
    print(f"WXR import, {args.posts:,} posts without images ({wxr.stat().st_size / 1e6:.1f} MB):")
    mapping = Mapping.load()
    report = import_wordpress(wxr, mapping=mapping, batch_size=args.batch_size)
    report_line("into an empty database", report, "posts", args.posts)
    report = import_wordpress(wxr, mapping=mapping, batch_size=args.batch_size)
    report_line("again, unchanged", report, "posts", args.posts)
    print(f"  peak memory so far: {peak_mb():,.0f} MB")

    if args.wxr_mb:
        big = work / "big.xml"
        posts = write_wxr(big, megabytes=args.wxr_mb)
        size = big.stat().st_size / 1e6
        before = peak_mb()
        started = time.perf_counter()
        report = import_wordpress(big, mapping=mapping, dry_run=True, batch_size=args.batch_size)
        seconds = time.perf_counter() - started
        print(
            f"WXR dry run of a {size:,.0f} MB file ({posts:,} posts): {seconds:.1f} s, "
            f"peak memory {before:,.0f} MB before, {peak_mb():,.0f} MB after"
        )
        big.unlink()
    empty()


if __name__ == "__main__":
    main()
