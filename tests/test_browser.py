"""The public layout in a real browser (Debian's Chromium through Playwright) against the demo
content: keyboard and screen-reader use of the drop-down menus, the menus without JavaScript,
the layout at phone and desktop widths, the article on paper, images that keep their place
while loading, and the event's calendar file."""

import re

import icalendar
import pytest
from django.core.management import call_command
from django.urls import reverse
from playwright.sync_api import expect

from articles.factories import EventDetailsFactory
from articles.models import Article
from charhar.models import Topic

SUMMIT = "Process of denuclearization remains a sticking point after Singapore summit"
MAIN_MENU_DROP_DOWNS = ["About Us", "Regions", "Topics", "Publications", "News&Events"]
HEADER_MENU_DROP_DOWNS = ["Our Organization", "Our Work", "Our Events"]

# Nothing covers the element that has focus: it is the topmost thing painted at the centre
# and near the corners of each of its boxes (a link that wraps has one box a line).
FOCUS_IS_UNCOVERED = """() => {
    const el = document.activeElement;
    return Array.from(el.getClientRects()).every((box) => {
        const inset = Math.min(2, box.width / 4, box.height / 4);
        const xs = [box.left + inset, box.left + box.width / 2, box.right - inset];
        const ys = [box.top + inset, box.top + box.height / 2, box.bottom - inset];
        return xs.every((x) => ys.every((y) => {
            const top = document.elementFromPoint(x, y);
            return el === top || el.contains(top);
        }));
    });
}"""
HORIZONTAL_OVERFLOW = (
    "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
)


@pytest.fixture
def site(live_server, transactional_db):
    """The live server's address, serving the demo content."""
    call_command("load_demo", verbosity=0)
    return live_server.url


@pytest.fixture
def urls():
    """The page types the layout must hold for: home, a listing, the full article, an expert."""
    return {
        "home": reverse("home"),
        "listing": reverse("articles:research"),
        "article": Article.objects.get(title=SUMMIT).get_absolute_url(),
        "expert": reverse("experts:detail", args=["zhao-minghao"]),
    }


@pytest.fixture(scope="module")
def screenshot_dir(tmp_path_factory):
    """Where the layout tests leave screenshots for a person to look at (pytest's basetemp)."""
    return tmp_path_factory.mktemp("screenshots")


def drop_down(page, label, nav="Main"):
    """The <details> of a top-level menu item, found through its navigation landmark."""
    summary = (
        page.get_by_role("navigation", name=nav, exact=True)
        .locator("summary")
        .filter(has_text=re.compile(rf"^\s*{re.escape(label)}\s*$"))
    )
    return summary.locator(".."), summary


def is_focused(locator) -> bool:
    return locator.evaluate("el => el === document.activeElement")


def tab_to(page, target, limit=80):
    """Press Tab until `target` has focus; every element focused on the way must be visible."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if is_focused(target):
            return
        expect(page.locator(":focus")).to_be_visible()
    pytest.fail(f"{limit} presses of Tab never reached {target}")


def accessibility_tree(page):
    """Chromium's own accessibility tree, as assistive technology receives it."""
    session = page.context.new_cdp_session(page)
    try:
        nodes = session.send("Accessibility.getFullAXTree")["nodes"]
    finally:
        session.detach()
    return [
        {
            "role": node.get("role", {}).get("value"),
            "name": node.get("name", {}).get("value", ""),
            **{prop["name"]: prop["value"].get("value") for prop in node.get("properties", [])},
        }
        for node in nodes
        if not node.get("ignored")
    ]


def disclosure_states(page):
    """{accessible name: expanded} for every element that reports an expanded state."""
    return {
        node["name"]: node["expanded"] for node in accessibility_tree(page) if "expanded" in node
    }


def track_failures(page):
    """A list that collects every request of the page that fails or answers with an error."""
    failures = []
    page.on("requestfailed", lambda request: failures.append(f"failed {request.url}"))
    page.on(
        "response",
        lambda response: (
            response.status >= 400 and failures.append(f"{response.status} {response.url}")
        ),
    )
    return failures


# --- Keyboard ----------------------------------------------------------------------------------


def test_skip_link_is_the_first_tab_stop_and_moves_focus_to_main(site, page):
    page.goto(site + "/")

    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    box = skip.bounding_box()
    assert box["x"] >= 0, "the skip link must come on screen when it has focus"
    expect(skip).to_be_in_viewport()

    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    # The next Tab continues from the content, past the header.
    page.keyboard.press("Tab")
    assert page.locator("main").evaluate("main => main.contains(document.activeElement)")


def test_keyboard_opens_a_drop_down_walks_its_links_and_escape_closes_it(site, page):
    page.goto(site + "/")
    topics, summary = drop_down(page, "Topics")

    # Links inside closed drop-downs are not tab stops on the way (tab_to checks visibility).
    tab_to(page, summary)
    expect(topics).not_to_have_attribute("open", "")
    outline = summary.evaluate("el => getComputedStyle(el).outlineStyle")
    assert outline != "none", "the focused summary must show where focus is"

    page.keyboard.press("Enter")
    expect(topics).to_have_attribute("open", "")

    # The first Tab lands on "All Topics", then each topic in the menu's order.
    expected = [
        "All Topics",
        *Topic.objects.order_by("order", "name").values_list("name", flat=True),
    ]
    for name in expected:
        page.keyboard.press("Tab")
        link = topics.get_by_role("link", name=name, exact=True)
        expect(link).to_be_focused()
        expect(link).to_be_visible()
        assert page.evaluate(FOCUS_IS_UNCOVERED), f"{name!r} has focus but something covers it"

    page.keyboard.press("Escape")
    expect(topics).not_to_have_attribute("open", "")
    expect(summary).to_be_focused()


def test_opening_a_drop_down_closes_the_other_and_a_click_outside_closes_it(site, page):
    page.goto(site + "/")
    topics, topics_summary = drop_down(page, "Topics")
    regions, regions_summary = drop_down(page, "Regions")

    tab_to(page, topics_summary)
    page.keyboard.press("Enter")
    expect(topics).to_have_attribute("open", "")

    regions_summary.click()
    expect(regions).to_have_attribute("open", "")
    expect(topics).not_to_have_attribute("open", "")

    # A click on the page beside the open panel (the margin left of the content).
    panel = regions.locator(".menu__panel").bounding_box()
    page.mouse.click(5, panel["y"] + 20)
    expect(page.locator("details[open]")).to_have_count(0)


def test_tabbing_out_of_an_open_drop_down_never_leaves_focus_hidden_under_it(site, page):
    page.goto(site + "/")
    topics, summary = drop_down(page, "Topics")
    tab_to(page, summary)
    page.keyboard.press("Enter")
    expect(topics).to_have_attribute("open", "")

    # Past the drop-down's links, the next drop-downs and into the first cards of the page.
    for _ in range(Topic.objects.count() + 8):
        page.keyboard.press("Tab")
        focused = page.locator(":focus")
        expect(focused).to_be_visible()
        assert page.evaluate(FOCUS_IS_UNCOVERED), (
            f"{focused.evaluate('el => el.outerHTML')[:120]} has focus under an open drop-down"
        )
    assert page.locator("main").evaluate("main => main.contains(document.activeElement)")


# --- Screen readers ----------------------------------------------------------------------------


def test_landmarks_headings_images_and_drop_downs_are_announced(site, page, urls):
    for name, path in urls.items():
        page.goto(site + path)
        tree = accessibility_tree(page)
        navigation_names = [node["name"] for node in tree if node["role"] == "navigation"]
        assert navigation_names, name
        assert all(navigation_names), f"{name}: a navigation landmark has no name"
        assert len(set(navigation_names)) == len(navigation_names), navigation_names
        for role in ("banner", "main", "contentinfo"):
            expect(page.get_by_role(role)).to_have_count(1)
        expect(page.get_by_role("heading", level=1)).to_have_count(1)
        images = page.locator("img")
        if name == "article":  # the hero: the check below is not vacuous
            expect(images).not_to_have_count(0)
        for image in images.all():
            expect(image).to_have_accessible_name(re.compile(r"\S"))
        # In-page links (skip link, "Stay Informed") lead somewhere on the page.
        for anchor in page.locator("a[href^='#']").all():
            target = anchor.get_attribute("href")[1:]
            expect(page.locator(f"[id='{target}']"), f"{name}: #{target}").to_have_count(1)

    page.goto(site + urls["home"])
    names = MAIN_MENU_DROP_DOWNS + HEADER_MENU_DROP_DOWNS
    # Each summary is announced by its label alone (no "▾" read out), and as collapsed.
    assert disclosure_states(page) == dict.fromkeys(names, False)
    drop_down(page, "Topics")[1].click()
    assert disclosure_states(page) == {**dict.fromkeys(names, False), "Topics": True}
    main_menu = page.get_by_role("navigation", name="Main", exact=True)
    expect(main_menu.get_by_role("link", name="The Korean Peninsula")).to_be_visible()


# --- Without JavaScript ------------------------------------------------------------------------


def test_drop_downs_work_without_javascript(site, browser):
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    try:
        page.goto(site + "/")
        topics, summary = drop_down(page, "Topics")
        summary.click()
        expect(topics).to_have_attribute("open", "")
        link = topics.get_by_role("link", name="The Korean Peninsula")
        expect(link).to_be_visible()
        link.click()
        expect(page).to_have_url(site + reverse("topic", args=["the-korean-peninsula"]))
        expect(page.get_by_role("heading", level=1)).to_have_text("The Korean Peninsula")

        page.goto(site + "/")
        topics, summary = drop_down(page, "Topics")
        tab_to(page, summary)
        page.keyboard.press("Enter")
        expect(topics).to_have_attribute("open", "")
        page.keyboard.press("Tab")
        expect(topics.get_by_role("link", name="All Topics")).to_be_focused()
        page.keyboard.press("Enter")
        expect(page).to_have_url(site + reverse("topics"))
    finally:
        context.close()


# --- Phone and desktop -------------------------------------------------------------------------


@pytest.mark.parametrize("width", [360, 1440])
def test_pages_fit_the_screen_and_stay_readable(site, browser, urls, screenshot_dir, width):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    failures = track_failures(page)
    try:
        for name, path in urls.items():
            page.goto(site + path)
            page.screenshot(path=screenshot_dir / f"{name}-{width}.png", full_page=True)
            assert page.evaluate(HORIZONTAL_OVERFLOW) <= 0, f"{name} scrolls sideways at {width}px"
            body_size = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
            assert body_size >= 16, f"{name}: body text is {body_size}px"
            expect(page.get_by_role("heading", level=1)).to_have_count(1)
            for nav in ("Main", "Network", "Quick links"):
                menu = page.get_by_role("navigation", name=nav, exact=True)
                top_level = ".menu--level0 > li > a, .menu--level0 > li > details > summary"
                for item in menu.locator(f"{top_level}, .menu--flat > li > a").all():
                    expect(item).to_be_in_viewport()
            expect(page.get_by_role("searchbox", name="Search the site")).to_be_in_viewport()

        # Running text is at least 16px and its lines stay a readable length (at most 45em,
        # some 90 characters) however wide the window.
        for name, selector in (("article", ".prose p"), ("listing", ".card__summary")):
            page.goto(site + urls[name])
            paragraphs = page.locator(selector)
            expect(paragraphs).not_to_have_count(0)
            measures = paragraphs.evaluate_all(
                """ps => ps.map((p) => {
                    const size = parseFloat(getComputedStyle(p).fontSize);
                    return [size, p.getBoundingClientRect().width / size];
                })"""
            )
            for size, ems in measures:
                assert size >= 16, f"{name}: {selector} is {size}px"
                assert ems <= 45, f"{name}: {selector} lines are {ems:.0f}em long at {width}px"
        assert failures == [], "requests for the pages' assets failed"
    finally:
        context.close()


@pytest.mark.parametrize("width", [360, 768, 1440])
def test_every_drop_down_opens_on_screen(site, browser, screenshot_dir, width):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        page.goto(site + "/")
        for nav, labels in (("Main", MAIN_MENU_DROP_DOWNS), ("Network", HEADER_MENU_DROP_DOWNS)):
            for label in labels:
                details, summary = drop_down(page, label, nav=nav)
                summary.click()
                expect(details).to_have_attribute("open", "")
                expect(page.locator("details[open]")).to_have_count(1)
                panel = details.locator(".menu__panel")
                box = panel.bounding_box()
                assert box["x"] >= 0, f"{label} opens off the left edge at {width}px"
                assert box["x"] + box["width"] <= width, f"{label} runs off the right at {width}px"
                assert page.evaluate(HORIZONTAL_OVERFLOW) <= 0, f"{label} at {width}px"
                links_on_screen = panel.evaluate(
                    """panel => Array.from(panel.querySelectorAll("a")).every((a) => {
                        const box = a.getBoundingClientRect();
                        return box.width > 0 && box.left >= 0 && box.right <= innerWidth;
                    })"""
                )
                assert links_on_screen, f"a link of {label} is cut off at {width}px"
                if label == "Our Work":  # the descriptions staff gave the items show
                    expect(panel.get_by_text("GMF provides effective ways forward")).to_be_visible()
                if label == "Topics":
                    page.screenshot(path=screenshot_dir / f"menu-{width}.png")
                summary.click()
                expect(details).not_to_have_attribute("open", "")
    finally:
        context.close()


# --- Print -------------------------------------------------------------------------------------


def test_article_prints_title_and_body_without_the_site_chrome(site, page, urls):
    page.goto(site + urls["article"])
    chrome = [
        page.get_by_role("banner"),
        page.get_by_role("contentinfo"),
        page.get_by_role("region", name="Share"),
        page.get_by_role("region", name="Stay Informed"),
    ]
    for part in chrome:
        expect(part).to_be_visible()

    page.emulate_media(media="print")
    for part in chrome:
        expect(part).to_be_hidden()
    expect(page.get_by_role("heading", level=1)).to_have_text(SUMMIT)
    expect(page.locator(".prose")).to_contain_text("The summit between US President Donald Trump")
    expect(page.get_by_role("img", name=re.compile("dark red gradient"))).to_be_visible()


# --- Images ------------------------------------------------------------------------------------


def test_hero_image_loads_and_keeps_its_place_while_loading(site, page, urls):
    held = []
    page.route("**/media/**", lambda route: held.append(route))
    with page.expect_request(re.compile(r"/media/")):
        page.goto(site + urls["article"], wait_until="domcontentloaded")
    hero = page.locator(".article__hero img")
    expect(hero).to_have_attribute("width", re.compile(r"^\d+$"))
    expect(hero).to_have_attribute("height", re.compile(r"^\d+$"))
    assert held, "the hero image is held on its way from /media/"
    assert hero.evaluate("img => img.naturalWidth") == 0
    while_loading = hero.bounding_box()

    for route in held:
        route.continue_()
    page.unroute("**/media/**")
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=hero.element_handle())
    loaded = hero.bounding_box()
    assert while_loading == loaded, "the page moves when the hero image arrives"
    natural = hero.evaluate("img => [img.naturalWidth, img.naturalHeight]")
    declared = int(hero.get_attribute("width")), int(hero.get_attribute("height"))
    assert natural[0] * declared[1] == natural[1] * declared[0], (natural, declared)
    assert loaded["width"] / loaded["height"] == pytest.approx(natural[0] / natural[1], rel=0.01)


def test_listing_thumbnails_are_renditions_of_their_declared_size(site, page):
    page.goto(site + reverse("topic", args=["the-korean-peninsula"]))
    thumbnails = page.locator("img.card__image")
    expect(thumbnails).not_to_have_count(0)
    for image in thumbnails.all():
        image.scroll_into_view_if_needed()
        page.wait_for_function("img => img.complete", arg=image.element_handle())
        natural = image.evaluate("img => [img.naturalWidth, img.naturalHeight]")
        assert natural == [int(image.get_attribute("width")), int(image.get_attribute("height"))]


# --- Events ------------------------------------------------------------------------------------


def test_add_to_calendar_downloads_the_event_as_an_ics_file(site, page):
    event = EventDetailsFactory(article__title="Forum on City Diplomacy", city="Beijing")
    page.goto(site + event.article.get_absolute_url())

    link = page.get_by_role("link", name="Add to calendar")
    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert download.suggested_filename == f"{event.article.slug}.ics"
    with open(download.path(), "rb") as file:
        calendar = icalendar.Calendar.from_ical(file.read())
    (entry,) = calendar.walk("VEVENT")
    assert str(entry["summary"]) == "Forum on City Diplomacy"
    # In the event's own time zone, to the second.
    assert entry["dtstart"].params["TZID"] == "Asia/Shanghai"
    assert entry.decoded("dtstart") == event.starts_at.replace(microsecond=0)

    response = page.context.request.get(site + link.get_attribute("href"))
    assert response.ok
    assert response.headers["content-type"].startswith("text/calendar")
