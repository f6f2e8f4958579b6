"""The header and footer are rendered once per content version and language in each process
(charhar.templatetags.fragments), and are never stale: whatever staff change shows on the
next request, with the page cache on or off, and nothing one page shows leaks into another.
"""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.views.defaults import server_error

from articles.factories import PublishedArticleFactory
from charhar.factories import MenuFactory, MenuItemFactory, SiteSettingsFactory
from charhar.models import SiteSettings
from charhar.pagecache import VERSION_KEY
from charhar.templatetags import fragments

pytestmark = pytest.mark.django_db


@pytest.fixture(params=[0, 600], ids=["page cache off", "page cache on"])
def page_cache(request, settings):
    settings.PAGE_CACHE_SECONDS = request.param
    return request.param


@pytest.fixture
def main_menu():
    return MenuItemFactory(menu=MenuFactory(slug="main", name="Main"), label="Research Areas")


def html(client, url="/"):
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def test_a_menu_edit_shows_on_the_next_request(client, page_cache, main_menu):
    assert "Research Areas" in html(client)
    assert "Research Areas" in html(client)

    main_menu.label = "Programmes"
    main_menu.save()

    page = html(client)
    assert "Programmes" in page
    assert "Research Areas" not in page


def test_a_new_and_a_deleted_menu_item_show_on_the_next_request(client, page_cache, main_menu):
    html(client, "/articles/")
    added = MenuItemFactory(menu=main_menu.menu, label="Annual Forum")
    assert "Annual Forum" in html(client, "/articles/")
    added.delete()
    assert "Annual Forum" not in html(client, "/articles/")


def test_an_article_edit_shows_on_the_next_request(client, page_cache, main_menu):
    article = PublishedArticleFactory(title="Before the edit")
    assert "Before the edit" in html(client, "/articles/")
    article.title = "After the edit"
    article.save()
    page = html(client, "/articles/")
    assert "After the edit" in page
    assert "Before the edit" not in page
    assert "Research Areas" in page


def test_footer_details_edited_in_the_admin_show_on_the_next_request(admin_client, client):
    SiteSettingsFactory(phone="+86 10 1111 1111")
    assert "+86 10 1111 1111" in html(client)
    settings_row = SiteSettings.objects.get()
    settings_row.phone = "+86 10 2222 2222"
    settings_row.save()
    page = html(client)
    assert "+86 10 2222 2222" in page
    assert "+86 10 1111 1111" not in page


def test_a_change_on_another_app_server_shows_here(client, main_menu):
    """Another server's save replaces the shared version; this process's copy is then
    never used again, although nothing here was told of the edit."""
    assert "Research Areas" in html(client)
    # The other server's edit, as it reaches this one: the row and the shared version.
    type(main_menu).objects.filter(pk=main_menu.pk).update(label="Programmes")
    cache.delete("charhar:menus")
    cache.set(VERSION_KEY, "another server's version", timeout=None)
    assert "Programmes" in html(client)


def test_the_search_box_shows_the_query_of_its_own_page_only(client, main_menu):
    search = html(client, reverse("search") + "?q=diplomacy")
    assert 'name="q" value="diplomacy"' in search
    home = html(client)
    assert 'name="q" value=""' in home
    assert "diplomacy" not in home


def test_the_header_and_footer_are_rendered_once_per_version(client, main_menu):
    def kept():
        version = cache.get(VERSION_KEY)
        return sorted(key[0] for key in fragments._rendered if key[1] == version)

    html(client)
    assert kept() == ["footer", "header"]
    html(client, "/articles/")
    assert kept() == ["footer", "header"]
    # The menus are not even looked up again: the header comes from the process's copy.
    cache.delete("charhar:menus")
    with CaptureQueriesContext(connection) as queries:
        html(client, "/articles/")
    assert not any("charhar_menu" in query["sql"] for query in queries)


def test_the_500_page_neither_uses_nor_leaves_a_header_for_other_pages(client, main_menu):
    request = RequestFactory().get("/")
    with CaptureQueriesContext(connection) as queries:
        response = server_error(request)
    assert len(queries) == 0
    assert "Research Areas" not in response.content.decode()
    assert "Research Areas" in html(client)
