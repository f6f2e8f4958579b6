"""The publication's stored search vector (charhar/search.py) and, on PostgreSQL only, its GIN
index and first fill. SQLite keeps the column (empty) and gets no index: GIN is not SQL there,
and an index in Meta would be recreated whenever SQLite rebuilds the table."""

import django.contrib.postgres.search
from django.db import migrations

INDEX = "publication_search_vector"
TABLE = "publications_publication"
# The vector as charhar.search.VECTORS builds it, frozen here for the first fill.
FILL = """
UPDATE publications_publication AS r SET search_vector =
    setweight(to_tsvector('english'::regconfig, coalesce(r.title, '')), 'A')
    || setweight(to_tsvector('english'::regconfig, coalesce(r.summary, '')), 'B')
    || setweight(to_tsvector('english'::regconfig, coalesce(r.byline, '') || ' ' || coalesce(r.publisher, '') || ' ' || coalesce((SELECT string_agg(e.name, ' ') FROM publications_publicationauthor pa JOIN experts_expert e ON e.id = pa.expert_id WHERE pa.publication_id = r.id), '')), 'C')
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
        ("publications", "0003_history"),
    ]

    operations = [
        migrations.AddField(
            model_name="publication",
            name="search_vector",
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
        ),
        migrations.RunPython(create_index, drop_index, elidable=False),
    ]
