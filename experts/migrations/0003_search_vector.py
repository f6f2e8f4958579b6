"""The expert's stored search vector (charhar/search.py) and, on PostgreSQL only, its GIN
index and first fill. SQLite keeps the column (empty) and gets no index: GIN is not SQL there,
and an index in Meta would be recreated whenever SQLite rebuilds the table."""

import django.contrib.postgres.search
from django.db import migrations

INDEX = "expert_search_vector"
TABLE = "experts_expert"
# The vector as charhar.search.VECTORS builds it, frozen here for the first fill.
FILL = """
UPDATE experts_expert AS r SET search_vector =
    setweight(to_tsvector('english'::regconfig, coalesce(r.name, '')), 'A')
    || setweight(to_tsvector('english'::regconfig, coalesce(r.title, '') || ' ' || coalesce(r.affiliation, '') || ' ' || coalesce(r.short_bio, '')), 'B')
    || setweight(to_tsvector('english'::regconfig, coalesce(r.bio, '')), 'C')
"""


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FILL)
        schema_editor.execute(f"CREATE INDEX {INDEX} ON {TABLE} USING gin (search_vector)")


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):

    dependencies = [
        ("experts", "0002_history"),
    ]

    operations = [
        migrations.AddField(
            model_name="expert",
            name="search_vector",
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
        ),
        migrations.RunPython(create_index, drop_index, elidable=False),
    ]
