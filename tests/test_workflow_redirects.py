"""Redirects: renaming published content leaves a permanent redirect; staff add and import
redirects; a trailing slash and query strings are tolerated; loops cannot be saved."""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from articles.factories import DraftArticleFactory, PublishedArticleFactory
from charhar.editorial import import_redirects
from charhar.factories import PageFactory
from charhar.models import Redirect
from experts.factories import ExpertFactory
from publications.factories import PublicationFactory
from tests.editorial import editor

pytestmark = pytest.mark.django_db


def test_renaming_a_published_article_redirects_its_old_address(client):
    article = PublishedArticleFactory(slug="first-name")
    article.slug = "second-name"
    article.save()

    response = client.get("/articles/first-name/")
    assert response.status_code == 301
    assert response["Location"] == "/articles/second-name/"
    # Without the trailing slash, and with a query string kept.
    assert client.get("/articles/first-name")["Location"].startswith("/articles/second-name/")
    tagged = client.get("/articles/first-name/", {"utm_source": "newsletter"})
    assert tagged["Location"] == "/articles/second-name/?utm_source=newsletter"


def test_a_chain_of_renames_leads_straight_to_the_current_address(client):
    article = PublishedArticleFactory(slug="one")
    for slug in ("two", "three"):
        article.slug = slug
        article.save()

    assert client.get("/articles/one/")["Location"] == "/articles/three/"
    assert client.get("/articles/two/")["Location"] == "/articles/three/"


def test_renaming_back_removes_the_redirect_that_would_shadow_it(client):
    article = PublishedArticleFactory(slug="original")
    article.slug = "renamed"
    article.save()
    article.slug = "original"
    article.save()

    assert client.get("/articles/original/").status_code == 200
    assert client.get("/articles/renamed/")["Location"] == "/articles/original/"
    assert not Redirect.objects.filter(old_path="/articles/original/").exists()


def test_drafts_renamed_leave_no_redirect():
    draft = DraftArticleFactory(slug="draft-one")
    draft.slug = "draft-two"
    draft.save()

    assert not Redirect.objects.exists()


@pytest.mark.parametrize(
    ("factory", "old", "new"),
    [
        (lambda: PublicationFactory(slug="old-book"), "/publications/old-book/", "new-book"),
        (lambda: ExpertFactory(slug="old-expert"), "/experts/old-expert/", "new-expert"),
        (lambda: PageFactory(slug="old-page"), "/about/old-page/", "new-page"),
    ],
)
def test_publications_experts_and_pages_redirect_too(client, factory, old, new):
    obj = factory()
    obj.slug = new
    obj.save()

    assert client.get(old)["Location"] == obj.get_absolute_url()


@pytest.mark.parametrize(
    ("old_path", "new_path", "existing"),
    [
        ("/a/", "/a/", []),
        ("/a/", "/a", []),
        ("/a/", "/b/", [("/b/", "/a/")]),
        ("/a/", "/b/", [("/b/", "/c/"), ("/c", "/a")]),
    ],
    ids=["to-itself", "to-itself-without-slash", "two-step-loop", "three-step-loop"],
)
def test_redirect_loops_cannot_be_saved(old_path, new_path, existing):
    for old, new in existing:
        Redirect.objects.create(old_path=old, new_path=new)

    with pytest.raises(ValidationError) as error:
        Redirect(old_path=old_path, new_path=new_path).full_clean()
    assert "new_path" in error.value.message_dict


def test_a_redirect_to_content_at_the_same_address_is_a_loop():
    article = PublishedArticleFactory(slug="here")
    from django.contrib.contenttypes.models import ContentType

    redirect = Redirect(
        old_path="/articles/here/",
        content_type=ContentType.objects.get_for_model(article),
        object_id=article.pk,
    )
    with pytest.raises(ValidationError):
        redirect.full_clean()


def test_the_admin_refuses_a_loop_on_the_form(client):
    client.force_login(editor())
    Redirect.objects.create(old_path="/b/", new_path="/a/")

    response = client.post(
        reverse("admin:charhar_redirect_add"),
        {"old_path": "/a/", "new_path": "/b/", "content_type": "", "object_id": ""},
    )

    assert response.status_code == 200
    assert "new_path" in response.context["adminform"].form.errors
    assert Redirect.objects.count() == 1


def test_staff_import_redirects_from_csv_in_the_admin(client):
    client.force_login(editor())
    Redirect.objects.create(old_path="/en/old.html", new_path="/somewhere/")
    upload = SimpleUploadedFile(
        "redirects.csv",
        b"old_path,new_path\n/en/old.html,/experts/\n/en/about.html,/about/us/\n"
        b"https://old.example.org/en/topics.html?x=1,/topics/\n",
        content_type="text/csv",
    )

    response = client.post(reverse("admin:charhar_redirect_import"), {"file": upload})

    assert response.status_code == 302
    assert dict(Redirect.objects.values_list("old_path", "new_path")) == {
        "/en/old.html": "/experts/",
        "/en/about.html": "/about/us/",
        "/en/topics.html?x=1": "/topics/",
    }
    assert client.get("/en/about.html")["Location"] == "/about/us/"


def test_an_import_with_a_bad_line_saves_nothing_and_names_the_line(client):
    client.force_login(editor())
    upload = SimpleUploadedFile(
        "redirects.csv", b"/a/,/b/\n/c/,javascript:alert(1)\n/d/,/d/\n", content_type="text/csv"
    )

    response = client.post(reverse("admin:charhar_redirect_import"), {"file": upload})

    assert response.status_code == 200
    errors = [line for line, _message in response.context["result"].errors]
    assert errors == [2, 3]
    assert not Redirect.objects.exists()


def test_the_import_check_only_mode_saves_nothing():
    result = import_redirects("/x/,/y/\n", dry_run=True)

    assert (result.created, result.errors) == (1, [])
    assert not Redirect.objects.exists()


def test_the_redirect_list_links_to_the_import(client):
    client.force_login(editor())
    html = client.get(reverse("admin:charhar_redirect_changelist")).content.decode()
    assert reverse("admin:charhar_redirect_import") in html
