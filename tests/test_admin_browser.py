"""The editorial workflow in a real browser (Debian's Chromium through Playwright): an editor
signs in to the admin, writes an article in the rich-text editor, publishes it, and readers
find it on the home page; pasting from Word into the editor gives clean HTML."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from articles.models import Article
from tests.editorial import role_user

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "a long editorial password"


def _sign_in(page, live_server, username):
    page.goto(live_server.url + reverse("admin:login"))
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#editorial-dashboard")).to_be_visible()


def test_an_editor_writes_and_publishes_an_article_that_appears_on_the_home_page(page, live_server):
    role_user("Editor", "chief", PASSWORD)
    _sign_in(page, live_server, "chief")

    page.goto(live_server.url + reverse("admin:articles_article_add"))
    page.fill("#id_title", "Track-two talks resume in Geneva")
    page.press("#id_title", "End")  # the admin fills the slug in as the title is typed
    expect(page.locator("#id_slug")).to_have_value("track-two-talks-resume-in-geneva")
    page.fill("#id_summary", "Scholars from both sides met again.")
    body = page.frame_locator("#id_body_ifr").locator("body")
    expect(body).to_be_visible()
    body.click()
    page.keyboard.type("Scholars met in Geneva for two days.")
    page.keyboard.press("Enter")
    page.keyboard.press("Control+B")
    page.keyboard.type("Both delegations")
    page.keyboard.press("Control+B")
    page.keyboard.type(" agreed to meet again.")
    # News goes to the home page's News & Events block.
    page.select_option("#id_kind", "news")
    page.select_option("#id_status", "published")
    page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")

    article = Article.objects.get(slug="track-two-talks-resume-in-geneva")
    assert article.is_live
    assert article.published_by.username == "chief"
    assert "<p>Scholars met in Geneva for two days.</p>" in article.body
    assert "<strong>Both delegations</strong>" in article.body

    reader = page.context.browser.new_context()
    home = reader.new_page()
    home.goto(f"{live_server.url}/")
    news = home.locator(".block--news")
    expect(news.get_by_role("link", name="Track-two talks resume in Geneva")).to_be_visible()
    home.get_by_role("link", name="Track-two talks resume in Geneva").first.click()
    expect(home.locator("h1")).to_have_text("Track-two talks resume in Geneva")
    expect(home.locator(".prose strong")).to_have_text("Both delegations")
    reader.close()


WORD_CLIPBOARD = (
    "<html xmlns:o='urn:schemas-microsoft-com:office:office'><head><style>p.MsoNormal{margin:0}"
    "</style></head><body><!--StartFragment--><p class=MsoNormal style='margin:0'><b><span "
    "style='font-family:Calibri'>Pasted</span></b> from Word<o:p></o:p></p><p "
    "class=MsoListParagraphCxSpFirst style='mso-list:l0 level1 lfo1'><span "
    "style='mso-list:Ignore'>·</span>Point one<o:p></o:p></p><!--EndFragment--></body></html>"
)


def test_pasting_from_word_into_the_editor_gives_clean_html(page, live_server):
    role_user("Contributor", "fellow", PASSWORD)
    _sign_in(page, live_server, "fellow")
    page.goto(live_server.url + reverse("admin:articles_article_add"))
    page.fill("#id_title", "Pasted piece")
    body = page.frame_locator("#id_body_ifr").locator("body")
    expect(body).to_be_visible()
    body.click()
    body.evaluate(
        """(element, html) => {
            const data = new DataTransfer();
            data.setData("text/html", html);
            data.setData("text/plain", "Pasted from Word");
            element.dispatchEvent(new ClipboardEvent("paste", {clipboardData: data, bubbles: true,
                                                               cancelable: true}));
        }""",
        WORD_CLIPBOARD,
    )
    expect(body.locator("li")).to_have_text("Point one")
    page.click("input[name=_submit_for_review]")
    expect(page.locator(".messagelist")).to_contain_text("review queue")

    article = Article.objects.get(title="Pasted piece")
    assert article.status == Article.Status.REVIEW
    bare = re.sub(r"</?span>", "", article.body)
    assert "<b>Pasted</b> from Word" in bare or "<strong>Pasted</strong> from Word" in bare
    assert "<ul><li>Point one</li></ul>" in article.body.replace("\n", "")
    for junk in ("Mso", "mso-", "style=", "o:p", "·", "Calibri"):
        assert junk not in article.body
