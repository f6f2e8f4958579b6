"""Time and profile page cache hits in one process, without an HTTP server or wrk.

Each page is requested once to fill the cache, then `--repeat` times through Django's
`WSGIHandler` with a plain WSGI environ (no test client, which adds its own signals and
copies): the median time of a hit and, with `--profile`, the functions it spends its time
in. Any Django project is timed the same way: the framework ceiling's fixed page with
`--project /work/shared/bench/ceiling --settings ceiling.settings fixed=/fixed/`.

Run with the server's environment (production settings, `DATABASE_URL`, `CACHE_URL`):

    env DJANGO_SETTINGS_MODULE=charhar.settings.production DATABASE_URL=... CACHE_URL=... \\
      SECRET_KEY=... ALLOWED_HOSTS=127.0.0.1 SECURE_SSL_REDIRECT=0 \\
      .venv/bin/python bench/profile_hit.py --profile home=/ article=/articles/some-slug/

`LOG_LEVEL=INFO` includes the request log line in the cost, as production logs it.
"""

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def environ(path: str) -> dict:
    path, _, query = path.partition("?")
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SCRIPT_NAME": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_ACCEPT": "*/*",
        "HTTP_USER_AGENT": "wrk",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def call(app, path: str) -> tuple[str, dict]:
    answer = {}

    def start_response(status, headers, exc_info=None):
        answer["status"] = status
        answer["headers"] = dict(headers)

    body = app(environ(path), start_response)
    try:
        for _chunk in body:
            pass
    finally:
        getattr(body, "close", lambda: None)()
    return answer["status"], answer["headers"]


def median_ms(app, path: str, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call(app, path)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2000)
    parser.add_argument("--profile", action="store_true", help="Print each page's profile.")
    parser.add_argument("--lines", type=int, default=25, help="Profile rows to print.")
    parser.add_argument("--project", default=str(ROOT), help="The Django project's directory.")
    parser.add_argument("--settings", default="charhar.settings.production")
    parser.add_argument("pairs", nargs="+", help="name=path")
    args = parser.parse_args()

    sys.path.insert(0, args.project)
    os.environ["DJANGO_SETTINGS_MODULE"] = args.settings
    from django.core.wsgi import get_wsgi_application

    app = get_wsgi_application()
    print(f"load\t{' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    print("name\tpath\tstatus\tpage_cache\thit_ms")
    for pair in args.pairs:
        name, path = pair.split("=", 1)
        call(app, path)
        status, headers = call(app, path)
        hit = headers.get("X-Page-Cache", "-")
        print(f"{name}\t{path}\t{status}\t{hit}\t{median_ms(app, path, args.repeat):.3f}")
        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(args.repeat):
                call(app, path)
            profiler.disable()
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out).sort_stats("cumulative")
            stats.print_stats(args.lines)
            print(out.getvalue(), file=sys.stderr)


if __name__ == "__main__":
    main()
