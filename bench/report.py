"""Turn one run's outputs (``bench/out/``) into the report: one table of pages, the targets
met and missed, batch-job speeds and the worker-memory check. Prints Markdown; with
``--append FILE`` also appends it to that file (docs/performance.md).

Only the standard library: it runs with any Python. Missing outputs (a run with ``ONLY=``)
leave their cells as "–".
"""

import argparse
import csv
import datetime
import json
import os
import re
from pathlib import Path

DASH = "–"
# Issue 8's server-time targets (ms, page cache off), by page.
SERVER_MS = {
    "home": 20,
    "topic_p1": 20,
    "articles_p1": 20,
    "article": 20,
    "expert": 20,
    "topic_deep": 30,
    "articles_mid": 30,
    "search": 50,
    "search_rare": 50,
}
# Pages that must reach half the ceiling's requests a second with the page cache on.
CEILING_PAGES = ("home", "topic_p1", "topic_deep", "articles_p1", "articles_mid", "article")
PEER_FACTOR = 5
CEILING_SHARE = 0.5
HOME_HTML_LIMIT = 60 * 1024
MEMORY_GROWTH_LIMIT = 0.05
# bench/imports.py's result lines: "  into an empty database   10,000 articles in 6.20 s = 1,613/s"
IMPORT_LINE = re.compile(
    r"\s+(into an empty database|again, unchanged)\s+([\d,]+) (\w+) in\s+([\d.]+) s = \s*([\d,]+)/s"
)  # a worker may grow by 5 % over the check and still count as flat


def read_tsv(path: Path) -> dict[str, dict]:
    if not path.exists():
        return {}
    with path.open(newline="") as handle:
        return {row["name"]: row for row in csv.DictReader(handle, delimiter="\t")}


def read_pairs(path: Path, sep="\t") -> dict[str, str]:
    if not path.exists():
        return {}
    pairs = {}
    for line in path.read_text().splitlines():
        if sep in line:
            key, value = line.split(sep, 1)
            pairs[key.strip()] = value.strip()
    return pairs


def num(value) -> float | None:
    try:
        return float(str(value).replace(",", ""))
    except (TypeError, ValueError):
        return None


def fmt(value, digits=1) -> str:
    value = num(value)
    if value is None:
        return DASH
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:,.{digits}f}"


def ratio(a, b, bound=None) -> str:
    """a ÷ b; when b is 0 (no request completed) and `bound` is b's upper bound, "> a ÷ bound"."""
    a, b = num(a), num(b)
    if a is None or b is None:
        return DASH
    if b == 0:
        return f"> {a / bound:.0f}×" if bound and a else DASH
    return f"{a / b:.1f}×" if a / b >= 1 else f"{a / b:.2f}×"


def seconds(duration: str) -> float | None:
    """wrk's duration ("10s", "2m") in seconds."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([smh]?)", duration or "")
    if not match:
        return None
    return float(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[match.group(2)]


def tick(ok: bool | None) -> str:
    return DASH if ok is None else ("met" if ok else "**missed**")


class Run:
    def __init__(self, out: Path):
        self.out = out
        self.machine = read_pairs(out / "machine.txt", "=")
        meta = out / "paths.json"
        self.meta = json.loads(meta.read_text()) if meta.exists() else {}
        self.off = self.merge("ours_off")
        self.on = self.merge("ours_on")
        self.peer = read_tsv(out / "peer" / "peer_wagtail.tsv")
        self.peer.update(self.merge("peer_extra"))
        self.ceiling = read_tsv(out / "peer" / "ceiling.tsv")
        self.setup = read_pairs(out / "ours.setup.tsv")
        self.static_time = read_pairs(out / "ours.static.tsv")
        self.peer_setup = read_pairs(out / "peer" / "peer_wagtail.setup.tsv")
        self.conditional = self.read_conditional()
        self.static = read_pairs(out / "static.tsv")
        self.started = (out / "started").read_text().strip() if (out / "started").exists() else ""

    def merge(self, label: str) -> dict[str, dict]:
        rows = read_tsv(self.out / f"{label}.load.tsv")
        for name, extra in read_tsv(self.out / f"{label}.queries.tsv").items():
            rows.setdefault(name, {"name": name, "path": extra["path"]})
            rows[name].update({k: v for k, v in extra.items() if k not in ("name", "path")})
        return rows

    def read_conditional(self) -> dict[str, tuple]:
        path = self.out / "conditional.tsv"
        if not path.exists():
            return {}
        rows = {}
        for line in path.read_text().splitlines():
            name, etag, last_modified, status = [*line.split("\t"), "", "", ""][:4]
            rows[name] = (etag, last_modified, status)
        return rows

    @property
    def pages(self) -> list[dict]:
        if self.meta:
            return self.meta["pages"]
        return [
            {"name": n, "path": r["path"], "peer": "", "same_kind": False}
            for n, r in self.off.items()
        ]

    @property
    def load(self) -> str:
        """The load shape: from machine.txt, else from the environment run.sh exports."""
        m, env = self.machine, os.environ
        return m.get("load") or (
            f"wrk -t{env.get('THREADS', '1')} -c{env.get('CONNS', '8')}, "
            f"{env.get('WARMUP', '3s')} warm-up, {env.get('DURATION', '10s')} measured"
        )

    @property
    def zero_bound(self) -> float | None:
        """Upper bound of the req/s of a page that completed no request in the run."""
        duration = seconds(self.machine.get("duration") or os.environ.get("DURATION", "10s"))
        return 1 / duration if duration else None

    @property
    def fixed(self) -> dict:
        return self.ceiling.get("fixed_30k", {})


def page_table(run: Run) -> list[str]:
    lines = [
        "| page | path | off req/s | off p50 ms | off p99 ms | queries | server ms "
        "| on req/s | on p50 ms | on p99 ms | peer page | peer req/s | peer p50 ms "
        "| peer queries | peer server ms | off ÷ peer | on ÷ ceiling |",
        "|" + "---|" * 2 + "---:|" * 8 + "---|" + "---:|" * 6,
    ]
    for page in run.pages:
        name = page["name"]
        off, on = run.off.get(name, {}), run.on.get(name, {})
        peer_name = page.get("peer", "")
        peer = run.peer.get(peer_name, {})
        label = peer_name + ("" if page.get("same_kind") else " (closest; no such page)")
        if peer_name.startswith("peer_deep") and peer:
            label = f"index {peer.get('path', '').split('?')[-1]}"
        if peer and num(peer.get("requests")) == 0:
            peer_rate, peer_p50 = "0 (none completed)", DASH
        else:
            peer_rate, peer_p50 = fmt(peer.get("req_s")), fmt(peer.get("p50_ms"))
        lines.append(
            f"| {name} | `{page['path']}` | {fmt(off.get('req_s'))} | {fmt(off.get('p50_ms'))} "
            f"| {fmt(off.get('p99_ms'))} | {off.get('queries_warm', DASH)} "
            f"| {fmt(off.get('inproc_ms'))} | {fmt(on.get('req_s'))} | {fmt(on.get('p50_ms'))} "
            f"| {fmt(on.get('p99_ms'))} | {label if peer else DASH} | {peer_rate} "
            f"| {peer_p50} | {peer.get('queries_warm', DASH)} "
            f"| {fmt(peer.get('inproc_ms'))} "
            f"| {ratio(off.get('req_s'), peer.get('req_s'), run.zero_bound)} "
            f"| {ratio(on.get('req_s'), run.fixed.get('req_s'))} |"
        )
    for name, row in run.ceiling.items():
        lines.append(
            f"| ceiling {name} | `{row.get('path', '')}` |"
            + f" {DASH} |" * 8
            + f" ceiling | {fmt(row.get('req_s'))} | {fmt(row.get('p50_ms'))} "
            f"| {row.get('queries_warm', DASH)} | {fmt(row.get('inproc_ms'), 2)} "
            f"| {DASH} | {DASH} |"
        )
    errors = [
        f"{name} ({mode}: {row.get('non2xx')} non-2xx, {row.get('sock_err')} socket errors)"
        for mode, rows in (("off", run.off), ("on", run.on), ("peer", run.peer))
        for name, row in rows.items()
        if (num(row.get("non2xx")) or 0) + (num(row.get("sock_err")) or 0) > 0
    ]
    if errors:
        lines += ["", "Errors during the load: " + "; ".join(errors) + "."]
    return lines


def targets(run: Run) -> list[str]:
    lines = ["| target | page | figure | verdict |", "|---|---|---|---|"]

    def add(target, page, figure, ok):
        lines.append(f"| {target} | {page} | {figure} | {tick(ok)} |")

    for page in run.pages:
        name = page["name"]
        off = run.off.get(name, {})
        peer = run.peer.get(page.get("peer", ""), {})
        a, b = num(off.get("req_s")), num(peer.get("req_s"))
        if a is None or b is None:
            continue
        kind = "" if page.get("same_kind") else f" (vs peer {page['peer']}: no such peer page)"
        target = f"cache off ≥ {PEER_FACTOR}× peer req/s"
        if b:
            add(target, name + kind, f"{a:,.1f} vs {b:,.1f} = {a / b:.1f}×", a >= PEER_FACTOR * b)
        elif run.zero_bound:
            add(
                target,
                name + kind,
                f"{a:,.1f} vs under {run.zero_bound:.1f} (the peer completed no request in the "
                f"run; {fmt(peer.get('inproc_ms'))} ms a request in-process) = "
                f"{ratio(a, b, run.zero_bound)}",
                a >= PEER_FACTOR * run.zero_bound,
            )
    for page in run.pages:
        name = page["name"]
        limit = SERVER_MS.get(name)
        value = num(run.off.get(name, {}).get("inproc_ms"))
        if limit and value is not None:
            p50 = fmt(run.off[name].get("p50_ms"))
            add(
                f"server time ≤ {limit} ms (cache off)",
                name,
                f"{value:.1f} ms in-process median (wrk p50 {p50} ms under load)",
                value <= limit,
            )
    fixed = num(run.fixed.get("req_s"))
    for name in CEILING_PAGES:
        value = num(run.on.get(name, {}).get("req_s"))
        if value is not None and fixed:
            add(
                f"cache on ≥ {CEILING_SHARE:.0%} of the ceiling",
                name,
                f"{value:,.0f} vs {fixed:,.0f} = {value / fixed:.0%}",
                value >= CEILING_SHARE * fixed,
            )
    if run.conditional:
        bad = [n for n, (etag, _, status) in run.conditional.items() if not etag or status != "304"]
        add(
            "ETag and 304 on a repeated request",
            "every measured page",
            "all 304" if not bad else "not on: " + ", ".join(bad),
            not bad,
        )
        with_lm = [n for n, (_, lm, _) in run.conditional.items() if lm == "yes"]
        lines.append(
            f"| (Last-Modified) | every measured page | sent on {len(with_lm)} of "
            f"{len(run.conditional)} (the ETag is the validator) | {DASH} |"
        )
    if run.static:
        size = num(run.static.get("home_html_bytes"))
        if size is not None:
            add("home page HTML < 60 KB", "home", f"{size / 1024:.1f} KB", size < HOME_HTML_LIMIT)
        third = num(run.static.get("third_party_assets"))
        if third is not None:
            add("no third-party asset", "home", f"{third:.0f} off-site script/link", third == 0)
        if run.static.get("stylesheet", "none") != "none":
            control = run.static.get("stylesheet_cache_control", "")
            max_age = re.search(r"max-age=(\d+)", control)
            ok = (
                run.static.get("stylesheet_hashed") == "yes"
                and run.static.get("stylesheet_br") == "br"
                and run.static.get("stylesheet_gzip") == "gzip"
                and bool(max_age)
                and int(max_age.group(1)) >= 365 * 24 * 3600
            )
            add(
                "static: hashed, brotli + gzip, cached a year",
                run.static["stylesheet"],
                f"hashed {run.static.get('stylesheet_hashed')}, br: "
                f"{run.static.get('stylesheet_br') or 'no'}, gzip: "
                f"{run.static.get('stylesheet_gzip') or 'no'}, Cache-Control: {control or 'none'}",
                ok,
            )
    memory = memory_summary(run)
    if memory:
        add(
            f"worker memory flat (< {MEMORY_GROWTH_LIMIT:.0%} growth after the first pass)",
            "mix of pages",
            memory[0],
            memory[1],
        )
    return lines


def memory_summary(run: Run):
    """RSS per worker at the start, once every page of the cycle has been served (and, with
    the page cache on, rendered and stored), and at the end. Flat means the end is within
    MEMORY_GROWTH_LIMIT of the second figure: what the first pass adds is warm-up."""
    path = run.out / "memory.tsv"
    if not path.exists():
        return None
    lines = path.read_text().splitlines()[1:]
    rounds = [r for r in (line.split("\t") for line in lines) if r and r[0].isdigit()]
    info = dict(line.split("\t", 1) for line in lines if line and not line[0].isdigit())
    if len(rounds) < 3:
        return None

    def rss(row):
        return {pid: int(kb) / 1024 for pid, kb in (item.split(":") for item in row[4].split())}

    distinct = int(info.get("distinct", "0") or 0)
    warm = next((r for r in rounds[1:] if int(r[1]) >= distinct), rounds[-1])
    first, middle, last = rss(rounds[0]), rss(warm), rss(rounds[-1])
    complete = warm is not rounds[-1]  # else the check ended within the first pass
    parts, ok = [], True if complete else None
    for pid, start in first.items():
        if pid not in last or pid not in middle:
            parts.append(f"worker {pid} replaced")
            ok = False
        elif complete:
            ok = ok and last[pid] <= middle[pid] * (1 + MEMORY_GROWTH_LIMIT)
            parts.append(f"{start:.1f} → {middle[pid]:.1f} → {last[pid]:.1f} MB")
        else:
            parts.append(f"{start:.1f} → {last[pid]:.1f} MB")
    requests = int(rounds[-1][1])
    bad = sum(int(r[2]) + int(r[3]) for r in rounds[1:])
    stages = (
        f"at the start → after {int(warm[1]):,} requests (every page served once) → at the end"
        if complete
        else "at the start → at the end (the check ended before every page was served once)"
    )
    text = (
        f"{requests:,} requests, page cache {info.get('cache', '?')}, cycling through "
        f"{distinct:,} distinct pages; RSS per worker {stages}: " + "; ".join(parts)
    )
    if bad:
        text += f" ({bad} non-2xx or socket errors)"
    return text, ok


def read_phases(path: Path) -> dict[str, float]:
    """generate_content -v2's "Seconds per phase" lines."""
    if not path.exists():
        return {}
    phases = {}
    for line in path.read_text().splitlines():
        match = re.match(r"\s+(.+?)\s+([\d.]+)$", line)
        if match:
            phases[match.group(1)] = float(match.group(2))
    return phases


def jobs(run: Run) -> list[str]:
    lines = ["| job | figure |", "|---|---|"]
    n = num(run.setup.get("articles"))
    wall = num(run.setup.get("generate_content_wall"))
    if n and wall:
        own = num(run.setup.get("generate_content_own"))
        lines.append(
            f"| `generate_content --articles {n:,.0f}` | {wall:.1f} s wall including start-up "
            f"({n / wall:,.0f} articles/s)"
            + (f"; {own:.1f} s by its own clock" if own else "")
            + " |"
        )
        phases = read_phases(run.out / "generate.log")
        if phases:
            slowest = sorted(phases.items(), key=lambda item: -item[1])[:4]
            lines.append(
                "| its slowest phases | "
                + ", ".join(f"{name} {value:.1f} s" for name, value in slowest)
                + " |"
            )
        rows = num(run.setup.get("search_vector_rows"))
        if rows:
            lines.append(
                f"| search vectors the generator left empty, filled by the bench | "
                f"{rows:,.0f} rows in {fmt(run.setup.get('search_vectors'))} s |"
            )
        for step in ("create_db", "migrate", "vacuum_analyze"):
            if step in run.setup:
                lines.append(f"| setup: {step.replace('_', ' ')} | {fmt(run.setup[step])} s |")
        if run.setup.get("created_at", "") < run.started:
            lines.append(f"| (setup figures from the run of {run.setup.get('created_at')}) | |")
    if "collectstatic" in run.static_time:
        lines.append(f"| `collectstatic --noinput` | {fmt(run.static_time['collectstatic'])} s |")
    imports = run.out / "imports.log"
    if imports.exists():
        section = ""
        for line in imports.read_text().splitlines():
            if line.startswith(("Structured", "WXR")):
                section = line.rstrip(":")
            match = IMPORT_LINE.match(line)
            if match:
                what, count, unit, seconds, rate = match.groups()
                lines.append(
                    f"| import: {section}, {what} | {rate} {unit}/s ({count} in {seconds} s) |"
                )
    news = run.out / "newsletter.log"
    if news.exists():
        text = news.read_text()
        match = re.search(r"sent ([\d,]+).* in ([\d.]+) s: ([\d,]+) messages/s", text)
        rss = re.findall(r"RSS after\s+([\d,]+) messages: (\d+) MB", text)
        if match:
            sent, seconds, rate = match.groups()
            extra = f"; RSS {rss[0][1]} → {rss[-1][1]} MB" if rss else ""
            lines.append(
                f"| newsletter send (file backend) | {rate} messages/s "
                f"({sent} in {seconds} s{extra}) |"
            )
    if run.peer_setup:
        lines.append(
            f"| peer seed of {run.peer_setup.get('articles', '?')} articles (rows + "
            f"`update_index`) | {fmt(run.peer_setup.get('seed_total_s'))} s "
            f"(index {fmt(run.peer_setup.get('seed_index_s'))} s) |"
        )
    return lines


def report(run: Run) -> str:
    m = run.machine
    n = run.meta.get("articles_published")
    peer_file = run.out / "peer.articles"
    peer_n = peer_file.read_text().strip() if peer_file.exists() else "?"
    date = m.get("date") or datetime.datetime.now(tz=datetime.UTC).date().isoformat()
    if run.started:  # the start time tells apart two runs of one day
        date = run.started.replace("T", " ")[:16] + " UTC"
    head = [
        f"## Benchmark run, {date}: {n:,} articles" if n else f"## Benchmark run, {date}",
        "",
        f"Machine: {m.get('nproc', '?')} cores ({m.get('cpu', '?')}), "
        f"{m.get('memory_gib', '?')} GiB, "
        f"PostgreSQL {m.get('postgresql', '?')}, Python {m.get('python', '?')}, Django "
        f"{m.get('django', '?')}, gunicorn {m.get('gunicorn', '?')} (2 sync workers), Redis "
        f"{m.get('redis', '?')}, wrk {m.get('wrk', '?')}, Linux {m.get('kernel', '?')}. "
        "Server, PostgreSQL, Redis and wrk share the cores. "
        f"Code measured: {m.get('commit', 'not recorded')}.",
        "",
        f"Data: ours {n:,} published articles; the peer {peer_n} articles. "
        f"Load per page: `load.sh` ({run.load}). *off* is the page cache off "
        "(`PAGE_CACHE_SECONDS=0`), *on* is 600 s with Redis. "
        "*server ms* is the median in-process time of the page (`queries.py`, 20 requests, "
        "cache off); *queries* are a warm worker's SQL queries a page; ratios compare "
        "requests a second."
        if n
        else "",
        "",
    ]
    loads = read_pairs(run.out / "loadavg.tsv")
    if loads:
        head += [
            "Load average (1, 5, 15 min) when each measurement began, a sign of other work "
            "on the machine: "
            + "; ".join(f"{phase} {value.split(chr(9))[-1]}" for phase, value in loads.items())
            + ".",
            "",
        ]
    notes = run.meta.get("notes", [])
    body = page_table(run)
    if notes:
        body += ["", *[f"- {note}" for note in notes]]
    body += ["", "### Targets", "", *targets(run), "", "### Batch jobs", "", *jobs(run), ""]
    return "\n".join(head + body)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--append", type=Path, help="Append the report to this Markdown file.")
    args = parser.parse_args()
    text = report(Run(args.out))
    (args.out / "report.md").write_text(text)
    print(text)
    if args.append:
        with args.append.open("a") as handle:
            handle.write("\n" + text)


if __name__ == "__main__":
    main()
