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

The SQL is built from the models' metadata; a migration passes its historical models.
"""

from dataclasses import dataclass

TABLE = "charhar_searchentry"
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


def _owner_function(owner: _Owner) -> str:
    columns, select = _select(owner, "new_rows")
    changed = list(owner.columns)
    return f"""
CREATE OR REPLACE FUNCTION charhar_search_{owner.type}() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
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
BEGIN
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
    """Every entry made again from the content tables: for the migration that creates them,
    and after anything wrote with the triggers disabled (``pg_restore --disable-triggers``
    of a partial dump, ``session_replication_role = replica``)."""
    statements = [f"DELETE FROM {TABLE}"]  # noqa: S608
    for owner in _owners(apps):
        columns, select = _select(owner, owner.table)
        statements.append(f"INSERT INTO {TABLE} ({columns}) {select}")
    return statements


def _columns(apps) -> str:
    return _select(_owners(apps)[0], "")[0]


def drift(using: str = "default") -> int:
    """How many entries differ from what the content tables make of them (missing, left
    over or with other values); 0 off PostgreSQL."""
    from django.apps import apps
    from django.db import connections

    connection = connections[using]
    if connection.vendor != "postgresql":
        return 0
    columns = _columns(apps)
    fresh = " UNION ALL ".join(_select(owner, owner.table)[1] for owner in _owners(apps))
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH fresh AS ({fresh}), current AS (SELECT {columns} FROM {TABLE}) "  # noqa: S608
            "SELECT (SELECT count(*) FROM (SELECT * FROM fresh EXCEPT ALL SELECT * FROM current) a)"
            " + (SELECT count(*) FROM (SELECT * FROM current EXCEPT ALL SELECT * FROM fresh) b)"
        )
        return cursor.fetchone()[0]


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


def rebuild(using: str = "default") -> int:
    """Make every entry again; returns how many there are. A no-op off PostgreSQL."""
    from django.apps import apps
    from django.db import connections, transaction

    connection = connections[using]
    if connection.vendor != "postgresql":
        return 0
    with transaction.atomic(using=using), connection.cursor() as cursor:
        for statement in rebuild_statements(apps):
            cursor.execute(statement)
        cursor.execute(f"SELECT count(*) FROM {TABLE}")  # noqa: S608
        return cursor.fetchone()[0]
