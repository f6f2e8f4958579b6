"""The search entries' triggers (PostgreSQL): `charhar.models.SearchEntry` kept current by
the database itself.

Each content table (articles, publications, experts) and each of their link tables (topics,
regions, credited experts) has statement-level triggers with transition tables: one
statement writing ten thousand rows makes one set-based change to the entries, not ten
thousand. Whatever writes (a save, ``update()``, ``bulk_create``, COPY, a cascade, SQL typed
by hand) the entries follow in the same transaction.

- An owner row inserted gets its entry, with the ids its link rows already give (the bulk
  writers copy link rows first); updated, its entry's columns follow when they changed;
  deleted or truncated, its entry goes.
- A link row inserted, updated or deleted sets the id array of the entries it names.

Bulk writers `defer` the entries for their transaction and `catch_up` at its end: one
set-based statement for every row they wrote. `sync` and `drift` compare the entries with the
content tables as a whole (`manage.py rebuild_search_entries`).

The SQL is built from the models' metadata; a migration passes its historical models.
"""

from dataclasses import dataclass

from django.apps import apps as global_apps
from django.db import connections

TABLE = "charhar_searchentry"
# While this setting is "on" in a transaction, the triggers only note the owners whose
# entries are out of date, in `DIRTY` (`defer`, `catch_up`).
DEFER_SETTING = "charhar.defer_search_entries"
DIRTY = "charhar_search_dirty"  # the owners noted meanwhile: a temporary table
ARRAYS = ("topic_ids", "region_ids", "expert_ids")
# One GIN index over the vector and every filtered column (the scalar ones through the
# btree_gin extension): a search with filters finds its hits by intersecting their lists
# inside the index, reading no row it will not keep and no vector at all. (Given separate
# indexes, the planner tends to test the vector row by row, fetching each from TOAST.)
INDEX = "search_entry_lookup"
INDEX_SQL = (
    f"CREATE INDEX {INDEX} ON {TABLE} USING gin "
    f"(search_vector, kind, {', '.join(ARRAYS)}, section_id, series_id)"
)
# The order entries are written in, so that the hits of a search filtered by kind and topic
# (the usual filters) lie together: on a few hundred pages of the table, and their vectors on
# neighbouring pages of its TOAST table, instead of spread over all of them. At 100,000
# articles the search reads 241 pages instead of 2,433 and finds its hits in half
# the time (docs/performance.md). Bulk writes (`catch_up`, `sync`) insert in this order,
# `reorder` rewrites the table in it, and the table's pages keep room (`FILLFACTOR`) so that
# an entry rewritten by an edit stays on its page.
ORDER = "kind, topic_ids, published_at, published_on, object_id"
FILLFACTOR = 90


@dataclass(frozen=True)
class _Link:
    column: str  # the entry's array
    table: str
    owner: str  # the link table's column naming the owner
    value: str  # the one naming the topic, region or expert


@dataclass(frozen=True)
class _Owner:
    type: str
    table: str
    columns: dict  # entry column: SQL over the owner row ``n``
    links: tuple


def _owners(apps) -> list[_Owner]:
    article = apps.get_model("articles", "Article")._meta
    publication = apps.get_model("publications", "Publication")._meta
    expert = apps.get_model("experts", "Expert")._meta

    def m2m(opts, name, column):
        field = opts.get_field(name)
        return _Link(
            column,
            field.remote_field.through._meta.db_table,
            field.m2m_column_name(),
            field.m2m_reverse_name(),
        )

    def credits(app, model, owner):
        through = apps.get_model(app, model)._meta
        return _Link(
            "expert_ids",
            through.db_table,
            through.get_field(owner).column,
            through.get_field("expert").column,
        )

    return [
        _Owner(
            "article",
            article.db_table,
            {
                "kind": "n.kind",
                "status": "n.status",
                "published_at": "n.published_at",
                "published_on": "NULL::date",
                "section_id": "n.section_id",
                "series_id": "NULL::bigint",
                "search_vector": "n.search_vector",
            },
            (
                m2m(article, "topics", "topic_ids"),
                m2m(article, "regions", "region_ids"),
                credits("articles", "ArticleAuthor", "article"),
            ),
        ),
        _Owner(
            "publication",
            publication.db_table,
            {
                "kind": "'publication'",
                "status": "n.status",
                "published_at": "NULL::timestamptz",
                "published_on": "n.published_on",
                "section_id": "NULL::bigint",
                "series_id": "n.series_id",
                "search_vector": "n.search_vector",
            },
            (
                m2m(publication, "topics", "topic_ids"),
                m2m(publication, "regions", "region_ids"),
                credits("publications", "PublicationAuthor", "publication"),
            ),
        ),
        _Owner(
            "expert",
            expert.db_table,
            {
                "kind": "'expert'",
                "status": "CASE WHEN n.is_active THEN 'active' ELSE 'inactive' END",
                "published_at": "NULL::timestamptz",
                "published_on": "NULL::date",
                "section_id": "NULL::bigint",
                "series_id": "NULL::bigint",
                "search_vector": "n.search_vector",
            },
            (m2m(expert, "topics", "topic_ids"), m2m(expert, "regions", "region_ids")),
        ),
    ]


def _ids(link: _Link, owner: str) -> str:
    """The sorted distinct ids `link` gives the owner row whose id is `owner`."""
    return (
        f"ARRAY(SELECT DISTINCT l.{link.value} FROM {link.table} l "  # noqa: S608
        f"WHERE l.{link.owner} = {owner} ORDER BY 1)"
    )


def _select(owner: _Owner, source: str) -> tuple[str, str]:
    """The entry columns, and the SELECT of the entries of the rows of `source` (alias n)."""
    arrays = {link.column: _ids(link, "n.id") for link in owner.links}
    for column in ARRAYS:
        arrays.setdefault(column, "'{}'::bigint[]")
    values = {"type": f"'{owner.type}'", "object_id": "n.id", **owner.columns, **arrays}
    return ", ".join(values), f"SELECT {', '.join(values.values())} FROM {source} n"  # noqa: S608


def _fresh(owner: _Owner, only_dirty: bool = False) -> str:
    """The SELECT of the entries of the owner's rows (those in `DIRTY` only, with
    `only_dirty`), set-based: each link table is read once and grouped, where the triggers'
    form looks up each row's links."""
    dirty = f"IN (SELECT object_id FROM {DIRTY} WHERE type = '{owner.type}')"  # noqa: S608
    joins, arrays = [], dict.fromkeys(ARRAYS, "'{}'::bigint[]")
    for k, link in enumerate(owner.links):
        where = f"WHERE {link.owner} {dirty} " if only_dirty else ""
        joins.append(
            f"LEFT JOIN (SELECT {link.owner} AS id, "  # noqa: S608
            f"array_agg(DISTINCT {link.value} ORDER BY {link.value}) AS ids "
            f"FROM {link.table} {where}GROUP BY {link.owner}) l{k} ON l{k}.id = n.id"
        )
        arrays[link.column] = f"COALESCE(l{k}.ids, '{{}}'::bigint[])"
    values = {"type": f"'{owner.type}'", "object_id": "n.id", **owner.columns, **arrays}
    where = f" WHERE n.id {dirty}" if only_dirty else ""
    return (
        f"SELECT {', '.join(values.values())} FROM {owner.table} n "  # noqa: S608
        f"{' '.join(joins)}{where}"
    )


def _note(owner_type: str, column: str, source: str) -> str:
    """While deferred: the owners named by `source` noted in `DIRTY`, for `catch_up`."""
    return (
        f"INSERT INTO {DIRTY} SELECT DISTINCT '{owner_type}', {column} "  # noqa: S608
        f"FROM {source} ON CONFLICT DO NOTHING;"
    )


def _deferred_branch(owner_type: str, column: str) -> str:
    return f"""
    IF current_setting('{DEFER_SETTING}', true) = 'on' AND TG_OP <> 'TRUNCATE' THEN
        IF TG_OP = 'INSERT' THEN
            {_note(owner_type, column, "new_rows")}
        ELSIF TG_OP = 'DELETE' THEN
            {_note(owner_type, column, "old_rows")}
        ELSE
            {_note(owner_type, column, "old_rows")}
            {_note(owner_type, column, "new_rows")}
        END IF;
        RETURN NULL;
    END IF;"""


def _owner_function(owner: _Owner) -> str:
    columns, select = _select(owner, "new_rows")
    changed = list(owner.columns)
    return f"""
CREATE OR REPLACE FUNCTION charhar_search_{owner.type}() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN{_deferred_branch(owner.type, "id")}
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM {TABLE} WHERE type = '{owner.type}';
    ELSIF TG_OP = 'DELETE' THEN
        DELETE FROM {TABLE} e USING old_rows o
        WHERE e.type = '{owner.type}' AND e.object_id = o.id;
    ELSIF TG_OP = 'INSERT' THEN
        INSERT INTO {TABLE} ({columns}) {select}
        ON CONFLICT (type, object_id) DO UPDATE SET
        {", ".join(f"{c} = EXCLUDED.{c}" for c in columns.split(", ")[2:])};
    ELSE
        UPDATE {TABLE} e SET {", ".join(f"{c} = {owner.columns[c]}" for c in changed)}
        FROM new_rows n
        WHERE e.type = '{owner.type}' AND e.object_id = n.id
        AND ({", ".join(f"e.{c}" for c in changed)})
            IS DISTINCT FROM ({", ".join(owner.columns[c] for c in changed)});
    END IF;
    RETURN NULL;
END
$$;"""  # noqa: S608


def _link_function(owner: _Owner, link: _Link) -> str:
    def refresh(source):
        return f"""
        UPDATE {TABLE} e SET {link.column} = c.ids
        FROM (SELECT o.id, {_ids(link, "o.id")} AS ids
              FROM (SELECT DISTINCT {link.owner} AS id FROM {source}) o) c
        WHERE e.type = '{owner.type}' AND e.object_id = c.id
        AND e.{link.column} IS DISTINCT FROM c.ids;"""  # noqa: S608

    return f"""
CREATE OR REPLACE FUNCTION {_link_function_name(link)}() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN{_deferred_branch(owner.type, link.owner)}
    IF TG_OP = 'TRUNCATE' THEN
        UPDATE {TABLE} SET {link.column} = '{{}}'
        WHERE type = '{owner.type}' AND {link.column} <> '{{}}';
    ELSIF TG_OP = 'INSERT' THEN{refresh("new_rows")}
    ELSIF TG_OP = 'DELETE' THEN{refresh("old_rows")}
    ELSE{refresh("(SELECT * FROM old_rows UNION ALL SELECT * FROM new_rows) AS changed")}
    END IF;
    RETURN NULL;
END
$$;"""  # noqa: S608


def _link_function_name(link: _Link) -> str:
    return f"charhar_search_{link.table}"


def _triggers(table: str, function: str) -> list[str]:
    prefix = f"charhar_search_{table}"
    return [
        f"CREATE TRIGGER {prefix}_insert AFTER INSERT ON {table} "
        f"REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
        f"CREATE TRIGGER {prefix}_update AFTER UPDATE ON {table} "
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
        f"CREATE TRIGGER {prefix}_delete AFTER DELETE ON {table} "
        f"REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
        f"CREATE TRIGGER {prefix}_truncate AFTER TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
    ]


def install_statements(apps) -> list[str]:
    """The storage settings, functions and triggers, in order (`install` then fills the
    entries and builds their index)."""
    statements = [
        # The vector goes to TOAST storage at any size, so the rows stay narrow; the arrays,
        # which facets read from every hit, stay in the row.
        f"ALTER TABLE {TABLE} SET (toast_tuple_target = 128)",
        *(f"ALTER TABLE {TABLE} ALTER COLUMN {column} SET STORAGE PLAIN" for column in ARRAYS),
    ]
    for owner in _owners(apps):
        function = f"charhar_search_{owner.type}"
        statements.append(_owner_function(owner))
        statements.extend(_triggers(owner.table, function))
        for link in owner.links:
            statements.append(_link_function(owner, link))
            statements.extend(_triggers(link.table, _link_function_name(link)))
    return statements


def uninstall_statements(apps) -> list[str]:
    statements = []
    for owner in _owners(apps):
        for table, function in [
            (owner.table, f"charhar_search_{owner.type}"),
            *((link.table, _link_function_name(link)) for link in owner.links),
        ]:
            for event in ("insert", "update", "delete", "truncate"):
                statements.append(
                    f"DROP TRIGGER IF EXISTS charhar_search_{table}_{event} ON {table}"
                )
            statements.append(f"DROP FUNCTION IF EXISTS {function}()")
    return statements


def rebuild_statements(apps) -> list[str]:
    """Every entry made from the content tables, for the migration that creates them."""
    columns = _columns(apps)
    return [f"INSERT INTO {TABLE} ({columns}) {_fresh(owner)}" for owner in _owners(apps)]


def _columns(apps) -> str:
    return _select(_owners(apps)[0], "")[0]


def _fresh_cte(apps, only_dirty: bool = False) -> tuple[str, str]:
    """The entry columns, and ``fresh``: the entries as the content tables make them."""
    columns = _columns(apps)
    fresh = " UNION ALL ".join(_fresh(owner, only_dirty) for owner in _owners(apps))
    return columns, f"WITH fresh ({columns}) AS MATERIALIZED ({fresh})"


def drift(using: str = "default") -> int:
    """How many entries differ from what the content tables make of them (missing, left
    over or with other values); 0 off PostgreSQL."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return 0
    columns, fresh = _fresh_cte(global_apps)
    with connection.cursor() as cursor:
        cursor.execute(
            f"{fresh}, current AS (SELECT {columns} FROM {TABLE}) "  # noqa: S608
            "SELECT (SELECT count(*) FROM (SELECT * FROM fresh EXCEPT ALL SELECT * FROM current) a)"
            " + (SELECT count(*) FROM (SELECT * FROM current EXCEPT ALL SELECT * FROM fresh) b)"
        )
        return cursor.fetchone()[0]


def _sync(cursor, only_dirty: bool) -> tuple[int, int]:
    columns, fresh = _fresh_cte(global_apps, only_dirty)
    names = columns.split(", ")
    same = " AND ".join(f"e.{c} IS NOT DISTINCT FROM f.{c}" for c in names[2:])
    gone = (
        f"(e.type, e.object_id) IN (SELECT type, object_id FROM {DIRTY}) AND "  # noqa: S608
        if only_dirty
        else ""
    )
    cursor.execute(
        f"{fresh}, written AS ("  # noqa: S608
        f"INSERT INTO {TABLE} ({columns}) SELECT * FROM fresh f WHERE NOT EXISTS ("
        f"SELECT 1 FROM {TABLE} e WHERE e.type = f.type AND e.object_id = f.object_id "
        f"AND {same}) ORDER BY {ORDER} ON CONFLICT (type, object_id) DO UPDATE SET "
        f"{', '.join(f'{c} = EXCLUDED.{c}' for c in names[2:])} RETURNING 1), "
        f"deleted AS (DELETE FROM {TABLE} e WHERE {gone}NOT EXISTS (SELECT 1 FROM fresh f "
        "WHERE f.type = e.type AND f.object_id = e.object_id) RETURNING 1) "
        "SELECT (SELECT count(*) FROM written), (SELECT count(*) FROM deleted)"
    )
    return cursor.fetchone()


def sync(using: str = "default") -> tuple[int, int]:
    """Write every entry that differs from what the content tables make of it and delete
    the ones left over, in one statement; returns (written, deleted). A no-op off
    PostgreSQL. For after writes made with the triggers off."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return 0, 0
    with connection.cursor() as cursor:
        return _sync(cursor, only_dirty=False)


def defer(*, drop_index: bool = False, using: str = "default") -> None:
    """For bulk writers, inside their transaction: until `catch_up`, the triggers only note
    which rows' entries are out of date (otherwise each statement would update the entries
    it touches at once: a new row's entry written, then once more for each of its link
    tables, each time into the GIN index). With `drop_index`, the entries' index is dropped,
    to be built once. A no-op off PostgreSQL."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {DIRTY} (type varchar(12), "
            "object_id bigint, PRIMARY KEY (type, object_id)) ON COMMIT DROP"
        )
        cursor.execute("SELECT set_config(%s, 'on', true)", [DEFER_SETTING])
        if drop_index:
            cursor.execute(f"DROP INDEX IF EXISTS {INDEX}")


def catch_up(*, build_index: bool = False, using: str = "default") -> tuple[int, int]:
    """The end of `defer`: the triggers on again, and the entries of the rows they noted
    brought up to date in one statement; with `build_index`, the index built again.
    Returns (written, deleted)."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return 0, 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, '', true)", [DEFER_SETTING])
        changes = _sync(cursor, only_dirty=True)
        cursor.execute(f"DROP TABLE {DIRTY}")
        if build_index:
            # Deferred foreign-key checks still pending would forbid changing the table's
            # indexes: run them now (commit would run them anyway).
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            cursor.execute(INDEX_SQL)
    return changes


def reorder(using: str = "default", apps=global_apps) -> int:
    """Every entry written again from the content tables, in `ORDER`, into the emptied table,
    and its index built anew, in the caller's transaction (searches wait for it: some ten
    seconds at 100,000 articles). For when much content has been added since the last bulk
    write (new content goes at the table's end); it also mends any drift. Returns the number
    of entries; a no-op (0) off PostgreSQL.

    Written from the content tables, not copied from the entries themselves: a vector read
    into a copy would come back inline, as rows under PostgreSQL's 2 kB threshold are not
    sent to TOAST, and the table would grow tenfold."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return 0
    columns, fresh = _fresh_cte(apps)
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {TABLE}")
        cursor.execute(f"DROP INDEX IF EXISTS {INDEX}")
        cursor.execute(
            f"{fresh} INSERT INTO {TABLE} ({columns}) SELECT * FROM fresh ORDER BY {ORDER}"  # noqa: S608
        )
        count = cursor.rowcount
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        cursor.execute(INDEX_SQL)
        cursor.execute(f"ANALYZE {TABLE}")
    return count


def install(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in [*install_statements(apps), *rebuild_statements(apps), INDEX_SQL]:
        schema_editor.execute(statement)


def uninstall(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in [*uninstall_statements(apps), f"DROP INDEX IF EXISTS {INDEX}"]:
        schema_editor.execute(statement)
