"""The pages readers use most pass axe-core's automated WCAG 2.1 A and AA checks (and its
best practices) with no serious or critical violation, at desktop and phone widths.

axe-core comes from npm (package.json, installed by `make test`) and is injected into each
page by Playwright, driving Debian's Chromium against the demo content."""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.urls import reverse
from playwright.sync_api import expect

from articles.models import Article
from charhar.demo import hero_placeholder_jpeg
from experts.models import Expert

AXE = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
BLOCKING_IMPACTS = {"serious", "critical"}
SHOWN_NODES = 5  # elements listed in a failure message for each rule broken
SUMMIT = "Process of denuclearization remains a sticking point after Singapore summit"


def open_menu(label, nav):
    """Open a drop-down so its panel is checked too (axe-core skips what is hidden).

    At desktop width the panel floats over the page, where axe-core reports the contrast of
    the text it covers, and of its own, as "needs review" rather than measuring it; at phone
    width the panel lies in the flow of the page and its contrast is measured."""

    def act(page):
        menu = page.get_by_role("navigation", name=nav, exact=True)
        summary = menu.locator("summary").filter(has_text=label)
        summary.click()
        expect(summary.locator("..")).to_have_attribute("open", "")

    return act


def sign_up(email, interests=True):
    """Send the Stay Informed form and wait for the answer it shows in place."""

    def act(page):
        form = page.locator("form[data-stay-informed]").first
        if not interests:
            for box in form.get_by_role("checkbox").all():
                box.uncheck()
        form.get_by_label("Email address").fill(email)
        form.get_by_role("button", name="Subscribe").click()
        expect(form.get_by_role("status")).not_to_be_empty()

    return act


def search(**params):
    return lambda: reverse("search") + "?" + urlencode(params)


@dataclass
class Visit:
    path: Callable[[], str]
    then: Callable | None = None


VISITS = {
    "home": Visit(lambda: reverse("home")),
    "home, main menu open": Visit(lambda: reverse("home"), open_menu("Topics", "Main")),
    "home, header menu open": Visit(lambda: reverse("home"), open_menu("Our Work", "Network")),
    "listing": Visit(lambda: reverse("articles:research")),
    "topic": Visit(lambda: reverse("topic", args=["the-korean-peninsula"])),
    "article": Visit(lambda: Article.objects.get(title=SUMMIT).get_absolute_url()),
    "article, signed up": Visit(
        lambda: Article.objects.get(title=SUMMIT).get_absolute_url(),
        sign_up("reader@example.org"),
    ),
    "expert": Visit(lambda: reverse("experts:detail", args=["zhao-minghao"])),
    # Results with a query, filters in force (with the links that remove them) and facets.
    "search": Visit(search(q="Korea", topic="the-korean-peninsula", kind="research")),
    "search without results": Visit(search(q="zzyzx", kind="research")),
    "sign-up": Visit(lambda: reverse("newsletter:signup")),
    "sign-up, error shown": Visit(
        lambda: reverse("newsletter:signup"), sign_up("reader@example.org", interests=False)
    ),
}

WIDTHS = {"desktop": 1280, "phone": 360}


@pytest.fixture(scope="session")
def axe_script():
    if not AXE.is_file():
        pytest.fail(f"{AXE} is missing: `make test` installs it (or run `npm ci`).")
    return AXE


@pytest.fixture
def site(live_server, transactional_db, settings):
    """The live server's address, serving the demo content with the expert's photo (the seed
    has none) so that the expert page shows an image too."""
    call_command("load_demo", verbosity=0)
    expert = Expert.objects.get(slug="zhao-minghao")
    expert.photo.save("zhao-minghao.jpg", ContentFile(hero_placeholder_jpeg((240, 300))))
    settings.SITE_URL = live_server.url
    return live_server.url


def describe(violations) -> str:
    lines = []
    for violation in violations:
        lines.append(
            f"{violation['id']} ({violation['impact']}): {violation['help']} "
            f"<{violation['helpUrl']}>"
        )
        nodes = violation["nodes"]
        for node in nodes[:SHOWN_NODES]:
            target = " ".join(str(part) for part in node["target"])
            lines.append(f"    {target}: {node['failureSummary']}".replace("\n", " "))
        if len(nodes) > SHOWN_NODES:
            lines.append(f"    and {len(nodes) - SHOWN_NODES} more elements")
    return "\n".join(lines)


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
@pytest.mark.parametrize("name", VISITS.keys())
def test_page_has_no_serious_or_critical_accessibility_violation(
    site, browser, axe_script, name, width
):
    # The site's Content Security Policy admits only scripts carrying the response's nonce,
    # so it would refuse axe-core added from outside; these checks only, not the pages'
    # own scripts, need the policy lifted.
    context = browser.new_context(bypass_csp=True, viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        visit = VISITS[name]
        response = page.goto(site + visit.path())
        assert response.ok, f"{name}: {response.status}"
        if visit.then:
            visit.then(page)
        page.add_script_tag(path=axe_script)
        results = page.evaluate(
            "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS
        )
    finally:
        context.close()

    assert results["passes"], "axe-core ran no check at all"
    blocking = [v for v in results["violations"] if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, f"{name} at {width}px:\n{describe(blocking)}"
