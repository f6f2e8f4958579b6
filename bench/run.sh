#!/usr/bin/env bash
# The site's benchmark against the Wagtail peer and the framework ceiling (issue 8).
# One command: builds the bench database, serves the site under gunicorn with the page
# cache off and on, runs the peer and the ceiling with the shared harness, measures batch
# jobs and worker memory, prints one table and appends it to docs/performance.md.
#
#   bench/run.sh                           # everything, 100,000 articles (about 21 minutes)
#   ARTICLES=10000 bench/run.sh            # smaller data, for both sites
#   SKIP_SETUP=1 bench/run.sh              # reuse both seeded databases and the peer's venv
#   ONLY=ours,peer bench/run.sh            # some parts: ours peer ceiling jobs memory
#   ARTICLES=2000 DURATION=2s WARMUP=1s APPEND=0 bench/run.sh   # smoke run, docs untouched
#   ONLY=ours,ceiling MODES=on APPEND=0 bench/run.sh             # cache hits against the ceiling
#   SKIP_SETUP=1 ONLY=hits APPEND=0 bench/run.sh  # each page's cache hits between two ceiling runs
#
# Knobs (environment): ARTICLES (100000), DURATION (10s), WARMUP (3s), THREADS/CONNS (load.sh:
# 1/8), SKIP_SETUP (0), PEER_SKIP_SETUP (= SKIP_SETUP), ONLY (all but hits), MODES (off,on: the page
# cache settings our site is measured with; memory needs its MEM_MODE), OUT (bench/out),
# PEER_VENV (bench/.venv-peer), SHARED (/work/shared/bench), DB_NAME (charhar_bench),
# PG_URL (postgres://postgres@127.0.0.1:5432), REDIS_URL (redis://127.0.0.1:6379/7, emptied
# before each server run: give the benchmark a database number of its own), OFF_CACHE_URL
# (= REDIS_URL; the cache of the cache-off run), MEM_REQUESTS (20000), MEM_MODE (on: the
# memory check runs on the cache-on server; off is far slower at 100,000 articles),
# MEM_PATHS (names of measured pages to cycle through instead of the ~1,500 distinct pages
# paths.py lists), IMPORT_ARTICLES (10000), IMPORT_POSTS (5000), SUBSCRIBERS
# (100000), APPEND (1: append the report to docs/performance.md), HIT_PAGES (the measured
# pages ONLY=hits compares with the ceiling: home topic_p1 topic_deep articles_p1
# articles_mid article).
# Everything listens on 127.0.0.1 only; every server this script starts is stopped on exit.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(dirname "$HERE")"
SHARED="${SHARED:-/work/shared/bench}"
PY="$ROOT/.venv/bin/python"
GUNICORN="$ROOT/.venv/bin/gunicorn"
OUT="${OUT:-$HERE/out}"
PEER_VENV="${PEER_VENV:-$HERE/.venv-peer}"
ARTICLES="${ARTICLES:-100000}"
export DURATION="${DURATION:-10s}" WARMUP="${WARMUP:-3s}"
SKIP_SETUP="${SKIP_SETUP:-0}"
PEER_SKIP_SETUP="${PEER_SKIP_SETUP:-$SKIP_SETUP}"
ONLY="${ONLY:-ours,peer,ceiling,jobs,memory}"
MODES="${MODES:-off,on}"
DB_NAME="${DB_NAME:-charhar_bench}"
PG_URL="${PG_URL:-postgres://postgres@127.0.0.1:5432}"
REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/7}"
OFF_CACHE_URL="${OFF_CACHE_URL:-$REDIS_URL}"
MEM_REQUESTS="${MEM_REQUESTS:-20000}"
MEM_PATHS="${MEM_PATHS:-}"
MEM_MODE="${MEM_MODE:-on}"
IMPORT_ARTICLES="${IMPORT_ARTICLES:-10000}"
IMPORT_POSTS="${IMPORT_POSTS:-5000}"
SUBSCRIBERS="${SUBSCRIBERS:-100000}"
APPEND="${APPEND:-1}"
# The pages issue 8 measures against the ceiling with the page cache on (ONLY=hits).
HIT_PAGES="${HIT_PAGES:-home topic_p1 topic_deep articles_p1 articles_mid article}"
PEER_DB_URL="postgres://wagtailpeer:wagtailpeer@127.0.0.1:5432/wagtailpeer"

log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
die() { echo "bench/run.sh: $*" >&2; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
wants() { [[ ",$ONLY," == *",$1,"* ]]; }

# The environment of every process of ours: production settings, plain HTTP on loopback.
OUR_ENV=(
  DJANGO_SETTINGS_MODULE=charhar.settings.production
  DATABASE_URL="$PG_URL/$DB_NAME"
  SECRET_KEY="bench-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
  ALLOWED_HOSTS=127.0.0.1
  SECURE_SSL_REDIRECT=0
  CONN_MAX_AGE=600
  DEBUG=0
  LOG_LEVEL=WARNING
  MEDIA_ROOT="$OUT/media"
)

SERVER_PIDS=()
cleanup() {
  local pid
  for pid in "${SERVER_PIDS[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  SERVER_PIDS=()
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- Checks ----------------------------------------------------------------------------------
[ -x "$PY" ] || die "no project venv at $ROOT/.venv (run: make install)."
[ -x "$GUNICORN" ] || die "gunicorn is not installed in $ROOT/.venv (pip install gunicorn)."
[ -x "$SHARED/run_peer.sh" ] && [ -x "$SHARED/load.sh" ] && [ -f "$SHARED/queries.py" ] \
  || die "the shared peer harness is missing: expected run_peer.sh, load.sh, queries.py in $SHARED."
[[ ",$MODES," =~ ^(,(off|on))+,$ ]] || die "MODES must be off, on or off,on."
[[ "$ARTICLES" =~ ^[0-9]+$ ]] && [ "$ARTICLES" -ge 100 ] || die "ARTICLES must be a number >= 100."
command -v curl >/dev/null || die "curl is missing (apt-get install -y curl)."
command -v psql >/dev/null || die "psql is missing (apt-get install -y postgresql-client)."
if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    log "installing wrk"; apt-get update -qq && apt-get install -y -qq wrk >/dev/null
  else
    die "wrk is missing: apt-get install -y wrk"
  fi
fi
psql "$PG_URL/postgres" -Atqc 'SELECT 1' >/dev/null 2>&1 \
  || die "cannot reach PostgreSQL as $PG_URL (user postgres, trust auth on 127.0.0.1:5432)."
if wants ours || wants hits; then
  command -v redis-cli >/dev/null || die "redis-cli is missing (apt-get install -y redis-tools)."
  [ "$(redis-cli -u "$REDIS_URL" ping 2>/dev/null)" = PONG ] || die "Redis does not answer at $REDIS_URL."
fi
mkdir -p "$OUT"
: > "$OUT/loadavg.tsv"; : > "$OUT/busy.log"
STARTED="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "$STARTED" > "$OUT/started"

psql_q() { psql "$PG_URL/postgres" -v ON_ERROR_STOP=1 -Atqc "$1"; }
recreate_db() { psql_q "DROP DATABASE IF EXISTS $1 WITH (FORCE)" && psql_q "CREATE DATABASE $1"; }
ensure_db() {
  [ "$(psql_q "SELECT 1 FROM pg_database WHERE datname = '$1'")" = 1 ] || psql_q "CREATE DATABASE $1"
}
ours() { env "${OUR_ENV[@]}" "$@"; }
free_port() { "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

PORT=""; GUNI_PID=""; PAIRS=()
start_server() {  # label dir wsgi_app gunicorn_binary env...
  local label="$1" dir="$2" app="$3" bin="$4"; shift 4
  PORT="$(free_port)"
  env "$@" "$bin" "$app" --chdir "$dir" --workers 2 --worker-class sync \
    --bind "127.0.0.1:$PORT" --error-logfile "$OUT/gunicorn-$label.log" --log-level warning &
  GUNI_PID=$!
  SERVER_PIDS+=("$GUNI_PID")
  for _ in $(seq 1 120); do
    if curl -s -o /dev/null --max-time 30 "http://127.0.0.1:$PORT/"; then
      log "$label: gunicorn pid $GUNI_PID on 127.0.0.1:$PORT"; return 0
    fi
    kill -0 "$GUNI_PID" 2>/dev/null || die "gunicorn ($label) stopped; see $OUT/gunicorn-$label.log"
    sleep 0.5
  done
  die "gunicorn ($label) did not answer in 60 s; see $OUT/gunicorn-$label.log"
}
stop_server() {
  if [ -n "$GUNI_PID" ] && kill -0 "$GUNI_PID" 2>/dev/null; then
    kill -TERM "$GUNI_PID"; wait "$GUNI_PID" 2>/dev/null || true
  fi
  GUNI_PID=""
}
# Other work on the machine skews every figure: note the load before each measurement.
note_load() {
  printf '%s\t%s\t%s\n' "$1" "$(date +%H:%M:%S)" "$(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/loadavg.tsv"
  { echo "--- $1 $(date +%H:%M:%S)"; top -bn1 -o %CPU -w 160 2>/dev/null | sed -n '7,13p'; } >> "$OUT/busy.log"
}
worker_rss() {  # "pid:rss_kb ..." of the gunicorn master's workers
  local pid out=""
  for pid in $(ps -o pid= --ppid "$GUNI_PID"); do
    out+="$pid:$(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status" 2>/dev/null || echo 0) "
  done
  echo "${out% }"
}

# --- Machine ---------------------------------------------------------------------------------
{
  echo "date=$(date -u +%Y-%m-%d)"
  echo "nproc=$(nproc)"
  echo "cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
  echo "memory_gib=$(awk '/^MemTotal/ { printf "%.1f", $2 / 1048576 }' /proc/meminfo)"
  echo "postgresql=$(psql_q 'SHOW server_version')"
  echo "python=$("$PY" -c 'import platform; print(platform.python_version())')"
  echo "django=$("$PY" -c 'import django; print(django.get_version())')"
  echo "gunicorn=$("$GUNICORN" --version 2>&1 | awk '{ print $NF }' | tr -d '()')"
  echo "redis=$(redis-cli -u "$REDIS_URL" info server 2>/dev/null | awk -F: '/^redis_version/ { print $2 }' | tr -d '\r')"
  echo "wrk=$(wrk --version 2>&1 | head -1 | awk '{ print $2 }')"
  echo "kernel=$(uname -r)"
  echo "commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet HEAD 2>/dev/null || echo ' with uncommitted changes')"
  echo "load=wrk -t${THREADS:-1} -c${CONNS:-8}, $WARMUP warm-up, $DURATION measured"
  echo "duration=$DURATION"
} > "$OUT/machine.txt"

# --- Our site: database, content, static files ------------------------------------------------
if wants ours || wants hits; then
  if [ "$SKIP_SETUP" != 1 ]; then
    log "ours: (re)creating database $DB_NAME"
    t=$(now); recreate_db "$DB_NAME"; t_db=$(since "$t")
    log "ours: migrate"
    t=$(now); ours "$PY" "$ROOT/manage.py" migrate --no-input -v0; t_migrate=$(since "$t")
    log "ours: generate_content --articles $ARTICLES"
    t=$(now)
    ours "$PY" "$ROOT/manage.py" generate_content --articles "$ARTICLES" -v2 > "$OUT/generate.log" \
      || die "generate_content failed; see $OUT/generate.log"
    t_generate=$(since "$t")
    log "ours: search vectors of the generated rows"
    read -r vectors t_vectors < <(ours "$PY" "$HERE/search_vectors.py")
    log "ours: VACUUM ANALYZE"
    t=$(now); psql "$PG_URL/$DB_NAME" -qc 'VACUUM ANALYZE' 2>&1 | grep -v '^WARNING' >&2 || true
    t_vacuum=$(since "$t")
    {
      printf 'step\tseconds\n'
      printf 'created_at\t%s\n' "$STARTED"
      printf 'articles\t%s\n' "$ARTICLES"
      printf 'create_db\t%s\n' "$t_db"
      printf 'migrate\t%s\n' "$t_migrate"
      printf 'generate_content_wall\t%s\n' "$t_generate"
      printf 'generate_content_own\t%s\n' "$(sed -n 's/.*Done in \([0-9.]*\) s.*/\1/p' "$OUT/generate.log")"
      printf 'search_vector_rows\t%s\n' "$vectors"
      printf 'search_vectors\t%s\n' "$t_vectors"
      printf 'vacuum_analyze\t%s\n' "$t_vacuum"
    } > "$OUT/ours.setup.tsv"
  else
    log "ours: SKIP_SETUP=1, reusing database $DB_NAME (migrating any new migration)"
    ours "$PY" "$ROOT/manage.py" migrate --no-input -v0 || die "migrate on $DB_NAME failed."
  fi
fi
if wants ours || wants memory || wants hits; then
  log "ours: collectstatic"
  t=$(now); ours "$PY" "$ROOT/manage.py" collectstatic --noinput -v0; t_static=$(since "$t")
  printf 'collectstatic\t%s\n' "$t_static" > "$OUT/ours.static.tsv"

  log "ours: choosing the pages"
  mapfile -t PAIRS < <(ours ALLOWED_HOSTS=127.0.0.1,testserver CACHE_URL=locmemcache:// \
    PAGE_CACHE_SECONDS=0 "$PY" "$HERE/paths.py" --meta "$OUT/paths.json" \
    --memory-paths "$OUT/memory_paths.txt")
  [ "${#PAIRS[@]}" -gt 0 ] || die "paths.py chose no page; see the messages above."
  printf '  %s\n' "${PAIRS[@]}" >&2
fi

# --- Peer and ceiling (the shared harness) -----------------------------------------------------
if wants peer || wants ceiling; then
  peer_only=all
  wants peer || peer_only=ceiling
  wants ceiling || peer_only=peer
  if [ "$PEER_SKIP_SETUP" = 1 ] && [ ! -x "$PEER_VENV/bin/python" ]; then
    die "PEER_SKIP_SETUP=1 but there is no peer venv at $PEER_VENV: run once without it."
  fi
  note_load "peer and ceiling"
  log "peer: run_peer.sh ONLY=$peer_only ARTICLES=$ARTICLES SKIP_SETUP=$PEER_SKIP_SETUP"
  t=$(now)
  env -u DATABASE_URL -u DJANGO_SETTINGS_MODULE -u SECRET_KEY -u ALLOWED_HOSTS \
    VENV="$PEER_VENV" OUT="$OUT/peer" ARTICLES="$ARTICLES" SKIP_SETUP="$PEER_SKIP_SETUP" \
    ONLY="$peer_only" "$SHARED/run_peer.sh" 2>&1 | tee "$OUT/run_peer.log" >&2 \
    || die "run_peer.sh failed; see $OUT/run_peer.log"
  printf 'run_peer_wall\t%s\n' "$(since "$t")" > "$OUT/peer.wall.tsv"

  if wants peer && [ -f "$OUT/paths.json" ]; then
    # The peer's own pages stop at page 200: measure it at the depths we measure.
    mapfile -t PEER_EXTRA < <("$PY" -c 'import json, sys
for name, path in json.load(open(sys.argv[1]))["peer_extra"].items(): print(f"{name}={path}")' \
      "$OUT/paths.json")
    peer_env=(DATABASE_URL="$PEER_DB_URL" DEBUG=0 CONN_MAX_AGE=600)
    note_load "peer deep pages"
    log "peer: deep pages ${PEER_EXTRA[*]}"
    env "${peer_env[@]}" "$PEER_VENV/bin/python" "$SHARED/queries.py" \
      --project "$SHARED/peer_wagtail" --settings peer.settings "${PEER_EXTRA[@]}" \
      > "$OUT/peer_extra.queries.tsv"
    start_server peer_extra "$SHARED/peer_wagtail" peer.wsgi:application \
      "$PEER_VENV/bin/gunicorn" "${peer_env[@]}"
    "$SHARED/load.sh" "http://127.0.0.1:$PORT" "${PEER_EXTRA[@]}" > "$OUT/peer_extra.load.tsv"
    stop_server
    psql "$PEER_DB_URL" -Atqc 'SELECT count(*) FROM articles_articlepage' > "$OUT/peer.articles" \
      || echo "?" > "$OUT/peer.articles"
  fi
fi

# --- Our site under load -----------------------------------------------------------------------
conditional_checks() {  # name=path ... -> checks.tsv rows
  local pair name path url headers etag lm cond
  for pair in "$@"; do
    name="${pair%%=*}"; path="${pair#*=}"; url="http://127.0.0.1:$PORT$path"
    headers="$(curl -s -D - -o /dev/null --max-time 30 "$url" | tr -d '\r')"
    etag="$(printf '%s\n' "$headers" | awk 'tolower($1) == "etag:" { print $2 }')"
    lm="$(printf '%s\n' "$headers" | grep -ci '^last-modified:' || true)"
    cond="-"
    [ -n "$etag" ] && cond="$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 \
      -H "If-None-Match: $etag" "$url")"
    printf '%s\t%s\t%s\t%s\n' "$name" "${etag:+yes}" "$([ "$lm" -gt 0 ] && echo yes || echo no)" "$cond"
  done
}

static_checks() {
  local home css headers
  home="$(curl -s --max-time 30 "http://127.0.0.1:$PORT/")"
  printf 'home_html_bytes\t%s\n' "$(printf '%s' "$home" | wc -c)"
  printf 'third_party_assets\t%s\n' "$(printf '%s' "$home" \
    | grep -Eo '<(script|link)[^>]*(src|href)="(https?:)?//[^"]*"' | grep -v '127.0.0.1' | wc -l)"
  css="$(printf '%s' "$home" | grep -Eo 'href="/static/[^"]*\.css"' | head -1 | sed 's/^href="//; s/"$//')"
  printf 'stylesheet\t%s\n' "${css:-none}"
  [ -n "$css" ] || return 0
  printf 'stylesheet_hashed\t%s\n' "$([[ "$css" =~ \.[0-9a-f]{12}\.css$ ]] && echo yes || echo no)"
  for enc in br gzip; do
    headers="$(curl -s -D - -o /dev/null -H "Accept-Encoding: $enc" "http://127.0.0.1:$PORT$css" | tr -d '\r')"
    printf 'stylesheet_%s\t%s\n' "$enc" \
      "$(printf '%s\n' "$headers" | awk 'tolower($1) == "content-encoding:" { print $2 }')"
  done
  printf 'stylesheet_cache_control\t%s\n' \
    "$(printf '%s\n' "$headers" | awk -F': ' 'tolower($1) == "cache-control" { print $2 }')"
}

memory_check() {  # name=path ... ; rounds of 5 s until MEM_REQUESTS responses
  local args=() pair name total=0 round=0 line n bad err
  if [ -n "$MEM_PATHS" ]; then
    for pair in "$@"; do
      name="${pair%%=*}"
      [[ " $MEM_PATHS " == *" $name "* ]] && args+=("${pair#*=}")
    done
    [ "${#args[@]}" -gt 0 ] || die "MEM_PATHS names no measured page (names: ${*%%=*})."
  fi
  printf 'round\trequests\tnon2xx\tsock_err\tworkers_rss_kb\n'
  printf '0\t0\t0\t0\t%s\n' "$(worker_rss)"
  local deadline=$((SECONDS + 900))
  while [ "$total" -lt "$MEM_REQUESTS" ] && [ "$SECONDS" -lt "$deadline" ]; do
    round=$((round + 1))
    [ -n "$MEM_PATHS" ] || args=("@$OUT/memory_paths.txt" "$total")
    line="$(wrk -t1 -c8 -d5s --timeout 10s -s "$HERE/wrk_cycle.lua" "http://127.0.0.1:$PORT" \
      -- "${args[@]}" | grep '^RESULT' || true)"
    [ -n "$line" ] || die "memory check: wrk returned no result."
    read -r _ n bad err <<< "$line"
    total=$((total + n))
    printf '%s\t%s\t%s\t%s\t%s\n' "$round" "$total" "$bad" "$err" "$(worker_rss)"
  done
  if [ -n "$MEM_PATHS" ]; then
    printf 'paths\t%s\n' "${args[*]}"
    printf 'distinct\t%s\n' "${#args[@]}"
  else
    printf 'distinct\t%s\n' "$(wc -l < "$OUT/memory_paths.txt")"
    printf 'paths\t%s distinct pages from %s, in turn\n' \
      "$(wc -l < "$OUT/memory_paths.txt")" "$OUT/memory_paths.txt"
  fi
  printf 'cache\t%s\n' "$MEM_MODE"
}

if wants ours || wants memory; then
  [ "${#PAIRS[@]}" -gt 0 ] || die "no page chosen: ONLY=memory needs the bench database of an earlier run."
  for mode in off on; do
    measure_load=0; wants ours && [[ ",$MODES," == *",$mode,"* ]] && measure_load=1
    measure_memory=0; wants memory && [ "$mode" = "$MEM_MODE" ] && measure_memory=1
    [ "$measure_load" = 1 ] || [ "$measure_memory" = 1 ] || continue
    if [ "$mode" = off ]; then seconds=0; cache_url="$OFF_CACHE_URL"; else seconds=600; cache_url="$REDIS_URL"; fi
    if [ "$measure_load" = 1 ]; then
      [[ "$cache_url" == redis://* ]] && redis-cli -u "$cache_url" flushdb >/dev/null
      log "ours ($mode): counting queries"
      ours ALLOWED_HOSTS=127.0.0.1,testserver CACHE_URL="$cache_url" PAGE_CACHE_SECONDS="$seconds" \
        "$PY" "$SHARED/queries.py" --project "$ROOT" --settings charhar.settings.production \
        "${PAIRS[@]}" > "$OUT/ours_$mode.queries.tsv"
    fi
    [[ "$cache_url" == redis://* ]] && redis-cli -u "$cache_url" flushdb >/dev/null
    start_server "ours_$mode" "$ROOT" charhar.wsgi:application "$GUNICORN" \
      "${OUR_ENV[@]}" CACHE_URL="$cache_url" PAGE_CACHE_SECONDS="$seconds"
    if [ "$measure_load" = 1 ]; then
      note_load "ours, cache $mode"
      log "ours ($mode): load, $DURATION a page"
      "$SHARED/load.sh" "http://127.0.0.1:$PORT" "${PAIRS[@]}" > "$OUT/ours_$mode.load.tsv"
      if [ "$mode" = off ]; then
        conditional_checks "${PAIRS[@]}" > "$OUT/conditional.tsv"
        static_checks > "$OUT/static.tsv"
      fi
    fi
    if [ "$measure_memory" = 1 ]; then
      note_load "memory check"
      log "ours ($mode): worker memory over $MEM_REQUESTS requests"
      memory_check "${PAIRS[@]}" > "$OUT/memory.tsv"
    fi
    stop_server
  done
fi

# --- Cache hits against the ceiling, page by page ------------------------------------------------
# Issue 8 asks for half the ceiling's requests a second with the page cache on. Other work on
# the machine moves both figures, so each of our pages is measured between two runs of the
# ceiling's fixed page, both servers up the whole time, and compared with their mean.
if wants hits; then
  [ "${#PAIRS[@]}" -gt 0 ] || die "no page chosen for the hits comparison."
  [ -d "$SHARED/ceiling" ] || die "the ceiling project is missing: expected $SHARED/ceiling."
  redis-cli -u "$REDIS_URL" flushdb >/dev/null
  start_server hits_ceiling "$SHARED/ceiling" ceiling.wsgi:application "$GUNICORN" \
    DJANGO_SETTINGS_MODULE=ceiling.settings
  ceiling_pid="$GUNI_PID"; ceiling_url="http://127.0.0.1:$PORT"
  start_server hits_ours "$ROOT" charhar.wsgi:application "$GUNICORN" \
    "${OUR_ENV[@]}" CACHE_URL="$REDIS_URL" PAGE_CACHE_SECONDS=600
  ours_url="http://127.0.0.1:$PORT"
  ceiling_req_s() { "$SHARED/load.sh" "$ceiling_url" fixed_30k=/fixed/ | awk -F'\t' 'NR == 2 { print $3 }'; }
  printf 'name\tpath\tours_req_s\tceiling_before\tceiling_after\tshare\tload\n' > "$OUT/hits.tsv"
  for pair in "${PAIRS[@]}"; do
    name="${pair%%=*}"
    [[ " $HIT_PAGES " == *" $name "* ]] || continue
    note_load "hits $name"
    log "hits: $name between two ceiling runs"
    before="$(ceiling_req_s)"
    ours_line="$("$SHARED/load.sh" "$ours_url" "$pair" | awk -F'\t' 'NR == 2')"
    after="$(ceiling_req_s)"
    awk -F'\t' -v OFS='\t' -v b="$before" -v a="$after" -v avg="$(cut -d' ' -f1 /proc/loadavg)" \
      '{ share = (a + b > 0) ? $3 / ((a + b) / 2) : 0; print $1, $2, $3, b, a, sprintf("%.2f", share), avg }' \
      <<< "$ours_line" >> "$OUT/hits.tsv"
  done
  stop_server
  GUNI_PID="$ceiling_pid"; stop_server
  column -t -s $'\t' "$OUT/hits.tsv" >&2
fi

# --- Batch jobs: imports and newsletter sending, each on a database of its own ----------------
if wants jobs; then
  jobs_env=(CACHE_URL=locmemcache:// PAGE_CACHE_SECONDS=0)
  ensure_db "${DB_NAME}_import"
  log "jobs: imports ($IMPORT_ARTICLES articles, $IMPORT_POSTS WXR posts)"
  ours "${jobs_env[@]}" DATABASE_URL="$PG_URL/${DB_NAME}_import" \
    "$PY" "$HERE/imports.py" --articles "$IMPORT_ARTICLES" --posts "$IMPORT_POSTS" \
    > "$OUT/imports.log" 2>&1 || { tail -20 "$OUT/imports.log" >&2; die "imports.py failed; see $OUT/imports.log"; }
  ensure_db "${DB_NAME}_news"
  log "jobs: newsletter send to $SUBSCRIBERS subscribers"
  ours "${jobs_env[@]}" DATABASE_URL="$PG_URL/${DB_NAME}_news" \
    "$PY" "$HERE/newsletter_send.py" --subscribers "$SUBSCRIBERS" \
    > "$OUT/newsletter.log" 2>&1 || { tail -20 "$OUT/newsletter.log" >&2; die "newsletter_send.py failed; see $OUT/newsletter.log"; }
fi

# --- Report --------------------------------------------------------------------------------------
log "report"
append=()
[ "$APPEND" = 1 ] && append=(--append "$ROOT/docs/performance.md")
"$PY" "$HERE/report.py" --out "$OUT" "${append[@]}"
