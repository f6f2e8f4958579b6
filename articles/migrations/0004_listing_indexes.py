"""Indexes the public listings read from: published articles newest first, and each link
table from its topic, region, tag or expert side, so that a listing's page of ids is read
from indexes alone at any depth (docs/performance.md)."""

from django.conf import settings
from django.db import migrations, models

# The topic and region links are Django's own many-to-many tables, which take no Meta: their
# indexes are plain SQL, valid on PostgreSQL and SQLite alike.
LINK_INDEXES = [
    ("article_topics_by_topic", "articles_article_topics", "topic_id, article_id"),
    ("article_regions_by_region", "articles_article_regions", "region_id, article_id"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0003_search_vector"),
        ("charhar", "0004_editorial_roles"),
        ("experts", "0003_search_vector"),
        ("taggit", "0006_rename_taggeditem_content_type_object_id_taggit_tagg_content_8fc721_idx"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="article",
            index=models.Index(
                condition=models.Q(("status", "published")),
                fields=["-published_at", "-id", "kind", "section"],
                name="article_published_order",
            ),
        ),
        migrations.AddIndex(
            model_name="articleauthor",
            index=models.Index(fields=["expert", "article"], name="article_author_by_expert"),
        ),
        migrations.AddIndex(
            model_name="taggedarticle",
            index=models.Index(fields=["tag", "content_object"], name="tagged_article_by_tag"),
        ),
        *(
            migrations.RunSQL(
                sql=f"CREATE INDEX {name} ON {table} ({columns})",
                reverse_sql=f"DROP INDEX {name}",
            )
            for name, table, columns in LINK_INDEXES
        ),
    ]
