#!/usr/bin/env bash
# Search before and after: bench/search.py on the code of BASE (a commit) and on this
# checkout, back to back on one 100,000-article PostgreSQL database.
#
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/charhar_s100k \
#       BASE=a343d04 BASE_MIGRATION="charhar 0005" bench/search_compare.sh
#
# BASE_MIGRATION is the newest migration BASE knows of the app whose later migrations change
# what search reads: the database is migrated back to it for BASE, and forward again for this
# checkout. CACHE_URL defaults to Redis database 5; ROUNDS and MIX go to bench/search.py.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?point DATABASE_URL at a database made by generate_content}"
: "${BASE:?BASE is the commit to compare with}"
: "${BASE_MIGRATION:?BASE_MIGRATION is, e.g., \"charhar 0005\"}"
export DEBUG=1 PAGE_CACHE_SECONDS=0 DATABASE_URL
export CACHE_URL="${CACHE_URL:-redis://127.0.0.1:6379/5}"
ROUNDS="${ROUNDS:-20}" MIX="${MIX:-200}"
PY="$PWD/.venv/bin/python"
worktree="$(mktemp -d)/base"
git worktree add -q "$worktree" "$BASE"
trap 'git worktree remove --force "$worktree"' EXIT

vacuum() { "$PY" - <<'PYTHON'
import os, sys
sys.path.insert(0, os.getcwd())
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "charhar.settings.base")
import django
django.setup()
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute("VACUUM ANALYZE")
PYTHON
}

# shellcheck disable=SC2086
"$PY" manage.py migrate $BASE_MIGRATION -v0
vacuum
echo "== before ($BASE), $(date -u +%H:%M) UTC"
(cd "$worktree" && "$PY" bench/search.py --rounds "$ROUNDS" --mix "$MIX")
"$PY" manage.py migrate -v0
vacuum
echo "== after ($(git rev-parse --short HEAD)), $(date -u +%H:%M) UTC"
"$PY" bench/search.py --rounds "$ROUNDS" --mix "$MIX"
