"""Demo content: the Charhar Institute's site as captured in the seed page, and its loader.

The data below is what `/work/shared/seed/charhar-article-page.txt` shows (menus, taxonomy,
article and publication listings, the full article, the footer), with only what the capture
cuts short completed. `load_demo()` writes it through the models' `save()` so slugs,
sanitising and cache invalidation behave as for staff edits.

Rows are matched by natural keys (slug or name; menu, parent and label for menu items), so
running the loader again creates nothing. A demo row staff have edited is restored to the
seed's values; rows staff created, and relations staff added to demo rows, are left alone.
"""

import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from django.core.files.base import ContentFile
from django.db import models, transaction
from django.utils import timezone
from django.utils.html import escape
from django.utils.text import slugify
from PIL import Image

from articles.models import Article, ArticleAuthor, Section
from experts.models import Expert
from publications.models import Publication, Series

from .models import Menu, MenuItem, Office, Page, Region, SiteSettings, Topic
from .sanitize import clean_html

# --- Taxonomy -------------------------------------------------------------------------------

TOPICS = [
    {
        "name": "Public Diplomacy and International Relations",
        "slug": "public-diplomacy-and-international-relations",
        "description": "How states, cities and citizens shape one another’s views, and how "
        "China’s relations with the world are changing.",
    },
    {
        "name": "Belt & Road Initiative",
        "slug": "belt-and-road-initiative",
        "description": "The infrastructure, trade and people-to-people links of the Belt and "
        "Road Initiative and what they mean for partner countries.",
    },
    {
        "name": "The Korean Peninsula",
        "slug": "the-korean-peninsula",
        "description": "Denuclearization, inter-Korean relations and the diplomacy of the "
        "powers around the peninsula.",
    },
    {
        "name": "Economic and Trade",
        "slug": "economic-and-trade",
        "description": "Trade rules, economic statecraft and the governance of the world "
        "economy, from the G20 to regional agreements.",
    },
    {
        "name": "Communication",
        "slug": "communication",
        "description": "International communication, the media and the narratives that bear "
        "on China’s relations with the world.",
    },
    {
        "name": "Law, Culture and Religion",
        "slug": "law-culture-and-religion",
        "description": "The law, culture and faith behind international disputes and the "
        "dialogue between civilizations.",
    },
    {
        "name": "Energy, Safety and Peace",
        "slug": "energy-safety-and-peace",
        "description": "Energy security, conflict and peacebuilding, and the human rights "
        "debates that accompany them.",
    },
]

REGIONS = [
    {
        "name": "America",
        "slug": "america",
        "description": "The United States and Canada, and their relations with China and Asia.",
    },
    {
        "name": "Europe&Middle East",
        "slug": "europe-middle-east",
        "description": "Europe, Russia and the Middle East, from transatlantic ties to the Gulf.",
    },
    {
        "name": "Asia",
        "slug": "asia",
        "description": "China’s neighbourhood in East, South-East, South and Central Asia.",
    },
    {
        "name": "Africa&Latin America",
        "slug": "africa-latin-america",
        "description": "Africa and Latin America, and their partnerships with China.",
    },
    {
        "name": "Indo-Pacific",
        "slug": "indo-pacific",
        "description": "The Indo-Pacific as a strategic and economic space, and the frameworks "
        "competing to shape it.",
    },
]

SECTIONS = [
    {
        "name": "Public Diplomacy",
        "slug": "public-diplomacy",
        "description": "The institute’s work and commentary on public, city and "
        "people-to-people diplomacy.",
    },
    {
        "name": "Peace Studies",
        "slug": "peace-studies",
        "description": "Commentary and events on conflict, security and the search for peace.",
    },
    {
        "name": "Belt & Road",
        "slug": "belt-and-road",
        "description": "News and commentary on the Belt and Road Initiative.",
    },
    {
        "name": "Charhar News",
        "slug": "charhar-news",
        "description": "The institute’s own news: forums, visits, launches and awards.",
    },
    {
        "name": "Announcement",
        "slug": "announcement",
        "description": "Notices from the institute: calls for papers, vacancies and changes "
        "of schedule.",
    },
    {
        "name": "For Media",
        "slug": "for-media",
        "description": "The institute’s experts in the press, and contacts for journalists.",
    },
]

# The seed's menu spells the first series "Public Dipmacy Quarterly"; the issue spells it right.
SERIES = [
    {
        "name": "Public Diplomacy Quarterly",
        "slug": "public-diplomacy-quarterly",
        "description": "The institute’s journal on the theory and practice of public diplomacy.",
    },
    {
        "name": "Other books and reports",
        "slug": "other-books-and-reports",
        "description": "Books and reports published outside the institute’s series.",
    },
    {
        "name": "Charhar Public Diplomacy series",
        "slug": "charhar-public-diplomacy-series",
        "description": "Books on China’s public diplomacy and the experience of other countries.",
    },
    {
        "name": "Charhar Newsletter",
        "slug": "charhar-newsletter",
        "description": "The institute’s newsletter on its activities and research.",
    },
    {
        "name": "Charhar International Relations series",
        "slug": "charhar-international-relations-series",
        "description": "Books on international relations and China’s place in a changing "
        "world order.",
    },
    {
        "name": "Introduction to Public Diplomacy",
        "slug": "introduction-to-public-diplomacy",
        "description": "The institute’s textbook on public diplomacy and its companion volumes.",
    },
]

# The offices the seed's header (the German Marshall Fund's menu) lists: city only.
OFFICES = [
    {"city": "Washington, DC", "slug": "washington-dc"},
    {"city": "Ankara", "slug": "ankara"},
    {"city": "Belgrade", "slug": "belgrade"},
    {"city": "Berlin", "slug": "berlin"},
    {"city": "Brussels", "slug": "brussels"},
    {"city": "Bucharest", "slug": "bucharest"},
    {"city": "Paris", "slug": "paris"},
    {"city": "Warsaw", "slug": "warsaw"},
]

# --- Site settings and pages ----------------------------------------------------------------

CHAIRMAN_QUOTE = (
    "The Charhar Institute is committed to promoting progress in China’s foreign policies and "
    "the development of international relations in a more orderly manner."
)
CHAIRMAN_ATTRIBUTION = "Dr Han Fangming, Charhar Chairman"
PHONE = "+86 10 68290431"
FAX = "010-80777830"
EMAIL = "secretariat@charhar.org.cn"

SITE_SETTINGS = {
    "institute_name": "The Charhar Institute",
    "chairman_quote": CHAIRMAN_QUOTE,
    "chairman_attribution": CHAIRMAN_ATTRIBUTION,
    "phone": PHONE,
    "fax": FAX,
    "email": EMAIL,
    "facebook_url": "https://www.facebook.com/TheCharharInstitute",
    "facebook_name": "The Charhar Institute",
    "twitter_url": "https://twitter.com/CharharINST",
    "twitter_handle": "@CharharINST",
    "youtube_url": "https://www.youtube.com/@CharharInstitute",
    "instagram_url": "https://www.instagram.com/charharinst/",
    "linkedin_url": "https://www.linkedin.com/company/the-charhar-institute/",
    "soundcloud_url": "https://soundcloud.com/charharinst",
    "footer_text": "All rights reserved. Privacy Policy and Terms of Use",
}

PAGES = [
    {
        "title": "About Us",
        "slug": "about-us",
        "summary": "The Charhar Institute is a non-governmental think tank on diplomacy and "
        "international relations.",
        "body": (
            "<p>The Charhar Institute is a non-governmental, non-profit think tank on "
            "diplomacy and international relations.</p>"
            "<p>Its experts research public diplomacy, the Belt and Road Initiative, the "
            "Korean Peninsula, economics and trade, communication, law, culture and religion, "
            "and energy, safety and peace, and publish books, a quarterly and a newsletter.</p>"
        ),
    },
    {
        "title": "Founding Chairman",
        "slug": "founding-chairman",
        "summary": "Dr Han Fangming founded the Charhar Institute and chairs it.",
        "body": (
            "<p>Dr Han Fangming is the founding chairman of the Charhar Institute.</p>"
            f"<blockquote><p>{escape(CHAIRMAN_QUOTE)}</p></blockquote>"
            f"<p>— {escape(CHAIRMAN_ATTRIBUTION)}</p>"
        ),
    },
    {
        "title": "Membership",
        "slug": "membership",
        "summary": "How scholars, practitioners and organizations can join the institute’s "
        "network.",
        "body": (
            "<p>The Charhar Institute welcomes scholars, diplomats, journalists and "
            "organizations who share its interest in public diplomacy and international "
            f'relations. To ask about membership, write to <a href="mailto:{EMAIL}">{EMAIL}</a>.'
            "</p>"
        ),
    },
    {
        "title": "Contact Us",
        "slug": "contact-us",
        "summary": "How to reach the Charhar Institute by phone, fax or email.",
        "body": (
            "<p>The secretariat of the Charhar Institute answers enquiries from readers, "
            "researchers and journalists.</p>"
            "<ul>"
            f'<li>Phone: <a href="tel:+861068290431">{PHONE}</a></li>'
            f"<li>Fax: {FAX}</li>"
            f'<li>Email: <a href="mailto:{EMAIL}">{EMAIL}</a></li>'
            "</ul>"
        ),
    },
    {
        "title": "Careers",
        "slug": "careers",
        "summary": "Positions and internships open at the Charhar Institute.",
        "body": (
            "<p>Open positions and internships at the Charhar Institute are announced here and "
            "in the Announcement section of News&amp;Events. To send an open application, "
            f'write to <a href="mailto:{EMAIL}">{EMAIL}</a>.</p>'
        ),
    },
    {
        "title": "Support Charhar",
        "slug": "support-charhar",
        "summary": "How individuals and organizations can support the institute’s work.",
        "body": (
            "<p>The Charhar Institute is independent and non-profit: its research, forums and "
            "publications rely on the support of individuals, foundations and companies. To "
            f'discuss a gift or a partnership, write to <a href="mailto:{EMAIL}">{EMAIL}</a>.'
            "</p>"
        ),
    },
]

# --- Experts, articles and publications -----------------------------------------------------

EXPERTS = [
    {
        "name": "ZHAO Minghao",
        "slug": "zhao-minghao",
        "title": "Adjunct Senior Fellow",
        "short_bio": "Adjunct Senior Fellow of the Charhar Institute.",
        "topics": ["the-korean-peninsula"],
        "regions": ["asia"],
    },
]

# Exactly as in the seed, including its no-break spaces (U+00A0), less trailing spaces.
FULL_ARTICLE_PARAGRAPHS = (
    (
        "The summit between US President Donald Trump and\u00a0North Korean leader\u00a0Kim "
        "Jong-un\u00a0in Singapore is an important breakthrough in the history of North "
        "Korea-US relations. It brings the nuclear issue closer to resolution. Although more "
        "likely to be a consensus, the goal of complete denuclearization of the\u00a0Korean "
        "Peninsula\u00a0was reaffirmed in the joint statement that the two countries signed. "
        "The Trump administration also pledged to halt the annual US-South Korea joint "
        "military drill, which fulfills the achievement of the summit."
    ),
    (
        "Trump showed his high spirits during the press conference after the meeting and "
        "again appreciated North Korea's change for the better on Twitter. It shows the two "
        "countries have broken more common ground than the current statement shows. It "
        "cannot be ruled out that Kim and Trump may visit each other this year."
    ),
    (
        "The Korean Peninsula is the last remnant of the Cold War and the state of armistice "
        "has lasted for 65 years. During the Singapore summit, the two countries agreed to "
        "establish a robust peace regime on the peninsula, which is a praiseworthy "
        "breakthrough."
    ),
    (
        "But one shouldn't be overoptimistic about improvement in North Korea-US relations "
        "in the future. They still diverge significantly on the specific way of realizing "
        "complete denuclearization on the peninsula. Although the complete, verifiable and "
        "irreversible denuclearization (CVID) was not mentioned in the joint statement, it "
        "doesn't mean that the US has given it up. The two countries will focus on the "
        "meaning, timeline and route of denuclearization in further negotiations."
    ),
    (
        "Averse to CVID, Pyongyang believes that accepting it will look like a vanquished "
        "loser. North Korea hopes for a complete, verifiable and irreversible guarantee and "
        "will never surrender when it can't ensure its own safety, especially political "
        "security."
    ),
    (
        "The US is still tough on sanctions. It insists that lifting sanctions will only "
        "come after complete denuclearization. US National Security Advisor John Bolton had "
        "previously suggested that Libya could serve as a model for persuading North Korea "
        "to denuclearize, which irritated Pyongyang. The Trump administration holds that "
        '"maximum pressure" is the main reason that brings North Korea to the negotiation '
        "table."
    ),
    (
        "As Pyongyang has promised to work toward complete denuclearization and demolished "
        "its nuclear test site, it hopes that Washington will ease sanctions. If the US "
        "remains indifferent, North Korea may adopt a tough stance again out of frustration "
        "and go back on what has been a thaw in ties. Russia has urged the UN Security "
        "Council to partly lift sanctions on North Korea to encourage Pyongyang to come "
        "around."
    ),
    (
        "North Korea and the US still lack mutual trust - a problem the summit couldn't "
        "resolve. There were times when the two countries reached a consensus but soon "
        "stepped back from it, and the capricious Trump once decided to cancel the summit. "
        "With domestic pressure building up, Trump and US Secretary of State Mike Pompeo may "
        "go back on what they promised."
    ),
    (
        "Meanwhile, there are still voices in Washington that proposed to tighten the screws "
        "on Pyongyang. For example, Bolton hasn't given up the idea of using military "
        "attacks and Vice President Mike Pence is skeptical about getting in touch with "
        "North Korea. Nancy Pelosi, the Minority Leader of the US House of Representatives, "
        "strongly criticized the Kim-Trump summit and regarded the US as the loser. With the "
        "upcoming midterm elections Trump may go backwards on his policies."
    ),
    (
        "Also third-party countries such as South Korea and Japan may pin down North "
        'Korea-US ties. During the press conference, Trump pledged to stop "war games" with '
        "South Korea to save money. This unilateral announcement has worried Seoul while "
        "Japan is disappointed that the US didn't factor in North Korea's medium- and "
        "short-range ballistic missiles. Besides, the issue of abducted Japanese citizens, "
        "which Tokyo is concerned about, seems not to have been brought up at the summit. "
        "Tokyo and Seoul are worried that US troops may be eventually pulled out of the "
        "peninsula."
    ),
    (
        "The Kim-Trump summit is a historic moment, but it hasn't come to a historic turning "
        "point in North Korea-US relations. The priority now is to maintain the momentum of "
        "dialogue, especially making sure that the US doesn't back out. North Korea should "
        "also maintain its peace offensive with actions like truthfully reporting its "
        "nuclear weapons and facilities. Besides, Pyongyang and Seoul should put the "
        "Panmunjom Declaration into effect. All parties concerned should be patient, prudent "
        "and willing to make compromises."
    ),
)

HERO_FILENAME = "20180620150318_2793.jpg"
HERO_SIZE = (1200, 675)
# The site's accent colour (static/css/site.css, --accent) and a darker shade of it.
HERO_COLOURS = ("#8b1a1a", "#3a0a0a")

ARTICLES = [
    # NEWS&EVENTS
    {
        "title": "Facing challenges, US' IPEF may make the Asia-Pacific economy more fragmented",
        "date": dt.date(2022, 6, 9),
        "kind": "commentary",
        "section": "for-media",
        "regions": ["america", "indo-pacific"],
        "summary": "The Indo-Pacific Economic Framework launched during the US president’s "
        "Asia trip meets doubts among its members and risks splitting the region’s economy "
        "into rival blocs.",
    },
    {
        "title": "Behind Biden’s Asia Trip",
        "date": dt.date(2022, 6, 9),
        "kind": "commentary",
        "section": "public-diplomacy",
        "regions": ["america", "asia"],
        "summary": "What the US president’s visits to South Korea and Japan and the Quad "
        "summit in Tokyo reveal about Washington’s strategy in Asia.",
    },
    {
        "title": "US sinks its claws back into Somalia with an eye on China and Russia",
        "date": dt.date(2022, 5, 23),
        "kind": "commentary",
        "section": "peace-studies",
        "regions": ["africa-latin-america", "america"],
        "summary": "The decision to send US troops back to Somalia is read as a move to "
        "counter Chinese and Russian influence in the Horn of Africa.",
    },
    {
        "title": "The Taiwan Question amid Russia-Ukraine Conflict",
        "date": dt.date(2022, 5, 6),
        "kind": "commentary",
        "section": "peace-studies",
        "regions": ["asia", "europe-middle-east"],
        "summary": "Why the conflict in Ukraine is no template for the Taiwan question, and "
        "what it shows about the risks of outside interference.",
    },
    {
        "title": "China’s Oil Deal v.s. the Dollar Mar 28, 2022",
        "date": dt.date(2022, 3, 28),
        "kind": "commentary",
        "section": "for-media",
        "regions": ["europe-middle-east", "america"],
        "summary": "Reports that Saudi Arabia may price some of its oil sales to China in yuan "
        "raise the question of how far the dollar’s grip on the energy trade can loosen.",
    },
    {
        "title": "Biden’s Indo-Pacific Foray",
        "date": dt.date(2022, 2, 26),
        "kind": "commentary",
        "section": "public-diplomacy",
        "regions": ["indo-pacific", "america"],
        "summary": "What the Biden administration’s Indo-Pacific Strategy asks of the "
        "region’s countries, and how they are likely to answer.",
    },
    # Energy, Safety and Peace
    {
        "title": "Sudan's 'military-civilian co-governance' dies halfway",
        "date": dt.date(2021, 11, 3),
        "kind": "research",
        "topics": ["energy-safety-and-peace"],
        "regions": ["africa-latin-america"],
        "summary": "The Sudanese army’s seizure of power ended its power-sharing arrangement "
        "with civilians before the transition could be completed.",
    },
    {
        "title": "Human rights standards shall not be monopolized",
        "date": dt.date(2021, 10, 14),
        "kind": "research",
        "topics": ["energy-safety-and-peace"],
        "regions": ["america", "asia"],
        "summary": "No country or bloc may claim the sole right to define human rights and to "
        "judge others by its own standard.",
    },
    # Law, Culture and Religion
    {
        "title": "Israel's diplomatic breakthrough in Maghreb faces challenges",
        "date": dt.date(2020, 12, 11),
        "kind": "research",
        "topics": ["law-culture-and-religion"],
        "regions": ["europe-middle-east", "africa-latin-america"],
        "summary": "Morocco’s agreement to normalize relations with Israel is a breakthrough "
        "for Israeli diplomacy, but it meets resistance across the region.",
    },
    {
        "title": "Meng ruling makes Ottawa new front line between Washington and Beijing",
        "date": dt.date(2020, 5, 29),
        "kind": "research",
        "topics": ["law-culture-and-religion"],
        "regions": ["america", "asia"],
        "summary": "A Canadian court’s decision to let the extradition case against Meng "
        "Wanzhou go ahead puts Ottawa at the centre of the rivalry between the US and China.",
    },
    # Communication
    {
        "title": "He Wenping: Fake news fails in damaging Sino-African ties",
        "date": dt.date(2019, 1, 31),
        "kind": "research",
        "topics": ["communication"],
        "regions": ["africa-latin-america", "asia"],
        "byline": "He Wenping",
        "summary": "Reports meant to sow discord between China and Africa have failed, because "
        "Africans judge the relationship by what it delivers.",
    },
    {
        "title": "Resistance from within the White House",
        "date": dt.date(2018, 9, 10),
        "kind": "research",
        "topics": ["communication"],
        "regions": ["america"],
        "summary": "An anonymous op-ed by a senior official describing resistance to the "
        "president inside his own administration lays bare the divisions in Washington.",
    },
    # Economic and Trade
    {
        "title": "Challenges for the G20 in overcoming the pandemic",
        "date": dt.date(2020, 11, 26),
        "kind": "research",
        "topics": ["economic-and-trade"],
        "regions": ["asia", "america", "europe-middle-east"],
        "summary": "The G20 must coordinate debt relief, access to vaccines and economic "
        "recovery if it is to help the world out of the pandemic.",
    },
    {
        "title": "Liberalization and non-interference by government will clean up Pakistan's "
        "economy",
        "date": dt.date(2020, 7, 7),
        "kind": "research",
        "topics": ["economic-and-trade"],
        "regions": ["asia"],
        "summary": "Pakistan’s economy needs liberalization and less government interference "
        "to attract investment and grow.",
    },
    # The Korean Peninsula
    {
        "title": "Su Hao: Tokyo should give ground to resolve tensions with Seoul over ‘comfort "
        "women’ issue",
        "date": dt.date(2019, 6, 26),
        "kind": "research",
        "topics": ["the-korean-peninsula"],
        "regions": ["asia"],
        "byline": "Su Hao",
        "summary": "Japan should make concessions on the ‘comfort women’ issue if it wants to "
        "ease its tensions with South Korea.",
    },
    {
        "title": "Swaran Singh: Can next U.S.-DPRK meeting be expected?",
        "date": dt.date(2019, 6, 12),
        "kind": "research",
        "topics": ["the-korean-peninsula"],
        "regions": ["asia", "america"],
        "byline": "Swaran Singh",
        "summary": "Whether another meeting between the leaders of the US and North Korea can "
        "be expected after the Hanoi summit ended without an agreement.",
    },
    # Belt & Road Initiative
    {
        "title": "China-Africa unity sees friendship of new era",
        "date": dt.date(2021, 1, 5),
        "kind": "research",
        "topics": ["belt-and-road-initiative"],
        "regions": ["africa-latin-america", "asia"],
        "summary": "The Chinese foreign minister’s first trip of the year, once again to "
        "Africa, shows a friendship entering a new era.",
    },
    {
        "title": "Unchangeable Commitment",
        "date": dt.date(2020, 2, 19),
        "kind": "research",
        "topics": ["belt-and-road-initiative"],
        "regions": ["asia"],
        "summary": "China’s commitment to its partners along the Belt and Road holds firm "
        "through the challenges of the COVID-19 outbreak.",
    },
    # Public Diplomacy and International Relations
    {
        "title": "The key to peace between Russia and Ukraine CGTN",
        "date": dt.date(2022, 3, 3),
        "kind": "research",
        "topics": ["public-diplomacy-and-international-relations"],
        "regions": ["europe-middle-east"],
        "summary": "Lasting peace between Russia and Ukraine depends on a dialogue that "
        "addresses the security concerns of every party.",
    },
    {
        "title": "Biden’s first year marked by lows and challenges",
        "date": dt.date(2022, 3, 3),
        "kind": "research",
        "topics": ["public-diplomacy-and-international-relations"],
        "regions": ["america"],
        "summary": "President Biden’s first year in office was marked by low approval ratings "
        "and challenges at home and abroad.",
    },
    # The full article.
    {
        "title": "Process of denuclearization remains a sticking point after Singapore summit",
        "date": dt.date(2018, 6, 18),
        "kind": "research",
        "topics": ["the-korean-peninsula"],
        "regions": ["asia"],
        "authors": ["zhao-minghao"],
        "summary": FULL_ARTICLE_PARAGRAPHS[0].split(". ")[0] + ".",
        "paragraphs": FULL_ARTICLE_PARAGRAPHS,
        "hero": {
            "filename": HERO_FILENAME,
            "alt": "A dark red gradient in the institute’s colour, standing in for the "
            "article’s photograph.",
        },
    },
]

# Titles the seed cuts short with "..." are completed here.
PUBLICATIONS = [
    {
        "title": "Public Diplomacy Quarterly",
        "date": dt.date(2018, 8, 17),
        "series": "public-diplomacy-quarterly",
        "publisher": "The Charhar Institute",
        "topics": ["public-diplomacy-and-international-relations"],
        "summary": "The institute’s quarterly journal of research and debate on public diplomacy.",
    },
    {
        "title": "The impotence of conventional arms control",
        "date": dt.date(2020, 3, 25),
        "series": "other-books-and-reports",
        "publisher": "The Charhar Institute",
        "topics": ["energy-safety-and-peace"],
        "summary": "A report on why the conventional instruments of arms control are failing "
        "to contain today’s arms races.",
    },
    {
        "title": "How Did Stalin Fall into the “Thucydides Trap”",
        "date": dt.date(2020, 2, 27),
        "series": "other-books-and-reports",
        "publisher": "The Charhar Institute",
        "topics": ["public-diplomacy-and-international-relations"],
        "regions": ["europe-middle-east"],
        "summary": "A historical study of how Stalin’s Soviet Union slid into confrontation "
        "with a rival power, and what it teaches great powers today.",
    },
    {
        "title": "Winning the Chinese Hearts and Souls",
        "date": dt.date(2018, 6, 20),
        "series": "charhar-public-diplomacy-series",
        "publisher": "World Affairs Press",
        "topics": ["public-diplomacy-and-international-relations"],
        "summary": "How foreign governments and organizations try to win the goodwill of the "
        "Chinese public, and what China can learn from them.",
    },
    {
        "title": "City Diplomacy: China’s Practice and Foreign Experience",
        "date": dt.date(2018, 6, 20),
        "series": "charhar-public-diplomacy-series",
        "publisher": "World Affairs Press",
        "topics": ["public-diplomacy-and-international-relations"],
        "summary": "How Chinese and foreign cities conduct diplomacy of their own, with cases "
        "from China and abroad.",
    },
    {
        "title": "Charhar Newsletter",
        "date": dt.date(2018, 8, 16),
        "series": "charhar-newsletter",
        "publisher": "The Charhar Institute",
        "summary": "News of the institute’s research, forums and publications.",
    },
    {
        "title": "International Public Product: China and the World at the Midst of "
        "Revolutionary Change",
        "date": dt.date(2018, 6, 21),
        "series": "charhar-international-relations-series",
        "publisher": "World Affairs Press",
        "topics": ["public-diplomacy-and-international-relations"],
        "summary": "What international public goods China can offer a world in the midst of "
        "revolutionary change.",
    },
    {
        "title": "Power and Wealth: Economic Nationalism and International Relationships under "
        "Globalization",
        "date": dt.date(2018, 6, 21),
        "series": "charhar-international-relations-series",
        "publisher": "World Affairs Press",
        "topics": ["economic-and-trade"],
        "summary": "How economic nationalism shapes the relations between states in an age of "
        "globalization.",
    },
    {
        "title": "Diplomatic Theory and Practice",
        "date": dt.date(2018, 6, 21),
        "series": "introduction-to-public-diplomacy",
        "publisher": "World Affairs Press",
        "topics": ["public-diplomacy-and-international-relations"],
        "summary": "A textbook on the theory of diplomacy and how it is practised.",
    },
    {
        "title": "Introduction to Public Diplomacy 2nd Edition",
        "date": dt.date(2018, 6, 20),
        "series": "introduction-to-public-diplomacy",
        "publisher": "World Affairs Press",
        "topics": ["public-diplomacy-and-international-relations"],
        "summary": "The second edition of the institute’s textbook on the concepts, actors "
        "and methods of public diplomacy.",
    },
]

# --- Menus ----------------------------------------------------------------------------------
# An item links to a demo page ("page": slug), to a taxonomy row ("topic", "region",
# "section", "series" or "office": slug) or to a path ("url"); with none of them it is a
# heading. The listing paths (/topics/, /research/, /news/, /events/, /offices/, /newsletter/)
# are the site's URL contract.


def _item(label, *, children=(), description="", **link):
    return {"label": label, "description": description, "link": link, "children": children}


_GMF_ABOUT = (
    "The German Marshall Fund of the United States (GMF) strengthens transatlantic cooperation "
    "on regional, national, and global challenges and opportunities in the spirit of the "
    "Marshall Plan."
)

MENUS = [
    {
        "slug": "header",
        "name": "Header",
        "items": [
            _item(
                "Our Organization",
                page="about-us",
                children=[
                    _item("About GMF", page="about-us", description=_GMF_ABOUT),
                    _item(
                        "Transatlantic Offices",
                        children=[
                            _item(office["city"], office=office["slug"]) for office in OFFICES
                        ],
                    ),
                    _item(
                        "Alliance for Securing Democracy",
                        url="https://securingdemocracy.gmfus.org/",
                    ),
                ],
            ),
            _item(
                "Our Work",
                url="/research/",
                children=[
                    _item(
                        "Policy",
                        url="/topics/",
                        description="GMF provides effective ways forward to solving today’s "
                        "transatlantic policy issues.",
                    ),
                    _item(
                        "Leadership",
                        page="membership",
                        description="GMF programs offer rising leaders dynamic opportunities to "
                        "hone their leadership skills.",
                    ),
                    _item(
                        "Civil Society",
                        section="public-diplomacy",
                        description="GMF supports civil society by fostering democratic "
                        "initiatives, rule of law, and regional cooperation.",
                    ),
                    _item(
                        "Research",
                        url="/research/",
                        description="GMF publications examine the challenges facing the "
                        "transatlantic region today and offer policy recommendations to address "
                        "these challenges.",
                    ),
                    _item(
                        "Perspectives",
                        section="for-media",
                        description="Media, blogs, podcasts, video on the issues shaping the "
                        "transatlantic relationship.",
                    ),
                ],
            ),
            _item(
                "Our Events",
                url="/events/",
                children=[
                    _item(
                        "Major Conferences & Forums",
                        section="charhar-news",
                        description="GMF brings together hundreds of policymakers, elected "
                        "officials, academics, and business leaders from around the world to "
                        "discuss topics from energy to migration, economics to security, urban "
                        "growth to diplomacy.",
                    ),
                    _item(
                        "Recent & Upcoming Events",
                        url="/events/",
                        description="GMF is committed to bringing the policy community together "
                        "around transatlantic topics. Learn about events in its offices and other "
                        "locations around the world.",
                    ),
                ],
            ),
            _item("Our Experts", url="/experts/"),
            _item("Stay Informed", url="/newsletter/"),
        ],
    },
    {
        "slug": "quick",
        "name": "Home bar",
        "items": [
            _item("Our Experts", url="/experts/"),
            _item("ABOUT US", page="about-us"),
            _item("FOUNDING CHAIRMAN", page="founding-chairman"),
            _item("EXPERTS", url="/experts/"),
            _item("LATEST RESEARCH", url="/research/"),
            _item("NEWS&EVENTS", url="/news/"),
            _item("PUBLICATIONS", url="/publications/"),
            _item("SUPPORT CHARHAR", page="support-charhar"),
        ],
    },
    {
        "slug": "main",
        "name": "The Charhar Institute",
        "items": [
            _item(
                "About Us",
                page="about-us",
                children=[_item(page["title"], page=page["slug"]) for page in PAGES],
            ),
            _item(
                "Regions",
                url="/regions/",
                children=[
                    _item("All Regions", url="/regions/"),
                    *(_item(region["name"], region=region["slug"]) for region in REGIONS),
                ],
            ),
            _item(
                "Topics",
                url="/topics/",
                children=[
                    _item("All Topics", url="/topics/"),
                    *(_item(topic["name"], topic=topic["slug"]) for topic in TOPICS),
                ],
            ),
            _item("Experts", url="/experts/"),
            _item(
                "Publications",
                url="/publications/",
                children=[
                    _item("All Publications", url="/publications/"),
                    *(_item(series["name"], series=series["slug"]) for series in SERIES),
                ],
            ),
            _item(
                "News&Events",
                url="/news/",
                children=[
                    _item("News&Events", url="/news/"),
                    *(_item(section["name"], section=section["slug"]) for section in SECTIONS),
                ],
            ),
        ],
    },
    {
        "slug": "compact",
        "name": "Compact bar",
        "items": [
            _item(
                "ABOUT US",
                page="about-us",
                children=[
                    _item("About Us", page="about-us"),
                    _item("Contact Us", page="contact-us"),
                    _item("Careers", page="careers"),
                ],
            ),
            _item("FOUNDING CHAIRMAN", page="founding-chairman"),
            _item("EXPERTS", url="/experts/"),
            _item("LATEST RESEARCH", url="/research/"),
            _item("NEWS&EVENTS", url="/news/"),
            _item("PUBLICATIONS", url="/publications/"),
            _item("SUPPORT CHARHAR", page="support-charhar"),
        ],
    },
    {
        "slug": "footer",
        "name": "Charhar Institute",
        "items": [
            _item("About Us", page="about-us"),
            _item("Founding Chairman", page="founding-chairman"),
            _item("Experts", url="/experts/"),
            _item("Latest Research", url="/research/"),
            _item("News&Events", url="/news/"),
            _item("Publications", url="/publications/"),
            _item("Support Charhar", page="support-charhar"),
            _item("Careers", page="careers"),
        ],
    },
]

# --- Loader ---------------------------------------------------------------------------------

ACTIONS = ("created", "updated", "unchanged")

# (singular, plural) for the summary, in the order the loader writes the models.
NOUNS = {
    Topic: ("topic", "topics"),
    Region: ("region", "regions"),
    Section: ("section", "sections"),
    Series: ("series", "series"),
    Office: ("office", "offices"),
    SiteSettings: ("site settings", "site settings"),
    Page: ("page", "pages"),
    Expert: ("expert", "experts"),
    Article: ("article", "articles"),
    Publication: ("publication", "publications"),
    Menu: ("menu", "menus"),
    MenuItem: ("menu item", "menu items"),
}


@dataclass
class DemoReport:
    """How many rows of each model `load_demo()` created, updated or found unchanged."""

    dry_run: bool = False
    counts: dict[type[models.Model], dict[str, int]] = field(
        default_factory=lambda: {model: dict.fromkeys(ACTIONS, 0) for model in NOUNS}
    )

    def add(self, model: type[models.Model], action: str) -> None:
        self.counts[model][action] += 1

    def total(self, action: str) -> int:
        return sum(counts[action] for counts in self.counts.values())

    def describe(self, action: str) -> str:
        """E.g. "21 articles, 6 sections, 1 expert" for the models with rows in `action`."""
        parts = []
        for model, (singular, plural) in NOUNS.items():
            n = self.counts[model][action]
            if n:
                parts.append(f"{n} {singular if n == 1 else plural}")
        return ", ".join(parts)

    @property
    def changed(self) -> bool:
        return bool(self.total("created") or self.total("updated"))


def hero_placeholder_jpeg(size=HERO_SIZE, colours=HERO_COLOURS) -> bytes:
    """A left-to-right gradient in the institute's colour, as JPEG bytes."""
    light = Image.new("RGB", size, colours[0])
    dark = Image.new("RGB", size, colours[1])
    mask = Image.linear_gradient("L").rotate(90).resize(size)
    buffer = io.BytesIO()
    Image.composite(light, dark, mask).save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def seed_datetime(date: dt.date) -> dt.datetime:
    """Noon of `date` in the current time zone: the seed's date, whichever zone the site uses."""
    return dt.datetime.combine(date, dt.time(12), tzinfo=timezone.get_current_timezone())


def paragraphs_html(paragraphs) -> str:
    return "\n".join(f"<p>{escape(text)}</p>" for text in paragraphs)


class _Loader:
    def __init__(self, stdout, dry_run: bool):
        self.stdout = stdout
        self.dry_run = dry_run
        self.report = DemoReport(dry_run=dry_run)
        self.written_files: list[tuple[object, str]] = []
        self.topics: dict[str, Topic] = {}
        self.regions: dict[str, Region] = {}
        self.sections: dict[str, Section] = {}
        self.series: dict[str, Series] = {}
        self.offices: dict[str, Office] = {}
        self.pages: dict[str, Page] = {}
        self.experts: dict[str, Expert] = {}

    # Generic create-or-restore ------------------------------------------------------------

    def sync(self, model, lookups, values, *, relations=None, prepare=None, finish=None):
        """Find the row by the first lookup that matches, then create it or restore `values`.

        `values` are compared with what `save()` would store (bodies already sanitised,
        foreign keys by id). `relations` maps a many-to-many name to rows it must include;
        rows staff added there are kept. `prepare(instance)` before saving and
        `finish(instance)` after it make further changes and say whether they made any.
        """
        instance = None
        for lookup in lookups:
            instance = model._default_manager.filter(**lookup).order_by("pk").first()
            if instance is not None:
                break
        created = instance is None
        if created:
            instance = model(**lookups[0])
        changed = created
        for name, value in values.items():
            attname = model._meta.get_field(name).attname
            wanted = value.pk if isinstance(value, models.Model) else value
            if getattr(instance, attname) != wanted:
                setattr(instance, attname, wanted)
                changed = True
        if prepare is not None and prepare(instance):
            changed = True
        if changed:
            instance.full_clean()
            instance.save()
        for name, related in (relations or {}).items():
            manager = getattr(instance, name)
            present = set(manager.values_list("pk", flat=True))
            missing = [obj for obj in related if obj.pk not in present]
            if missing:
                manager.add(*missing)
                changed = True
        if finish is not None and finish(instance):
            changed = True
        action = "created" if created else "updated" if changed else "unchanged"
        self.report.add(model, action)
        if self.stdout is not None and action != "unchanged":
            verb = f"would be {action}" if self.dry_run else action
            self.stdout.write(f"{NOUNS[model][0].capitalize()} “{instance}” {verb}.\n")
        return instance

    def taxonomy(self, model, rows) -> dict:
        return {
            row["slug"]: self.sync(
                model,
                [{"slug": row["slug"]}, {"name": row["name"]}],
                {"name": row["name"], "description": row["description"], "order": order},
            )
            for order, row in enumerate(rows, start=1)
        }

    # The steps ------------------------------------------------------------------------------

    def run(self) -> DemoReport:
        self.topics = self.taxonomy(Topic, TOPICS)
        self.regions = self.taxonomy(Region, REGIONS)
        self.sections = self.taxonomy(Section, SECTIONS)
        self.series = self.taxonomy(Series, SERIES)
        self.offices = {
            row["slug"]: self.sync(
                Office,
                [{"slug": row["slug"]}, {"city": row["city"]}],
                {"city": row["city"], "order": order},
            )
            for order, row in enumerate(OFFICES, start=1)
        }
        self.sync(SiteSettings, [{"pk": 1}], SITE_SETTINGS)
        self.pages = {
            row["slug"]: self.sync(
                Page,
                [{"slug": row["slug"]}, {"title": row["title"]}],
                {
                    "title": row["title"],
                    "summary": row["summary"],
                    "body": clean_html(row["body"]),
                    "order": order,
                    "is_published": True,
                },
            )
            for order, row in enumerate(PAGES, start=1)
        }
        self.experts = {
            row["slug"]: self.sync(
                Expert,
                [{"slug": row["slug"]}, {"name": row["name"]}],
                {
                    "name": row["name"],
                    "title": row["title"],
                    "short_bio": row["short_bio"],
                    "is_active": True,
                },
                relations={
                    "topics": [self.topics[slug] for slug in row["topics"]],
                    "regions": [self.regions[slug] for slug in row["regions"]],
                },
            )
            for row in EXPERTS
        }
        # Listings sort by date, then newest row first: creating the rows in reverse keeps the
        # seed's order among items of the same date.
        for row in reversed(ARTICLES):
            self.article(row)
        for row in reversed(PUBLICATIONS):
            self.publication(row)
        for row in MENUS:
            menu = self.sync(Menu, [{"slug": row["slug"]}], {"name": row["name"]})
            self.menu_items(menu, None, row["items"])
        return self.report

    def article(self, row) -> Article:
        section = self.sections[row["section"]] if row.get("section") else None
        values = {
            "title": row["title"],
            "summary": row["summary"],
            "body": clean_html(paragraphs_html(row.get("paragraphs", ()))),
            "status": Article.Status.PUBLISHED,
            "published_at": seed_datetime(row["date"]),
            "kind": Article.Kind(row["kind"]),
            "section": section,
            "byline": row.get("byline", ""),
        }
        hero = row.get("hero")
        experts = [self.experts[slug] for slug in row.get("authors", ())]
        return self.sync(
            Article,
            [{"slug": _slug(row["title"])}, {"title": row["title"]}],
            values,
            relations={
                "topics": [self.topics[slug] for slug in row.get("topics", ())],
                "regions": [self.regions[slug] for slug in row.get("regions", ())],
            },
            prepare=(lambda article: self.hero_image(article, hero)) if hero else None,
            finish=lambda article: self.authorships(article, experts),
        )

    @staticmethod
    def authorships(article: Article, experts) -> bool:
        """Put the seed's authors first in the byline, in order; co-authors staff added stay."""
        changed = False
        for order, expert in enumerate(experts, start=1):
            authorship = ArticleAuthor.objects.filter(article=article, expert=expert).first()
            if authorship is None:
                ArticleAuthor.objects.create(article=article, expert=expert, order=order)
                changed = True
            elif authorship.order != order:
                authorship.order = order
                authorship.save(update_fields=["order"])
                changed = True
        return changed

    def hero_image(self, article: Article, hero) -> bool:
        """Give the article its placeholder hero image unless it has an image whose file exists.

        A photo staff uploaded instead is kept, and so is its text alternative.
        """
        field_file = article.hero_image
        if field_file.name and field_file.storage.exists(field_file.name):
            # The storage may have suffixed the name (…_2793_AbCdEf.jpg); the stem still tells.
            ours = PurePosixPath(field_file.name).stem.startswith(
                PurePosixPath(hero["filename"]).stem
            )
            if ours and article.hero_alt != hero["alt"]:
                article.hero_alt = hero["alt"]
                return True
            return False
        article.hero_alt = hero["alt"]
        if not self.dry_run:
            field_file.save(hero["filename"], ContentFile(hero_placeholder_jpeg()), save=False)
            self.written_files.append((field_file.storage, field_file.name))
            # Renditions are generated from the image when the article is saved.
            for name in Article.RENDITIONS:
                rendition = getattr(article, name)
                self.written_files.append((rendition.storage, rendition.name))
        return True

    def publication(self, row) -> Publication:
        return self.sync(
            Publication,
            [{"slug": _slug(row["title"])}, {"title": row["title"]}],
            {
                "title": row["title"],
                "series": self.series[row["series"]],
                "publisher": row["publisher"],
                "published_on": row["date"],
                "summary": row["summary"],
                "status": Publication.Status.PUBLISHED,
            },
            relations={
                "topics": [self.topics[slug] for slug in row.get("topics", ())],
                "regions": [self.regions[slug] for slug in row.get("regions", ())],
            },
        )

    def menu_items(self, menu: Menu, parent: MenuItem | None, items) -> None:
        for order, item in enumerate(items, start=1):
            page, url = self.menu_link(item["link"])
            menu_item = self.sync(
                MenuItem,
                [{"menu": menu, "parent": parent, "label": item["label"]}],
                {"page": page, "url": url, "description": item["description"], "order": order},
            )
            self.menu_items(menu, menu_item, item["children"])

    def menu_link(self, link) -> tuple[Page | None, str]:
        if "page" in link:
            return self.pages[link["page"]], ""
        if "url" in link:
            return None, link["url"]
        kind, slug = next(iter(link.items()), (None, None))
        if kind is None:
            return None, ""
        if kind == "office":
            return None, f"/offices/#{self.offices[slug].slug}"
        paths = {
            "topic": ("/topics/{}/", self.topics),
            "region": ("/regions/{}/", self.regions),
            "section": ("/news/{}/", self.sections),
            "series": ("/publications/series/{}/", self.series),
        }
        pattern, rows = paths[kind]
        return None, pattern.format(rows[slug].slug)


def _slug(title: str) -> str:
    return slugify(title, allow_unicode=True)[:255].strip("-")


def load_demo(stdout=None, dry_run: bool = False) -> DemoReport:
    """Create or restore the demo content in one transaction; a dry run rolls it back.

    `stdout`, when given, receives a line for every row created or updated. A dry run writes
    no files: the hero image it would generate is only counted.
    """
    loader = _Loader(stdout, dry_run)
    try:
        with transaction.atomic():
            report = loader.run()
            if dry_run:
                transaction.set_rollback(True)
    except BaseException:
        # The rows pointing at these files were rolled back; the files must go too.
        for storage, name in loader.written_files:
            storage.delete(name)
        raise
    return report
