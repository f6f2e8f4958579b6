"""What a restored site holds, as JSON on standard output, for tests/test_backup_restore.py.

Run in its own process against the restored database and media (`DATABASE_URL`,
`MEDIA_ROOT`): `python -m tests.restore_probe ARTICLE_SLUG SEARCH_WORD`.
"""

import hashlib
import json
import sys


def main(slug: str, word: str) -> None:
    import django

    django.setup()

    from django.apps import apps
    from django.test import Client

    from articles.models import Article
    from experts.models import Expert
    from publications.models import Publication

    files = {}
    for model, fields in (
        (Article, ["hero_image"]),
        (Expert, ["photo"]),
        (Publication, ["cover", "pdf"]),
    ):
        for row in model.objects.order_by("pk"):
            for field in fields:
                stored = getattr(row, field)
                if not stored.name:
                    continue
                try:
                    with stored.storage.open(stored.name, "rb") as handle:
                        files[stored.name] = hashlib.sha256(handle.read()).hexdigest()
                except FileNotFoundError:
                    files[stored.name] = None

    article = Article.objects.get(slug=slug)
    renditions = {
        name: getattr(article, name).storage.exists(getattr(article, name).name)
        for name in Article.RENDITIONS
    }
    client = Client()
    search = client.get("/search/", {"q": word})
    detail = client.get(article.get_absolute_url())
    print(
        json.dumps(
            {
                "counts": {
                    model._meta.label: model._default_manager.count() for model in apps.get_models()
                },
                "article": {
                    "title": article.title,
                    "body": article.body,
                    "authors": [
                        credit.expert.slug for credit in article.authorships.order_by("order", "pk")
                    ],
                    "tags": sorted(article.tags.names()),
                    "topics": sorted(article.topics.values_list("slug", flat=True)),
                    "hero_image": article.hero_image.name,
                },
                "renditions": renditions,
                "files": files,
                "search": {
                    "status": search.status_code,
                    "finds_article": article.get_absolute_url() in search.content.decode(),
                },
                "detail": {
                    "status": detail.status_code,
                    "shows_body": word in detail.content.decode(),
                },
            }
        )
    )


if __name__ == "__main__":
    main(*sys.argv[1:3])
