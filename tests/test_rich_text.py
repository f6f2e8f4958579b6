"""Rich text: the admin's editor offers only what the sanitizer keeps, and what is stored is
clean whatever arrives — pasted Word and Google Docs markup, scripts and styles."""

import json
from pathlib import Path

import pytest
from django.urls import reverse

from articles.factories import DraftArticleFactory
from charhar.factories import PageFactory
from charhar.sanitize import ALLOWED_TAGS, clean_html, html_to_text
from charhar.widgets import editor_valid_elements
from experts.factories import ExpertFactory
from tests.editorial import editor

pytestmark = pytest.mark.django_db

# What Word and Google Docs put on the clipboard (text/html), as browsers hand it over.
CLIPBOARD = Path(__file__).parent / "clipboard"
WORD = (CLIPBOARD / "word.html").read_text()
GOOGLE_DOCS = (CLIPBOARD / "google_docs.html").read_text()


def test_pasted_word_markup_becomes_plain_structure():
    html = clean_html(WORD)

    assert "<h2>Summit report</h2>" in html
    assert "<b><span>Key point</span></b>" in html or "<b>Key point</b>" in html
    assert "<i>nuance</i>" in html
    assert "<ul><li>First item</li><li>Second item</li></ul>" in html.replace("\n", "")
    assert '<a href="https://example.org/report" rel="noopener noreferrer">Read more</a>' in html
    for junk in ("Mso", "mso-", "style=", "<o:p", "<xml", "WordDocument", "Calibri", "·", "<!--"):
        assert junk not in html, junk


def test_pasted_google_docs_markup_keeps_bold_and_italic_without_the_wrapper():
    html = clean_html(GOOGLE_DOCS)

    assert not html.startswith("<b")
    assert "docs-internal-guid" not in html
    assert "<strong>Bold words</strong>" in html
    assert "<em>italic</em>" in html
    assert "<strong><em>both</em></strong>" in html
    assert "style=" not in html
    assert "<h2" in html
    assert "<li" in html


@pytest.mark.parametrize(
    ("dirty", "forbidden"),
    [
        ('<p>Hi</p><script>alert("x")</script>', "alert"),
        ("<style>body{display:none}</style><p>Hi</p>", "display:none"),
        ('<p style="position:fixed;top:0">Hi</p>', "style="),
        ('<a href="javascript:alert(1)">x</a>', "javascript:"),
        ('<img src="x.png" onerror="alert(1)">', "onerror"),
        ('<iframe src="https://evil.example"></iframe>', "iframe"),
        ("<p>Hi<!-- secret --></p>", "secret"),
    ],
)
def test_scripts_styles_handlers_and_unknown_tags_never_survive(dirty, forbidden):
    assert forbidden not in clean_html(dirty)


def test_the_editor_offers_only_what_the_sanitizer_keeps():
    rules = editor_valid_elements().split(",")
    tags = {rule.split("[", 1)[0] for rule in rules}
    assert tags == ALLOWED_TAGS
    assert "style" not in editor_valid_elements()
    assert "h1" not in tags
    for needed in ("h2", "p", "ul", "ol", "li", "a", "strong", "em", "blockquote", "figure",
                   "figcaption", "img", "table", "td"):  # fmt: skip
        assert needed in tags


def test_editor_output_survives_the_sanitizer_unchanged():
    """What the editor produces (captioned images, tables, links) is stored as it is shown."""
    html = (
        "<h2>Heading</h2><p><strong>Bold</strong> and <em>italic</em> and "
        '<a href="https://example.org" rel="noopener noreferrer">a link</a>.</p>'
        "<ul><li>One</li></ul><ol><li>Two</li></ol><blockquote><p>Quote</p></blockquote>"
        '<figure class="image"><img src="https://example.org/a.jpg" alt="A hall" width="600" '
        'height="400"><figcaption>The hall</figcaption></figure>'
        "<table><thead><tr><th>Year</th></tr></thead><tbody><tr><td>2024</td></tr></tbody></table>"
    )
    assert clean_html(html) == html


@pytest.mark.parametrize(
    ("url_name", "obj_factory", "field"),
    [
        ("admin:articles_article_change", DraftArticleFactory, "body"),
        ("admin:experts_expert_change", ExpertFactory, "bio"),
        ("admin:charhar_page_change", PageFactory, "body"),
    ],
)
def test_bodies_and_bios_use_the_editor_in_the_admin(client, url_name, obj_factory, field):
    client.force_login(editor())
    obj = obj_factory()

    response = client.get(reverse(url_name, args=[obj.pk]))
    html = response.content.decode()
    widget = response.context["adminform"].form.fields[field].widget

    assert "admin-editor/tinymce/tinymce.min.js" in html
    assert "admin-editor/editor.js" in html
    config = json.loads(widget.attrs["data-rich-text"])
    assert config["valid_elements"] == editor_valid_elements()


def test_the_editor_ships_in_the_projects_static_files():
    from django.contrib.staticfiles import finders

    for path in (
        "admin-editor/tinymce/tinymce.min.js",
        "admin-editor/tinymce/themes/silver/theme.min.js",
        "admin-editor/tinymce/models/dom/model.min.js",
        "admin-editor/tinymce/icons/default/icons.min.js",
        "admin-editor/tinymce/skins/ui/oxide/skin.min.css",
        "admin-editor/tinymce/plugins/table/plugin.min.js",
        "admin-editor/tinymce/license.txt",
        "admin-editor/editor.js",
        "admin-editor/focal-point.js",
    ):
        assert finders.find(path), path


def test_the_text_of_a_body_keeps_its_words_and_drops_all_markup():
    body = (
        "<p>Trade &amp; security</p><script>alert(1)</script><!-- a note -->"
        "<p>&lt;b&gt; is text, caf&eacute;</p><ul><li>One</li></ul>"
    )
    assert html_to_text(body) == "Trade & security<b> is text, caféOne"
    assert html_to_text("") == ""
