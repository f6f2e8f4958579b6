"""Benchmark: send one campaign to N confirmed subscribers with the file email backend.

Measures the sending command's own work (building, writing and recording each message) in
messages per second, and the process's resident memory as the send goes on, to show it
stays flat. Use a database of its own: the script empties the newsletter tables first.

    export SECRET_KEY=bench DATABASE_URL=postgres://postgres@127.0.0.1:5432/charhar_news_bench
    .venv/bin/python bench/newsletter_send.py --subscribers 100000

DATABASE_URL defaults to a SQLite file in /tmp; mail goes to files in a temporary folder.
"""

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--profile", action="store_true", help="Print a cProfile summary.")
    parser.add_argument("--keep-mail", action="store_true", help="Keep the written mail files.")
    args = parser.parse_args()

    mail_dir = Path(tempfile.mkdtemp(prefix="newsletter-bench-"))
    os.environ.setdefault("SECRET_KEY", "bench")
    os.environ.setdefault("DATABASE_URL", "sqlite:////tmp/newsletter-bench.sqlite3")
    os.environ["EMAIL_URL"] = "filemail://"
    os.environ["DJANGO_SETTINGS_MODULE"] = "charhar.settings.base"

    import django

    django.setup()

    from django.conf import settings

    settings.EMAIL_FILE_PATH = str(mail_dir)

    from django.core.management import call_command
    from django.utils import timezone

    from articles.models import Article
    from newsletter import services
    from newsletter.models import Campaign, Delivery, Subscriber

    call_command("migrate", verbosity=0)
    Delivery.objects.all().delete()
    Campaign.objects.all().delete()
    Subscriber.objects.all().delete()

    rng = random.Random(7)  # noqa: S311 - synthetic data, not security
    now = timezone.now()
    started = time.perf_counter()
    batch = []
    for n in range(args.subscribers):
        flags = [rng.random() < 0.7 for _ in range(4)]
        if not any(flags):
            flags[0] = True
        batch.append(
            Subscriber(
                email=f"reader{n}@example.org",
                status=Subscriber.Status.CONFIRMED,
                wants_news=flags[0],
                wants_events=flags[1],
                wants_opinion=flags[2],
                wants_publications=flags[3],
                consent_at=now,
                confirmed_at=now,
            )
        )
        if len(batch) == 5000:
            Subscriber.objects.bulk_create(batch)
            batch = []
    Subscriber.objects.bulk_create(batch)
    print(f"{args.subscribers:,} subscribers created in {time.perf_counter() - started:.1f} s")

    for kind in Article.Kind.values:
        for n in range(3):
            Article.objects.get_or_create(
                slug=f"bench-{kind}-{n}",
                defaults={
                    "title": f"A {kind} piece number {n} for the benchmark",
                    "summary": "A summary of one or two sentences, as readers see in listings. "
                    * 2,
                    "kind": kind,
                    "status": Article.Status.PUBLISHED,
                    "published_at": now,
                },
            )
    campaign = Campaign.objects.create(subject="Benchmark issue", intro="Hello.\n\nThis month.")
    services.pick_content(campaign)

    samples = []

    def progress(report):
        samples.append((report.done, rss_mb()))

    rss_before = rss_mb()
    started = time.perf_counter()
    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.enable()
    report = services.send_campaign(campaign, batch_size=args.batch_size, progress=progress)
    if args.profile:
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
    elapsed = time.perf_counter() - started

    files = list(mail_dir.iterdir())
    size = sum(path.stat().st_size for path in files)
    print(f"backend: file ({len(files)} files, {size / 1e6:.0f} MB of mail)")
    print(f"database: {django.db.connection.vendor}")
    print(
        f"sent {report.sent:,}, skipped {report.skipped:,}, failed {report.failed:,} "
        f"in {elapsed:.1f} s: {report.sent / elapsed:,.0f} messages/s"
    )
    print(f"RSS before sending: {rss_before:.0f} MB")
    for fraction in (0.1, 0.25, 0.5, 0.75, 1.0):
        done, rss = samples[min(len(samples) - 1, int(len(samples) * fraction) - 1)]
        print(f"RSS after {done:>7,} messages: {rss:.0f} MB")
    if not args.keep_mail:
        shutil.rmtree(mail_dir)


if __name__ == "__main__":
    main()
