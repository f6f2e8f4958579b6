"""Search entries kept in the order searches read them, on PostgreSQL.

The entries are rewritten in `searchentries.ORDER` (kind, then topics, then date), so that
the hits of a search filtered by kind and topic lie on a few hundred pages instead of
spread over the whole table, and the table's pages keep a tenth free (`FILLFACTOR`), so that
an entry rewritten by an edit stays on its page and the order holds (docs/search.md).
"""

from django.db import migrations

from charhar import searchentries


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"ALTER TABLE {searchentries.TABLE} SET (fillfactor = {searchentries.FILLFACTOR})"
    )
    searchentries.reorder(schema_editor.connection.alias, apps)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"ALTER TABLE {searchentries.TABLE} RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [
        ("charhar", "0007_vectors_stored_uncompressed"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
    ]
