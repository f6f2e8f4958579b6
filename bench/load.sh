#!/usr/bin/env bash
# The site under sustained load (issue 9): gunicorn with production settings, PostgreSQL and
# the page cache on (Redis, emptied first), driven by wrk for DURATION at CONNS connections
# through a mix of ~1,750 distinct pages (home, listings, articles, search: load_paths.py).
# Prints the figures and the verdicts against the targets, as Markdown, and keeps the raw
# output in OUT. Run by hand on a database of its own (a copy of the 100,000-article one):
#
#   psql -h 127.0.0.1 -U postgres -c "CREATE DATABASE charhar_load TEMPLATE charhar_bulk"
#   DB_NAME=charhar_load bench/load.sh
#   WORKERS=4 bench/load.sh                     # four sync workers
#   WORKERS=2 WORKER_THREADS=4 bench/load.sh    # two gthread workers of four threads
#
# Knobs (environment): DB_NAME (charhar_load), PG_URL (postgres://postgres@127.0.0.1:5432),
# REDIS_URL (redis://127.0.0.1:6379/15; FLUSHED before the run: give it a database number of
# its own), DURATION (60s), CONNS (32), THREADS (wrk threads, 1), WORKERS (2), WORKER_THREADS
# (1: sync workers; more: gthread), MEM_REQUESTS (20000: the memory check serves this many in rounds of
# 10 s after the measured run), OUT (bench/out/load), MIGRATE (1), PRIME (1: one request to
# each distinct page before the measured run; 0: measure from an empty page cache; keep: the
# page cache as the previous run left it, to compare server settings within its 600 s).
# Targets: no error, p99 < 250 ms, worker RSS flat over MEM_REQUESTS requests once every page
# was served (< 5% growth).
# Everything listens on 127.0.0.1 only; the server is stopped on exit. Not run in CI.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(dirname "$HERE")"
PY="$ROOT/.venv/bin/python"
GUNICORN="$ROOT/.venv/bin/gunicorn"
DB_NAME="${DB_NAME:-charhar_load}"
PG_URL="${PG_URL:-postgres://postgres@127.0.0.1:5432}"
REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/15}"
DURATION="${DURATION:-60s}"
CONNS="${CONNS:-32}"
THREADS="${THREADS:-1}"
WORKERS="${WORKERS:-2}"
WORKER_THREADS="${WORKER_THREADS:-1}"
MEM_REQUESTS="${MEM_REQUESTS:-20000}"
OUT="${OUT:-$HERE/out/load}"
MIGRATE="${MIGRATE:-1}"
PRIME="${PRIME:-1}"

log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
die() { echo "bench/load.sh: $*" >&2; exit 1; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

for tool in wrk curl psql redis-cli; do
  command -v "$tool" >/dev/null || die "$tool is missing (apt-get install -y wrk curl postgresql-client redis-tools)."
done
[ -x "$GUNICORN" ] || die "gunicorn is not installed in $ROOT/.venv."
[ "$(psql "$PG_URL/postgres" -Atqc "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'")" = 1 ] \
  || die "no database $DB_NAME at $PG_URL: make one (see the top of this file)."
[ "$(redis-cli -u "$REDIS_URL" ping 2>/dev/null)" = PONG ] || die "Redis does not answer at $REDIS_URL."
[[ "$WORKERS" =~ ^[1-9][0-9]*$ && "$WORKER_THREADS" =~ ^[1-9][0-9]*$ ]] \
  || die "WORKERS and WORKER_THREADS must be whole numbers of at least 1."
mkdir -p "$OUT"

ENVIRONMENT=(
  DJANGO_SETTINGS_MODULE=charhar.settings.production
  DATABASE_URL="$PG_URL/$DB_NAME"
  SECRET_KEY="load-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
  ALLOWED_HOSTS=127.0.0.1,testserver
  SECURE_SSL_REDIRECT=0
  CONN_MAX_AGE=600
  DEBUG=0
  LOG_LEVEL=WARNING
  MEDIA_ROOT="$OUT/media"
)
run() { env "${ENVIRONMENT[@]}" "$@"; }

GUNI_PID=""
cleanup() {
  if [ -n "$GUNI_PID" ] && kill -0 "$GUNI_PID" 2>/dev/null; then
    kill -TERM "$GUNI_PID"; wait "$GUNI_PID" 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "$MIGRATE" = 1 ]; then
  log "migrate $DB_NAME"
  run "$PY" "$ROOT/manage.py" migrate --no-input -v0
fi
log "collectstatic"
run "$PY" "$ROOT/manage.py" collectstatic --no-input -v0
log "choosing the pages"
run CACHE_URL=locmemcache:// PAGE_CACHE_SECONDS=0 "$PY" "$HERE/load_paths.py" \
  > "$OUT/paths.txt" 2> "$OUT/paths.log" || { cat "$OUT/paths.log" >&2; die "load_paths.py failed."; }
cat "$OUT/paths.log" >&2

[ "$PRIME" = keep ] || redis-cli -u "$REDIS_URL" flushdb >/dev/null
PORT="$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
worker_class=sync
[ "$WORKER_THREADS" -gt 1 ] && worker_class=gthread
# env execs gunicorn, so $! is the master's pid and its children are the workers.
env "${ENVIRONMENT[@]}" CACHE_URL="$REDIS_URL" PAGE_CACHE_SECONDS=600 "$GUNICORN" charhar.wsgi:application \
  --chdir "$ROOT" --workers "$WORKERS" --worker-class "$worker_class" --threads "$WORKER_THREADS" \
  --bind "127.0.0.1:$PORT" --error-logfile "$OUT/gunicorn.log" --log-level warning \
  2> "$OUT/server.log" &
GUNI_PID=$!
for _ in $(seq 1 120); do
  curl -s -o /dev/null --max-time 30 "http://127.0.0.1:$PORT/robots.txt" && break
  kill -0 "$GUNI_PID" 2>/dev/null || die "gunicorn stopped; see $OUT/gunicorn.log"
  sleep 0.5
done
# Every worker answers once before the first memory reading, so that each has loaded the
# code and opened its connections; robots.txt is not one of the measured pages.
for _ in $(seq 1 $((WORKERS * 4))); do
  curl -s -o /dev/null --max-time 30 "http://127.0.0.1:$PORT/robots.txt"
done
[ "$PRIME" = keep ] || redis-cli -u "$REDIS_URL" flushdb >/dev/null
log "gunicorn pid $GUNI_PID on 127.0.0.1:$PORT: $WORKERS $worker_class worker(s) x $WORKER_THREADS thread(s)"

# The page cache starts empty; one request to each distinct page fills it, as a site's cache
# is filled by its first readers. The measured run then shows the site in service. PRIME=0
# measures from an empty cache instead.
PRIME_SECONDS="-"; PRIME_ERRORS="-"; PRIME_P99="-"; DISTINCT="$(sort -u "$OUT/paths.txt" | grep -c .)"
if [ "$PRIME" = 1 ]; then
  log "priming the page cache: one request to each of the $DISTINCT distinct pages"
  started=$(date +%s.%N)
  sort -u "$OUT/paths.txt" | sed "s|^|http://127.0.0.1:$PORT|" \
    | xargs -P "$((WORKERS * WORKER_THREADS))" -n 1 \
      curl -s -o /dev/null --max-time 60 -w '%{http_code} %{time_total}\n' > "$OUT/prime.txt"
  PRIME_SECONDS="$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }')"
  PRIME_ERRORS="$(awk '$1 < 200 || $1 > 399 { n++ } END { print n + 0 }' "$OUT/prime.txt")"
  PRIME_P99="$(sort -n -k2 "$OUT/prime.txt" | awk '{ t[NR] = $2 } END { printf "%.0f", t[int(NR * 0.99)] * 1000 }')"
  log "primed in $PRIME_SECONDS s, $PRIME_ERRORS errors"
fi

rss() {  # total and per-worker resident memory of the workers, in MB
  local pid per="" total=0 kb
  for pid in $(ps -o pid= --ppid "$GUNI_PID"); do
    kb="$(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status" 2>/dev/null || echo 0)"
    total=$((total + kb)); per+="$(awk -v k="$kb" 'BEGIN { printf "%.1f", k / 1024 }') "
  done
  printf '%s\t%s\n' "$(awk -v k="$total" 'BEGIN { printf "%.1f", k / 1024 }')" "${per% }"
}

wrk_round() {  # duration offset -> RESULT fields
  wrk -t"$THREADS" -c"$CONNS" -d"$1" --timeout 10s -s "$HERE/load_cycle.lua" \
    "http://127.0.0.1:$PORT" -- "$OUT/paths.txt" "$2" | tee -a "$OUT/wrk.txt" | grep '^RESULT' \
    || die "wrk returned no result; see $OUT/wrk.txt"
}

: > "$OUT/wrk.txt"
LOAD_BEFORE="$(loadavg)"
read -r RSS_START RSS_START_PER < <(rss)
log "load: $DURATION at $CONNS connections (load average $LOAD_BEFORE)"
read -r _ REQUESTS ERRORS NON_OK SOCKET RPS P50 P99 MAX < <(wrk_round "$DURATION" 0)
LOAD_AFTER="$(loadavg)"
read -r RSS_END RSS_END_PER < <(rss)
log "$REQUESTS requests, $ERRORS errors, $RPS req/s, p50 $P50 ms, p99 $P99 ms"

# Memory: MEM_REQUESTS more requests through the same cycle, in rounds of 10 s; the workers
# have served every page by now, so what they hold should not grow.
EXTRA=0; MEM_ERRORS=0; ROUNDS=0
while [ "$EXTRA" -lt "$MEM_REQUESTS" ] && [ "$ROUNDS" -lt 90 ]; do
  read -r _ n bad _ _ _ _ _ < <(wrk_round 10s "$((REQUESTS + EXTRA))")
  EXTRA=$((EXTRA + n)); MEM_ERRORS=$((MEM_ERRORS + bad)); ROUNDS=$((ROUNDS + 1))
done
read -r RSS_MEM RSS_MEM_PER < <(rss)
SERVER_ERRORS="$(grep -c 'Internal Server Error\|Traceback' "$OUT/server.log" || true)"

verdict() { if [ "$1" = 1 ]; then echo met; else echo "**missed**"; fi; }
GROWTH="$(awk -v a="$RSS_END" -v b="$RSS_MEM" 'BEGIN { printf "%.1f", (b - a) / a * 100 }')"
{
  echo "Run: $(date -u '+%Y-%m-%d %H:%M UTC'); machine: $(nproc) cores ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), $(awk '/^MemTotal/ { printf "%.1f", $2 / 1048576 }' /proc/meminfo) GiB; PostgreSQL $(psql "$PG_URL/postgres" -Atqc 'SHOW server_version' | cut -d' ' -f1), Redis $(redis-cli -u "$REDIS_URL" info server | awk -F: '/^redis_version/ { print $2 }' | tr -d '\r'), gunicorn $("$GUNICORN" --version 2>&1 | awk '{ print $NF }' | tr -d '()'), $WORKERS $worker_class worker(s) x $WORKER_THREADS thread(s); wrk -t$THREADS -c$CONNS, $DURATION; code $(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet HEAD 2>/dev/null || echo ' with uncommitted changes in the tree'); database $DB_NAME ($(psql "$PG_URL/$DB_NAME" -Atqc "SELECT count(*) FROM articles_article") articles); $(grep -c . "$OUT/paths.txt") paths in the cycle, $DISTINCT distinct; $([ "$PRIME" = 1 ] && echo "page cache primed by one request to each distinct page ($PRIME_SECONDS s, $PRIME_ERRORS errors, p99 $PRIME_P99 ms at $((WORKERS * WORKER_THREADS)) at a time)" || { [ "$PRIME" = keep ] && echo "page cache as the previous run left it"; } || echo "page cache empty at the start")."
  echo
  echo "Load average (1, 5, 15 min): $LOAD_BEFORE before, $LOAD_AFTER after."
  echo
  echo "| figure | value |"
  echo "|---|---:|"
  echo "| requests in $DURATION | $REQUESTS |"
  echo "| errors (answers outside 200-399 + socket errors) | $ERRORS ($NON_OK + $SOCKET) |"
  echo "| requests a second | $RPS |"
  echo "| latency p50 / p99 / max, ms | $P50 / $P99 / $MAX |"
  echo "| worker RSS at the start → after the run, MB (total; each) | $RSS_START → $RSS_END ($RSS_START_PER → $RSS_END_PER) |"
  echo "| worker RSS after $EXTRA more requests, MB (total; each) | $RSS_MEM ($RSS_MEM_PER); errors in them: $MEM_ERRORS |"
  echo "| server log: internal server errors | $SERVER_ERRORS |"
  echo
  echo "| target | figure | verdict |"
  echo "|---|---|---|"
  echo "| zero errors | $ERRORS in $REQUESTS requests | $(verdict "$([ "$ERRORS" = 0 ] && echo 1)") |"
  echo "| p99 < 250 ms | $P99 ms | $(verdict "$(awk -v p="$P99" 'BEGIN { print (p < 250) }')") |"
  echo "| worker memory flat over $MEM_REQUESTS requests (< 5% growth after the run) | $RSS_END → $RSS_MEM MB ($GROWTH%) over $EXTRA requests | $(verdict "$(awk -v g="$GROWTH" -v t="$EXTRA" -v m="$MEM_REQUESTS" 'BEGIN { print (g < 5 && t >= m) }')") |"
} | tee "$OUT/report.md"
