"""The Stay Informed sign-up in a real browser (Debian's Chromium through Playwright): from an
article page, with JavaScript answering in place, then confirming from the emailed link."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from articles.factories import PublishedArticleFactory
from newsletter.models import Subscriber
from newsletter.testing import run_queued_tasks


@pytest.mark.django_db(transaction=True)
def test_signing_up_from_an_article_page_in_a_browser(page, live_server, settings):
    settings.SITE_URL = live_server.url
    article = PublishedArticleFactory(title="Dialogue on the peninsula")
    page.goto(live_server.url + article.get_absolute_url())
    expect(page.get_by_role("heading", name="Dialogue on the peninsula")).to_be_visible()

    block = page.locator("#stay-informed")
    expect(block.get_by_role("heading", name="Stay Informed")).to_be_visible()
    for interest in ("News", "Events", "Opinion", "Publications"):
        expect(block.get_by_label(interest)).to_be_checked()
    expect(block.locator("input[name=website]")).to_be_hidden()
    block.get_by_label("Opinion").uncheck()
    block.get_by_label("Email address").fill("Browser.Reader@Example.org")
    block.get_by_role("button", name="Subscribe").click()

    # The script sends the form and the page stays where it was, showing the answer.
    expect(block.get_by_role("status")).to_contain_text("check your inbox")
    assert page.url == live_server.url + article.get_absolute_url()
    expect(block.get_by_role("button", name="Subscribe")).to_be_hidden()

    subscriber = Subscriber.objects.get()
    assert subscriber.email == "Browser.Reader@example.org"
    assert subscriber.status == Subscriber.Status.PENDING
    assert subscriber.interest_values == ["news", "events", "publications"]

    run_queued_tasks()
    (message,) = mail.outbox
    link = re.search(r"(http://\S+/newsletter/confirm/\S+/)", message.body).group(1)
    page.goto(link)
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Subscription confirmed")).to_be_visible()
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.CONFIRMED


@pytest.mark.django_db(transaction=True)
def test_signing_up_without_javascript_lands_on_the_check_your_inbox_page(browser, live_server):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        article = PublishedArticleFactory()
        page.goto(live_server.url + article.get_absolute_url())
        block = page.locator("#stay-informed")
        block.get_by_label("Email address").fill("plain@example.org")
        block.get_by_role("button", name="Subscribe").click()
        expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()
        assert Subscriber.objects.get().email == "plain@example.org"
    finally:
        context.close()
