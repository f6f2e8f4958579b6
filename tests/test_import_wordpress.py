"""The WordPress import (`import_wordpress`): a WXR export into articles, pages and experts."""

import io
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command

from articles.models import Article
from charhar.models import Page, Redirect, Topic
from charhar.transfer.wordpress import convert_shortcodes, iter_channel, wpautop
from experts.models import Expert

pytestmark = pytest.mark.django_db

DATA = Path(__file__).parent / "data"
WXR = DATA / "wordpress.xml"


def run(path=WXR, **options):
    out, err = io.StringIO(), io.StringIO()
    options.setdefault("mapping", str(DATA / "wordpress-mapping.toml"))
    options.setdefault("uploads_dir", str(DATA / "uploads"))
    call_command("import_wordpress", str(path), stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def article(post_id: int) -> Article:
    return Redirect.objects.get(old_path=f"/?p={post_id}").target


def test_posts_become_articles_with_mapped_statuses_taxonomy_and_authors():
    out, _err = run()

    assert "Created:" in out
    assert "No failures." in out
    summit = article(101)
    assert summit.slug == "process-of-denuclearization"
    assert summit.status == Article.Status.PUBLISHED
    assert summit.is_featured
    assert summit.published_at.isoformat() == "2018-06-18T04:30:00+00:00"
    assert summit.section.name == "Charhar News"
    assert [t.name for t in summit.topics.all()] == ["The Korean Peninsula"]  # category and tag
    assert [r.name for r in summit.regions.all()] == ["Asia"]
    assert summit.summary.startswith("The summit is an important breakthrough")
    assert summit.ordered_authors == [Expert.objects.get(name="ZHAO Minghao")]

    draft = article(102)
    assert draft.status == Article.Status.DRAFT
    assert draft.title == "公共外交的新时代"
    assert draft.slug == "公共外交的新时代"
    assert [t.name for t in draft.tags.all()] == ["外交"]
    assert draft.authors.get().name == "韩方明"

    scheduled = article(103)
    assert scheduled.status == Article.Status.PUBLISHED
    assert scheduled.is_scheduled
    assert not scheduled.authors.exists()  # admin maps to no expert

    assert article(104).status == Article.Status.ARCHIVED  # private, by the mapping file
    assert not Redirect.objects.filter(old_path="/?p=107").exists()  # trash is skipped
    assert not Redirect.objects.filter(old_path="/?p=300").exists()  # menu items too
    assert "Skipped: 1 article, 1 nav_menu_item (not imported)." in out
    assert not Topic.objects.filter(name="Uncategorized").exists()


def test_a_duplicate_slug_is_deduplicated():
    run()
    assert article(105).slug == "process-of-denuclearization-2"


def test_bodies_get_paragraphs_figures_no_shortcodes_and_are_sanitized():
    out, _err = run()
    body = article(101).body

    assert body.startswith("<p>The summit between US President")
    assert '<figure class="wp-caption aligncenter">' in body
    assert "<figcaption>Kim Jong-un and Donald Trump in Singapore</figcaption>" in body
    assert "meeting<br>\nand again" in body
    assert "<p><strong>The Korean Peninsula</strong> is the last remnant" in body
    for code in ("[caption", "[/caption]", "[gallery ids", "[vc_row", "[/vc_column]", "[contact"):
        assert code not in body
    assert "written like [gallery] in WordPress; [sic] stays as text." in body
    assert "[contact-form-7] ×1, [gallery] ×1, [vc_column] ×1, [vc_row] ×1" in out

    hostile = article(106).body
    assert "<script" not in hostile
    assert "onclick" not in hostile
    assert "javascript:" not in hostile
    assert "document.cookie" not in hostile
    assert "Sign up for our newsletter." in hostile


def test_featured_and_body_images_are_copied_from_the_uploads_folder():
    run()
    summit = article(101)
    assert summit.hero_image.name.endswith("summit.jpg")
    assert default_storage.exists(summit.hero_image.name)
    assert summit.hero_alt == "Trump and Kim shake hands"
    assert summit.hero_caption == "The leaders meet in Singapore."
    assert 'src="/media/uploads/2018/06/kim-trump-300x200.jpg"' in summit.body
    assert default_storage.exists("uploads/2018/06/kim-trump-300x200.jpg")


def test_old_permalinks_and_post_ids_redirect_to_the_new_pages(client):
    run()
    summit = article(101)
    for old in ("/2018/06/18/process-of-denuclearization/", "/?p=101"):
        response = client.get(old)
        assert response.status_code == 301
        assert response["Location"] == summit.get_absolute_url()
    page = Page.objects.get(slug="about-us")
    assert client.get("/", {"page_id": 7})["Location"] == page.get_absolute_url()
    assert (
        page.body == "<p>The Charhar Institute is a non-governmental think tank.</p>\n"
        "<p>It was founded in 2009.</p>"
    )


def test_a_second_run_creates_nothing():
    run()
    counts = (Article.objects.count(), Expert.objects.count(), Redirect.objects.count())

    out, _err = run()

    assert "Created" not in out
    assert "Updated" not in out
    assert "Unchanged: 1 page, 6 articles, 13 redirects." in out
    assert (Article.objects.count(), Expert.objects.count(), Redirect.objects.count()) == counts


def test_a_post_renamed_on_the_old_site_updates_the_same_article(tmp_path):
    run()
    renamed = tmp_path / "renamed.xml"
    renamed.write_text(
        WXR.read_text(encoding="utf-8").replace(
            "2018/06/26/stay-informed/", "2018/06/26/stay-informed-again/"
        ),
        encoding="utf-8",
    )
    out, _err = run(renamed)
    assert "Updated: 1 article." in out
    assert article(106).legacy_url.endswith("/stay-informed-again/")
    assert Redirect.objects.filter(old_path="/2018/06/26/stay-informed/").exists()


def test_dry_run_writes_nothing():
    out, _err = run(dry_run=True)
    assert "Dry run: nothing was written." in out
    assert "Would create:" in out
    assert not Article.objects.exists()
    assert not Expert.objects.exists()
    assert not Redirect.objects.exists()
    assert not default_storage.exists("uploads/2018/06/kim-trump-300x200.jpg")


def test_an_existing_expert_is_matched_by_name():
    expert = Expert.objects.create(name="Zhao Minghao", slug="minghao-zhao")
    run()
    assert article(101).ordered_authors == [expert]
    assert Expert.objects.filter(name__iexact="zhao minghao").count() == 1


BOMB = """<?xml version="1.0"?>
<!DOCTYPE rss [
 <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
 <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
 <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
 <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
 <!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">
]>
<rss xmlns:wp="http://wordpress.org/export/1.2/"
     xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>
<item><title>&f;</title><content:encoded>&f;</content:encoded><wp:post_id>1</wp:post_id>
<wp:post_type>post</wp:post_type><wp:status>publish</wp:status></item>
</channel></rss>
"""


@pytest.mark.parametrize(
    "doctype",
    [
        pytest.param(None, id="entity expansion"),
        pytest.param('<!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">]>', id="file"),
        pytest.param('<!DOCTYPE rss [<!ENTITY x SYSTEM "http://127.0.0.1:9/x">]>', id="network"),
        pytest.param('<!DOCTYPE rss SYSTEM "http://127.0.0.1:9/rss.dtd">', id="external DTD"),
    ],
)
def test_entity_attacks_are_refused_before_anything_is_imported(tmp_path, doctype):
    text = BOMB
    if doctype:
        text = text.split("<rss", 1)[1].replace("&f;", "&x;")
        text = f'<?xml version="1.0"?>\n{doctype}\n<rss{text}'
    path = tmp_path / "attack.xml"
    path.write_text(text)

    with pytest.raises(CommandError, match="declares a DTD"):
        run(path)
    assert not Article.objects.exists()


def test_a_file_that_is_not_xml_is_refused_with_a_clear_sentence(tmp_path):
    path = tmp_path / "broken.xml"
    path.write_text("<rss><channel><item><title>Unclosed</channel></rss>")
    with pytest.raises(CommandError, match="not well-formed XML"):
        run(path)


def test_an_uploads_path_outside_the_uploads_folder_is_refused(tmp_path):
    hostile = tmp_path / "hostile.xml"
    hostile.write_text(
        WXR.read_text(encoding="utf-8").replace(
            "<![CDATA[2018/06/summit.jpg]]>", "<![CDATA[../../../../etc/passwd]]>"
        ),
        encoding="utf-8",
    )
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 of the posts and pages could not be imported"):
        call_command(
            "import_wordpress",
            str(hostile),
            uploads_dir=str(DATA / "uploads"),
            stdout=io.StringIO(),
            stderr=err,
        )
    assert "post 101 · hero_image · “../../../../etc/passwd” points outside" in err.getvalue()
    assert not Redirect.objects.filter(old_path="/?p=101").exists()
    assert Redirect.objects.filter(old_path="/?p=105").exists()


def test_the_parser_holds_one_item_at_a_time(tmp_path):
    items = "".join(
        f"<item><title>Post {n}</title><wp:post_id>{n}</wp:post_id></item>" for n in range(20000)
    )
    path = tmp_path / "many.xml"
    path.write_text(
        '<rss xmlns:wp="http://wordpress.org/export/1.2/"><channel>' + items + "</channel></rss>"
    )
    seen, largest = 0, 0
    with path.open("rb") as handle:
        for kind, element in iter_channel(handle):
            seen += kind == "item"
            largest = max(largest, len(element.getparent()))
    # What the parser has read ahead (one input buffer) is all the tree ever holds.
    assert seen == 20000
    assert largest < 1000


def test_wpautop_makes_paragraphs_and_line_breaks_and_leaves_blocks_alone():
    text = (
        "First line\nsecond line\n\nNext paragraph\n\n<ul>\n<li>One</li>\n</ul>\n\n"
        "<pre>a\n\nb</pre>"
    )
    assert wpautop(text) == (
        "<p>First line<br />\nsecond line</p>\n<p>Next paragraph</p>\n<ul>\n<li>One</li>\n"
        "</ul>\n<pre>a\n\nb</pre>"
    )


def test_shortcodes_become_figures_or_disappear_with_their_count():
    removed = {}
    from collections import Counter

    removed = Counter()
    text = (
        '[caption id="a" align="alignleft" width="300"]<img src="x.jpg" /> A caption[/caption]'
        '[embed]https://www.youtube.com/watch?v=1[/embed][audio src="a.mp3"][box]Kept[/box]'
        "[[literal]] [1] [sic]"
    )
    result = convert_shortcodes(text, removed)
    assert result == (
        '<figure class="wp-caption alignleft"><img src="x.jpg" /><figcaption>A caption'
        '</figcaption></figure><p><a href="https://www.youtube.com/watch?v=1">'
        "https://www.youtube.com/watch?v=1</a></p>Kept[literal] [1] [sic]"
    )
    assert removed == {"audio": 1, "box": 1}
