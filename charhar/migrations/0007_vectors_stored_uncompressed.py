"""Search vectors stored without compression, on PostgreSQL.

A tsvector barely compresses: PostgreSQL tried (pglz) on every write of one too large to
keep in its row, failed to save enough and stored it as it was, so the attempt was time lost
on every save, import and generation. 102,200 search entries are written in 4.6 to 6.1 s
instead of 7.3 s, at the same size (docs/performance.md).
"""

from django.db import migrations

VECTORS = [
    ("articles", "Article"),
    ("experts", "Expert"),
    ("publications", "Publication"),
    ("charhar", "SearchEntry"),
]


def storage(kind):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for app_label, model in VECTORS:
            table = apps.get_model(app_label, model)._meta.db_table
            schema_editor.execute(
                f"ALTER TABLE {table} ALTER COLUMN search_vector SET STORAGE {kind}"
            )

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("charhar", "0006_search_entries"),
    ]

    operations = [
        migrations.RunPython(storage("EXTERNAL"), storage("EXTENDED")),
    ]
