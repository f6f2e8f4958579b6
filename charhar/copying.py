"""Bulk writes on PostgreSQL with COPY, for the importers and the content generator.

`bulk_create` builds one huge INSERT per batch in Python; COPY streams the rows. Primary keys
are drawn from the table's sequence first (`next_ids`), so link rows can be written before or
after the rows they point at: Django's foreign keys are checked at commit.

Searchable rows (`charhar.search.VECTORS`) go through a temporary table and from there into
the real one with their search vectors computed by the same expression ``save()`` uses
(`VectorCopy`), so no row is written twice. A vector reads the names credited on the row:
write its authors first.
"""

from collections.abc import Iterable, Sequence

from django.db import connection, models

from .search import VECTORS


def next_ids(model: type[models.Model], count: int) -> list[int]:
    """`count` new primary keys of `model`, taken from its sequence."""
    opts = model._meta
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [opts.db_table, opts.pk.column, count],
        )
        return [pk for (pk,) in cursor.fetchall()]


def copy_rows(table: str, columns: Sequence[str], rows: Iterable[Sequence]) -> None:
    """COPY `rows` (sequences of values in the order of `columns`) into `table`."""
    quote = connection.ops.quote_name
    names = ", ".join(quote(column) for column in columns)
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {quote(table)} ({names}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)


class VectorCopy:
    """Writes rows of a searchable model with their search vectors, in one pass each.

    `fields` are the model's concrete fields given in each row, the primary key included.
    `start()` creates its temporary table and `finish()` drops it (commit drops it too); or use
    it as a context manager.
    """

    def __init__(self, model: type[models.Model], fields: Sequence[models.Field]):
        quote = connection.ops.quote_name
        table = model._meta.db_table
        self.staging = f"{table}_incoming"
        self.columns = [f.column for f in fields]
        query = model._default_manager.annotate(incoming_vector=VECTORS[model]()).query
        vector_sql, self.params = query.get_compiler(connection=connection).compile(
            query.annotations["incoming_vector"]
        )
        names = ", ".join(quote(column) for column in self.columns)
        vector_column = quote(model._meta.get_field("search_vector").column)
        # The temporary table takes the real table's name as its alias, so the compiled vector
        # expression (which names the real table's columns) reads the incoming row. Names come
        # from the model's metadata; values are passed as parameters.
        self.sql = (
            f"INSERT INTO {quote(table)} ({names}, {vector_column}) "  # noqa: S608
            f"SELECT {names}, {vector_sql} FROM {quote(self.staging)} AS {quote(table)}"
        )
        self.create_sql = (
            f"CREATE TEMPORARY TABLE {quote(self.staging)} (LIKE {quote(table)}) ON COMMIT DROP"
        )

    def start(self) -> "VectorCopy":
        with connection.cursor() as cursor:
            cursor.execute(self.create_sql)
        return self

    def finish(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE {connection.ops.quote_name(self.staging)}")

    def __enter__(self) -> "VectorCopy":
        return self.start()

    def __exit__(self, exc_type, exc, traceback) -> None:
        # After an error the transaction is rolled back, and the temporary table with it.
        if exc_type is None:
            self.finish()

    def write(self, rows: Iterable[Sequence]) -> None:
        copy_rows(self.staging, self.columns, rows)
        with connection.cursor() as cursor:
            cursor.execute(self.sql, self.params)
            cursor.execute(f"TRUNCATE {connection.ops.quote_name(self.staging)}")
