"""The saved-pages import (`import_html`): the old site's article pages into articles."""

import io
import shutil
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command

from articles.models import Article
from charhar.models import Redirect
from charhar.transfer.html_pages import parse_page_date
from experts.models import Expert

pytestmark = pytest.mark.django_db

PAGES = Path(__file__).parent / "data" / "html"
SEED_URL = "http://www.charhar.org.cn/en/article/2018/06/123.html"


def run(folder=PAGES, **options):
    out, err = io.StringIO(), io.StringIO()
    call_command("import_html", str(folder), stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def test_a_page_shaped_like_the_seed_gives_title_date_image_body_and_author(client):
    out, _err = run()
    assert "Created: 2 experts, 2 articles, 2 redirects." in out

    article = Article.objects.get(legacy_url=SEED_URL)
    assert article.title == (
        "Process of denuclearization remains a sticking point after Singapore summit"
    )
    assert article.published_at.date().isoformat() == "2018-06-18"
    assert article.status == Article.Status.PUBLISHED
    assert default_storage.exists(article.hero_image.name)
    assert article.hero_image.name.endswith("20180620150318_2793.jpg")
    assert article.hero_alt == ""  # the old alt text was only the file name
    assert article.body.count("<p>") == 11
    assert article.body.startswith("<p>The summit between US President Donald Trump")
    for chrome in (
        "German Marshall", "Stay Informed", "Subscribe", "Share", "Facebook", "Author",
        "ABOUT US", "CONTACT US", "All rights reserved", "Behind Biden", "<script", "onclick",
    ):  # fmt: skip
        assert chrome not in article.body
    zhao = Expert.objects.get(name="ZHAO Minghao")
    assert zhao.title == "Adjunct Senior Fellow"
    assert article.ordered_authors == [zhao]

    response = client.get("/en/article/2018/06/123.html")
    assert response.status_code == 301
    assert response["Location"] == article.get_absolute_url()


def test_chinese_pages_keep_their_text_and_get_unicode_slugs():
    run()
    article = Article.objects.get(title="公共外交的新时代")
    assert article.slug == "公共外交的新时代"
    assert article.legacy_url == "/cn/article/2019/03/456.html"  # no canonical link: its path
    assert article.published_at.date().isoformat() == "2019-03-01"
    assert "察哈尔学会致力于推动中国外交政策的进步。" in article.body
    assert "订阅" not in article.body
    assert article.authors.get().title == "察哈尔学会创会会长"


def test_a_second_run_creates_nothing_and_a_dry_run_writes_nothing():
    out, _err = run(dry_run=True)
    assert "Would create: 2 experts, 2 articles, 2 redirects." in out
    assert not Article.objects.exists()
    assert not Expert.objects.exists()

    run()
    out, _err = run()
    assert "Unchanged: 2 experts, 2 articles, 2 redirects." in out
    assert Article.objects.count() == 2
    assert Redirect.objects.count() == 2


def test_selectors_and_url_prefix_are_configurable(tmp_path):
    (tmp_path / "news").mkdir()
    (tmp_path / "news" / "7.html").write_text(
        "<html><body><div id='menu'>Home | News</div><div class='story'>"
        "<span class='headline'>Custom layout</span><em class='when'>07.05.2021</em>"
        "<div class='text'><p>First.</p><p>Second.</p><div class='promo'>Buy now</div></div>"
        "<p class='by'>LI Wei</p></div></body></html>",
        encoding="utf-8",
    )
    run(
        tmp_path,
        title_selector=".headline",
        date_selector=".when",
        date_format="%d.%m.%Y",
        body_selector=".text",
        author_selector=".by",
        remove_selector=[".promo"],
        url_prefix="http://old.example.org",
        kind="news",
    )
    article = Article.objects.get()
    assert article.title == "Custom layout"
    assert article.kind == "news"
    assert article.published_at.date().isoformat() == "2021-05-07"
    assert article.body == "<p>First.</p><p>Second.</p>"
    assert article.legacy_url == "http://old.example.org/news/7.html"
    assert article.authors.get().name == "LI Wei"


def test_an_image_outside_the_pages_folder_is_refused(tmp_path):
    folder = tmp_path / "pages"
    folder.mkdir()
    shutil.copy(PAGES / "en/article/2018/06/20180620150318_2793.jpg", tmp_path / "outside.jpg")
    (folder / "a.html").write_text(
        "<html><body><h1 class='article-title'>Escape</h1>"
        "<div class='article-image'><img src='../outside.jpg'></div>"
        "<div class='article-content'><p>Text.</p></div></body></html>"
    )
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 of the pages could not be imported"):
        call_command("import_html", str(folder), stdout=io.StringIO(), stderr=err)
    assert (
        "a.html · hero_image · “../outside.jpg” points outside the pages folder" in err.getvalue()
    )
    assert not Article.objects.exists()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("June 18 ,2018", "2018-06-18"),
        ("June 09, 2022", "2022-06-09"),
        ("18 June 2018", "2018-06-18"),
        ("2018-06-18", "2018-06-18"),
        ("2018年6月18日", "2018-06-18"),
        ("Posted on Sept. 3 2019 by staff", "2019-09-03"),
    ],
)
def test_dates_in_the_old_sites_spellings(text, expected):
    assert parse_page_date(text).isoformat() == expected
