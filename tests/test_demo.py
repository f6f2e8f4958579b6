"""`manage.py load_demo`: the seed page's content arrives exactly, only once, and a dry run
writes nothing."""

import datetime
import html
import zoneinfo
from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import timezone
from PIL import Image

from articles.models import Article, Section
from charhar import demo
from charhar.models import Menu, MenuItem, Office, Page, Region, SiteSettings, Topic
from charhar.navigation import get_menus
from experts.models import Expert
from publications.models import Publication, Series

pytestmark = pytest.mark.django_db

FULL_TITLE = "Process of denuclearization remains a sticking point after Singapore summit"
FIRST_PARAGRAPH = (
    "The summit between US President Donald Trump and\u00a0North Korean leader\u00a0Kim "
    "Jong-un\u00a0in Singapore is an important breakthrough in the history of North Korea-US "
    "relations. It brings the nuclear issue closer to resolution. Although more likely to be a "
    "consensus, the goal of complete denuclearization of the\u00a0Korean Peninsula\u00a0was "
    "reaffirmed in the joint statement that the two countries signed. The Trump administration "
    "also pledged to halt the annual US-South Korea joint military drill, which fulfills the "
    "achievement of the summit."
)
LAST_PARAGRAPH = (
    "The Kim-Trump summit is a historic moment, but it hasn't come to a historic turning point "
    "in North Korea-US relations. The priority now is to maintain the momentum of dialogue, "
    "especially making sure that the US doesn't back out. North Korea should also maintain its "
    "peace offensive with actions like truthfully reporting its nuclear weapons and facilities. "
    "Besides, Pyongyang and Seoul should put the Panmunjom Declaration into effect. All parties "
    "concerned should be patient, prudent and willing to make compromises."
)

TOPICS = [
    "Public Diplomacy and International Relations",
    "Belt & Road Initiative",
    "The Korean Peninsula",
    "Economic and Trade",
    "Communication",
    "Law, Culture and Religion",
    "Energy, Safety and Peace",
]
REGIONS = ["America", "Europe&Middle East", "Asia", "Africa&Latin America", "Indo-Pacific"]
SECTIONS = [
    "Public Diplomacy",
    "Peace Studies",
    "Belt & Road",
    "Charhar News",
    "Announcement",
    "For Media",
]
SERIES = [
    "Public Diplomacy Quarterly",
    "Other books and reports",
    "Charhar Public Diplomacy series",
    "Charhar Newsletter",
    "Charhar International Relations series",
    "Introduction to Public Diplomacy",
]
OFFICES = [
    "Washington, DC",
    "Ankara",
    "Belgrade",
    "Berlin",
    "Brussels",
    "Bucharest",
    "Paris",
    "Warsaw",
]

NEWS = "News & Events"
# (title exactly as in the seed, or completed where it cuts it short; date; where it is listed)
ARTICLES = [
    (
        "Facing challenges, US' IPEF may make the Asia-Pacific economy more fragmented",
        datetime.date(2022, 6, 9),
        NEWS,
    ),
    ("Behind Biden’s Asia Trip", datetime.date(2022, 6, 9), NEWS),
    (
        "US sinks its claws back into Somalia with an eye on China and Russia",
        datetime.date(2022, 5, 23),
        NEWS,
    ),
    ("The Taiwan Question amid Russia-Ukraine Conflict", datetime.date(2022, 5, 6), NEWS),
    ("China’s Oil Deal v.s. the Dollar Mar 28, 2022", datetime.date(2022, 3, 28), NEWS),
    ("Biden’s Indo-Pacific Foray", datetime.date(2022, 2, 26), NEWS),
    (
        "Sudan's 'military-civilian co-governance' dies halfway",
        datetime.date(2021, 11, 3),
        "Energy, Safety and Peace",
    ),
    (
        "Human rights standards shall not be monopolized",
        datetime.date(2021, 10, 14),
        "Energy, Safety and Peace",
    ),
    (
        "Israel's diplomatic breakthrough in Maghreb faces challenges",
        datetime.date(2020, 12, 11),
        "Law, Culture and Religion",
    ),
    (
        "Meng ruling makes Ottawa new front line between Washington and Beijing",
        datetime.date(2020, 5, 29),
        "Law, Culture and Religion",
    ),
    (
        "He Wenping: Fake news fails in damaging Sino-African ties",
        datetime.date(2019, 1, 31),
        "Communication",
    ),
    ("Resistance from within the White House", datetime.date(2018, 9, 10), "Communication"),
    (
        "Challenges for the G20 in overcoming the pandemic",
        datetime.date(2020, 11, 26),
        "Economic and Trade",
    ),
    (
        "Liberalization and non-interference by government will clean up Pakistan's economy",
        datetime.date(2020, 7, 7),
        "Economic and Trade",
    ),
    (
        "Su Hao: Tokyo should give ground to resolve tensions with Seoul over ‘comfort women’ "
        "issue",
        datetime.date(2019, 6, 26),
        "The Korean Peninsula",
    ),
    (
        "Swaran Singh: Can next U.S.-DPRK meeting be expected?",
        datetime.date(2019, 6, 12),
        "The Korean Peninsula",
    ),
    (
        "China-Africa unity sees friendship of new era",
        datetime.date(2021, 1, 5),
        "Belt & Road Initiative",
    ),
    ("Unchangeable Commitment", datetime.date(2020, 2, 19), "Belt & Road Initiative"),
    (
        "The key to peace between Russia and Ukraine CGTN",
        datetime.date(2022, 3, 3),
        "Public Diplomacy and International Relations",
    ),
    (
        "Biden’s first year marked by lows and challenges",
        datetime.date(2022, 3, 3),
        "Public Diplomacy and International Relations",
    ),
    (FULL_TITLE, datetime.date(2018, 6, 18), "The Korean Peninsula"),
]

PUBLICATIONS = [
    ("Diplomatic Theory and Practice", datetime.date(2018, 6, 21), SERIES[5]),
    ("Introduction to Public Diplomacy 2nd Edition", datetime.date(2018, 6, 20), SERIES[5]),
    (
        "International Public Product: China and the World at the Midst of Revolutionary Change",
        datetime.date(2018, 6, 21),
        SERIES[4],
    ),
    (
        "Power and Wealth: Economic Nationalism and International Relationships under "
        "Globalization",
        datetime.date(2018, 6, 21),
        SERIES[4],
    ),
    ("Charhar Newsletter", datetime.date(2018, 8, 16), SERIES[3]),
    ("Winning the Chinese Hearts and Souls", datetime.date(2018, 6, 20), SERIES[2]),
    (
        "City Diplomacy: China’s Practice and Foreign Experience",
        datetime.date(2018, 6, 20),
        SERIES[2],
    ),
    ("The impotence of conventional arms control", datetime.date(2020, 3, 25), SERIES[1]),
    ("How Did Stalin Fall into the “Thucydides Trap”", datetime.date(2020, 2, 27), SERIES[1]),
    ("Public Diplomacy Quarterly", datetime.date(2018, 8, 17), SERIES[0]),
]


def _load(*args, **options) -> str:
    out = StringIO()
    call_command("load_demo", *args, stdout=out, **options)
    return out.getvalue()


def _snapshot() -> dict:
    """Every row of every model, field by field (timestamps included)."""
    return {
        model._meta.label: list(model._default_manager.order_by("pk").values())
        for model in apps.get_models()
    }


def _media_files() -> set[Path]:
    root = Path(settings.MEDIA_ROOT)
    return {path.relative_to(root) for path in root.rglob("*") if path.is_file()}


@pytest.fixture
def loaded():
    return _load()


# --- What the seed shows arrives exactly ----------------------------------------------------


@pytest.mark.usefixtures("loaded")
@pytest.mark.parametrize(("title", "date", "listed_under"), ARTICLES)
def test_every_seed_article_has_its_exact_title_date_and_place(title, date, listed_under):
    article = Article.objects.get(title=title)
    assert article.status == Article.Status.PUBLISHED
    assert timezone.localdate(article.published_at) == date
    assert article.summary
    if listed_under == NEWS:
        assert article.section is not None
        assert article.kind in {Article.Kind.NEWS, Article.Kind.COMMENTARY}
        assert Article.objects.news_and_events().filter(pk=article.pk).exists()
    else:
        assert listed_under in {topic.name for topic in article.topics.all()}
        assert article.kind == Article.Kind.RESEARCH
        assert Article.objects.research().filter(pk=article.pk).exists()


@pytest.mark.usefixtures("loaded")
def test_the_seed_articles_are_all_there_and_all_published():
    titles = {title for title, _, _ in ARTICLES}
    assert set(Article.objects.values_list("title", flat=True)) == titles
    assert set(Article.objects.published().values_list("title", flat=True)) == titles


@pytest.mark.usefixtures("loaded")
@pytest.mark.parametrize(
    ("title_start", "byline"),
    [("Swaran Singh:", "Swaran Singh"), ("He Wenping:", "He Wenping"), ("Su Hao:", "Su Hao")],
)
def test_outside_authors_named_in_a_title_are_in_the_byline(title_start, byline):
    assert Article.objects.get(title__startswith=title_start).byline == byline


@pytest.mark.usefixtures("loaded")
def test_the_full_article_has_every_paragraph_of_the_seed():
    article = Article.objects.get(title=FULL_TITLE)
    assert article.body.count("<p>") == 11
    assert article.body.count("</p>") == 11
    text = html.unescape(article.body)
    assert f"<p>{FIRST_PARAGRAPH}</p>" in text
    assert f"<p>{LAST_PARAGRAPH}</p>" in text
    assert 'The Trump administration holds that "maximum pressure" is the main reason' in text
    assert article.summary == (
        "The summit between US President Donald Trump and\u00a0North Korean leader\u00a0Kim "
        "Jong-un\u00a0in Singapore is an important breakthrough in the history of North "
        "Korea-US relations."
    )


@pytest.mark.usefixtures("loaded")
def test_the_full_article_is_by_zhao_minghao_adjunct_senior_fellow():
    article = Article.objects.with_related().get(title=FULL_TITLE)
    assert [(e.name, e.title) for e in article.ordered_authors] == [
        ("ZHAO Minghao", "Adjunct Senior Fellow")
    ]
    assert [t.name for t in article.topics.all()] == ["The Korean Peninsula"]
    assert [r.name for r in article.regions.all()] == ["Asia"]
    assert Expert.objects.published().filter(name="ZHAO Minghao").exists()


@pytest.mark.usefixtures("loaded")
def test_the_full_article_has_a_generated_jpeg_hero_image_in_storage():
    article = Article.objects.get(title=FULL_TITLE)
    assert Path(article.hero_image.name).name == "20180620150318_2793.jpg"
    assert article.hero_image.storage.exists(article.hero_image.name)
    assert Path(article.hero_image.path).is_relative_to(Path(settings.MEDIA_ROOT))
    with article.hero_image.open("rb") as handle, Image.open(handle) as image:
        assert image.format == "JPEG"
        assert image.size == (1200, 675)
    assert article.hero_alt
    assert not Article.objects.exclude(pk=article.pk).exclude(hero_image="").exists()


@pytest.mark.usefixtures("loaded")
@pytest.mark.parametrize(("title", "date", "series"), PUBLICATIONS)
def test_every_seed_publication_is_in_its_series_with_its_date(title, date, series):
    publication = Publication.objects.get(title=title)
    assert publication.published_on == date
    assert publication.series.name == series
    assert publication.status == Publication.Status.PUBLISHED
    assert publication.publisher
    assert publication.isbn == ""


@pytest.mark.usefixtures("loaded")
def test_publications_are_exactly_the_seed_ones_and_published():
    titles = {title for title, _, _ in PUBLICATIONS}
    assert set(Publication.objects.published().values_list("title", flat=True)) == titles
    assert Publication.objects.count() == len(titles)


@pytest.mark.usefixtures("loaded")
@pytest.mark.parametrize(
    ("model", "names"),
    [(Topic, TOPICS), (Region, REGIONS), (Section, SECTIONS), (Series, SERIES)],
)
def test_taxonomy_has_the_seed_names_in_the_seed_order_with_descriptions(model, names):
    rows = list(model.objects.all())
    assert [row.name for row in rows] == names
    assert all(row.description for row in rows)


@pytest.mark.usefixtures("loaded")
def test_offices_are_the_header_cities_in_order():
    assert list(Office.objects.values_list("city", flat=True)) == OFFICES
    assert not Office.objects.exclude(address="").exists()


@pytest.mark.usefixtures("loaded")
def test_site_settings_carry_the_footer_contact_details_and_quote():
    site = SiteSettings.load()
    assert site.pk == 1
    assert site.institute_name == "The Charhar Institute"
    assert site.chairman_quote == (
        "The Charhar Institute is committed to promoting progress in China’s foreign policies "
        "and the development of international relations in a more orderly manner."
    )
    assert site.chairman_attribution == "Dr Han Fangming, Charhar Chairman"
    assert site.phone == "+86 10 68290431"
    assert site.fax == "010-80777830"
    assert site.email == "secretariat@charhar.org.cn"
    assert site.facebook_name == "The Charhar Institute"
    assert site.twitter_handle == "@CharharINST"
    assert site.twitter_url == "https://twitter.com/CharharINST"
    assert site.footer_text == "All rights reserved. Privacy Policy and Terms of Use"
    assert [name for name, _ in site.social_links] == [
        "Twitter",
        "Facebook",
        "LinkedIn",
        "YouTube",
        "SoundCloud",
        "Instagram",
    ]


@pytest.mark.usefixtures("loaded")
def test_about_pages_say_what_they_are():
    pages = {page.slug: page for page in Page.objects.all()}
    assert [page.title for page in Page.objects.all()] == [
        "About Us",
        "Founding Chairman",
        "Membership",
        "Contact Us",
        "Careers",
        "Support Charhar",
    ]
    contact = pages["contact-us"].body
    for detail in ("+86 10 68290431", "010-80777830", "secretariat@charhar.org.cn"):
        assert detail in contact
    assert "committed to promoting progress in China’s foreign policies" in (
        pages["founding-chairman"].body
    )
    assert all(page.is_published and page.summary for page in pages.values())


# --- Menus -----------------------------------------------------------------------------------


def _labels(nodes):
    return [node.label for node in nodes]


def _node(nodes, label):
    return next(node for node in nodes if node.label == label)


@pytest.mark.usefixtures("loaded")
def test_every_menu_of_the_seed_has_its_location():
    assert set(Menu.objects.values_list("slug", flat=True)) == {
        "header",
        "quick",
        "main",
        "compact",
        "footer",
    }


@pytest.mark.usefixtures("loaded")
def test_main_menu_has_the_charhar_drop_downs():
    main = get_menus()["main"]
    assert _labels(main) == [
        "About Us",
        "Regions",
        "Topics",
        "Experts",
        "Publications",
        "News&Events",
    ]
    topics = _node(main, "Topics").children
    assert _labels(topics) == ["All Topics", *TOPICS]
    assert topics[0].href == "/topics/"
    assert topics[3].href == "/topics/the-korean-peninsula/"
    assert _labels(_node(main, "Regions").children) == ["All Regions", *REGIONS]
    assert _labels(_node(main, "Publications").children) == ["All Publications", *SERIES]
    assert _node(_node(main, "Publications").children, SERIES[0]).href == (
        "/publications/series/public-diplomacy-quarterly/"
    )
    news = _node(main, "News&Events").children
    assert _labels(news) == ["News&Events", *SECTIONS]
    assert news[0].href == "/news/"
    assert _node(news, "For Media").href == "/news/for-media/"
    about = _node(main, "About Us").children
    assert [node.href for node in about] == [
        f"/about/{slug}/"
        for slug in (
            "about-us",
            "founding-chairman",
            "membership",
            "contact-us",
            "careers",
            "support-charhar",
        )
    ]


@pytest.mark.usefixtures("loaded")
def test_about_menu_items_link_to_pages_not_typed_paths():
    items = MenuItem.objects.filter(menu__slug="main", parent__label="About Us")
    assert items.count() == 6
    assert all(item.page_id and not item.url for item in items)


@pytest.mark.usefixtures("loaded")
def test_header_menu_is_the_gmf_menu_with_its_descriptions():
    header = get_menus()["header"]
    assert _labels(header) == [
        "Our Organization",
        "Our Work",
        "Our Events",
        "Our Experts",
        "Stay Informed",
    ]
    organization = _node(header, "Our Organization").children
    assert _node(organization, "About GMF").description == (
        "The German Marshall Fund of the United States (GMF) strengthens transatlantic "
        "cooperation on regional, national, and global challenges and opportunities in the "
        "spirit of the Marshall Plan."
    )
    offices = _node(organization, "Transatlantic Offices")
    assert offices.href == ""
    assert _labels(offices.children) == OFFICES
    assert offices.children[0].href == "/offices/#washington-dc"
    work = _node(header, "Our Work").children
    assert _labels(work) == ["Policy", "Leadership", "Civil Society", "Research", "Perspectives"]
    assert _node(work, "Policy").description == (
        "GMF provides effective ways forward to solving today’s transatlantic policy issues."
    )
    events = _node(header, "Our Events").children
    assert _labels(events) == ["Major Conferences & Forums", "Recent & Upcoming Events"]
    assert all(node.description for node in [*work, *events])
    assert _node(header, "Stay Informed").href == "/newsletter/"


@pytest.mark.usefixtures("loaded")
def test_bars_and_footer_menus_use_the_seed_labels():
    menus = get_menus()
    assert _labels(menus["quick"]) == [
        "Our Experts",
        "ABOUT US",
        "FOUNDING CHAIRMAN",
        "EXPERTS",
        "LATEST RESEARCH",
        "NEWS&EVENTS",
        "PUBLICATIONS",
        "SUPPORT CHARHAR",
    ]
    assert _labels(menus["compact"]) == [
        "ABOUT US",
        "FOUNDING CHAIRMAN",
        "EXPERTS",
        "LATEST RESEARCH",
        "NEWS&EVENTS",
        "PUBLICATIONS",
        "SUPPORT CHARHAR",
    ]
    assert _labels(_node(menus["compact"], "ABOUT US").children) == [
        "About Us",
        "Contact Us",
        "Careers",
    ]
    assert _labels(menus["footer"]) == [
        "About Us",
        "Founding Chairman",
        "Experts",
        "Latest Research",
        "News&Events",
        "Publications",
        "Support Charhar",
        "Careers",
    ]
    assert _node(menus["footer"], "Latest Research").href == "/research/"


# --- Once only, and a dry run writes nothing -------------------------------------------------


def test_first_run_reports_what_it_created(loaded):
    assert "Created 7 topics, 5 regions, 6 sections, 6 series, 8 offices" in loaded
    assert "21 articles, 10 publications, 5 menus" in loaded


def test_second_run_changes_nothing_and_says_so(loaded):
    before, files_before = _snapshot(), _media_files()
    output = _load()
    assert _snapshot() == before
    assert _media_files() == files_before
    # The hero image and its renditions (thumbnail, card, article page, social; JPEG and WebP).
    originals = [path for path in files_before if path.parts[0] != "renditions"]
    assert len(originals) == 1
    assert len(files_before) == 1 + len(Article.RENDITIONS)
    assert "already loaded" in output
    assert "unchanged" in output
    assert "Created" not in output


def test_the_service_reports_every_row_unchanged_on_a_second_run(loaded):
    report = demo.load_demo()
    assert report.total("created") == 0
    assert report.total("updated") == 0
    assert report.counts[Article]["unchanged"] == len(ARTICLES)
    assert report.counts[Topic]["unchanged"] == len(TOPICS)
    assert report.total("unchanged") == sum(model.objects.count() for model in demo.NOUNS)


def test_dry_run_writes_no_rows_and_no_files():
    before = _snapshot()
    output = _load("--dry-run")
    assert _snapshot() == before
    assert not Article.objects.exists()
    assert not Menu.objects.exists()
    assert not SiteSettings.objects.exists()
    assert _media_files() == set()
    assert "Dry run" in output
    assert "Would create" in output
    assert "21 articles" in output


def test_dry_run_after_a_load_reports_nothing_to_do(loaded):
    before = _snapshot()
    output = _load("--dry-run")
    assert _snapshot() == before
    assert "already loaded" in output


def test_a_rerun_restores_demo_rows_staff_edited_and_keeps_what_staff_added(loaded):
    Topic.objects.filter(slug="communication").update(description="Edited by staff.")
    article = Article.objects.get(title="Behind Biden’s Asia Trip")
    article.title = "Edited title"
    article.save()
    staff_topic = Topic.objects.create(name="Staff topic")
    article.topics.add(staff_topic)
    MenuItem.objects.create(menu=Menu.objects.get(slug="footer"), label="Staff link", url="/x/")

    output = _load()

    assert "Updated 1 topic, 1 article" in output
    assert Topic.objects.get(slug="communication").description.startswith("International")
    article.refresh_from_db()
    assert article.title == "Behind Biden’s Asia Trip"
    assert staff_topic in article.topics.all()
    assert Topic.objects.filter(name="Staff topic").exists()
    assert MenuItem.objects.filter(label="Staff link").exists()


def test_a_missing_hero_file_is_generated_again_but_a_staff_photo_is_kept(loaded):
    article = Article.objects.get(title=FULL_TITLE)
    article.hero_image.storage.delete(article.hero_image.name)
    output = _load()
    article.refresh_from_db()
    assert article.hero_image.storage.exists(article.hero_image.name)
    assert "Updated 1 article" in output

    article.hero_image.save("staff-photo.jpg", article.hero_image.file, save=False)
    article.hero_alt = "The summit's handshake."
    article.save()
    _load()
    article.refresh_from_db()
    assert Path(article.hero_image.name).name == "staff-photo.jpg"
    assert article.hero_alt == "The summit's handshake."


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Pacific/Pago_Pago"])
def test_seed_dates_do_not_shift_in_far_time_zones(zone):
    tz = zoneinfo.ZoneInfo(zone)
    with timezone.override(tz):
        _load()
    article = Article.objects.get(title="Behind Biden’s Asia Trip")
    assert timezone.localdate(article.published_at, tz) == datetime.date(2022, 6, 9)


def test_verbosity_zero_is_silent_and_two_names_every_row():
    assert _load(verbosity=0) == ""
    Article.objects.filter(title=FULL_TITLE).update(summary="Edited.")
    output = _load(verbosity=2)
    assert "Article “Process of denuclearization" in output
    assert "updated" in output


def test_data_that_does_not_fit_the_models_fails_cleanly_and_saves_nothing(monkeypatch):
    monkeypatch.setitem(demo.SITE_SETTINGS, "email", "not an address")
    with pytest.raises(CommandError, match="does not fit the models"):
        _load()
    assert not Topic.objects.exists()
    assert not SiteSettings.objects.exists()


def test_a_failure_after_the_hero_image_was_written_removes_the_file(monkeypatch):
    # Publications are loaded after the articles, so the hero image exists by then.
    monkeypatch.setitem(demo.PUBLICATIONS[0], "publisher", "x" * 500)
    with pytest.raises(CommandError):
        _load()
    assert not Article.objects.exists()
    assert _media_files() == set()
