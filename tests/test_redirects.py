"""Old addresses keep working: a 404 that matches a redirect becomes a 301."""

import pytest

from articles.factories import PublishedArticleFactory
from charhar.models import Redirect

pytestmark = pytest.mark.django_db


def test_a_legacy_permalink_redirects_to_the_article_and_follows_its_renames(client):
    article = PublishedArticleFactory(slug="summit")
    Redirect.point("https://old.charhar.org.cn/en/article/2018/06/123.html", article)

    response = client.get("/en/article/2018/06/123.html")
    assert response.status_code == 301
    assert response["Location"] == "/articles/summit/"

    article.slug = "singapore-summit"
    article.save()
    assert client.get("/en/article/2018/06/123.html")["Location"] == "/articles/singapore-summit/"
    assert Redirect.objects.get(old_path="/en/article/2018/06/123.html").hits == 2


def test_query_string_permalinks_match_exactly(client):
    first, second = PublishedArticleFactory(), PublishedArticleFactory()
    Redirect.point("/?p=101", first)
    Redirect.point("/?p=102", second)

    assert client.get("/", {"p": "102"})["Location"] == second.get_absolute_url()
    assert client.get("/", {"p": "101"})["Location"] == first.get_absolute_url()
    assert client.get("/", {"p": "103"}).status_code == 200  # no match: the home page
    assert client.get("/old/", {"p": "102"}).status_code == 404
    Redirect.objects.create(old_path="/old/?p=102", new_path="/articles/")
    assert client.get("/old/", {"p": "102"})["Location"] == "/articles/"


def test_a_fixed_path_redirect_and_trailing_slash_variants(client):
    Redirect.objects.create(old_path="/en/experts.html", new_path="/experts/")

    assert client.get("/en/experts.html")["Location"] == "/experts/"
    assert client.get("/en/experts.html/").status_code == 301


def test_redirects_never_shadow_live_pages_nor_point_at_removed_content(client):
    article = PublishedArticleFactory(slug="live")
    Redirect.objects.create(old_path="/articles/live/", new_path="/elsewhere/")
    gone = PublishedArticleFactory()
    Redirect.point("/en/gone.html", gone)
    gone.delete()

    assert client.get(article.get_absolute_url()).status_code == 200
    assert client.get("/en/gone.html").status_code == 404


def test_a_redirect_needs_a_destination():
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        Redirect(old_path="/x").full_clean()

    assert "new_path" in error.value.message_dict


def test_only_reads_are_redirected(client):
    Redirect.objects.create(old_path="/en/form.html", new_path="/")

    assert client.post("/en/form.html").status_code == 404
