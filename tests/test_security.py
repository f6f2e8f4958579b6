"""What the site enforces against attackers: `check --deploy` is clean with production settings;
strict headers (CSP with per-response nonces, also on pages served from the page cache,
Permissions-Policy, frame denial, referrer policy, nosniff) and secure cookies; the admin's
sign-in throttling and lockout, its configurable path, staff password rules and session
expiry; and the headers uploaded files are served with. In a real browser, no page breaks
the Content Security Policy, the admin's rich-text editor included."""

import datetime
import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import lxml.html
import pytest
import time_machine
from axes.models import AccessAttempt
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from articles.factories import PublishedArticleFactory
from charhar import security
from experts.factories import ExpertFactory
from publications.factories import PublishedPublicationFactory
from tests.editorial import role_user

PROJECT = Path(__file__).resolve().parent.parent
PASSWORD = "a long editorial password"
NONCE = re.compile(r"'nonce-([^']+)'")


# Not inherited: the settings under test, and the browser tests' async escape hatch (which
# `check --deploy` rightly reports as an error).
_NOT_INHERITED = {
    "SECRET_KEY",
    "DEBUG",
    "ALLOWED_HOSTS",
    "ADMIN_URL",
    "DJANGO_SETTINGS_MODULE",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
}


def _subprocess_env(**env):
    environment = {key: value for key, value in os.environ.items() if key not in _NOT_INHERITED}
    environment.update(env)
    return environment


def _run_django(settings_module, code, **env):
    return subprocess.run(
        [sys.executable, "-c", f"import django\ndjango.setup()\n{code}"],
        cwd=PROJECT,
        env=_subprocess_env(DJANGO_SETTINGS_MODULE=settings_module, **env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


# --- check --deploy ---------------------------------------------------------------------


def test_check_deploy_with_production_settings_has_no_warnings():
    code = (
        "from django.core.management import call_command; "
        "call_command('check', deploy=True, fail_level='WARNING')"
    )
    result = _run_django(
        "charhar.settings.production",
        code,
        SECRET_KEY=secrets.token_urlsafe(50)[:50],
        ALLOWED_HOSTS="example.org",
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "WARNINGS" not in output
    assert "System check identified no issues" in output


def test_check_deploy_fails_on_a_weak_production_setting():
    """The check above can fail: a short key is a deploy warning, and fail_level makes it fatal."""
    code = (
        "from django.core.management import call_command; "
        "call_command('check', deploy=True, fail_level='WARNING')"
    )
    result = _run_django(
        "charhar.settings.production", code, SECRET_KEY="short", ALLOWED_HOSTS="example.org"
    )
    assert result.returncode != 0
    assert "security.W009" in result.stderr


# --- headers and cookies ----------------------------------------------------------------


def _production_values():
    names = [
        "SESSION_COOKIE_SECURE",
        "SESSION_COOKIE_HTTPONLY",
        "SESSION_COOKIE_SAMESITE",
        "CSRF_COOKIE_SECURE",
        "CSRF_COOKIE_HTTPONLY",
        "CSRF_COOKIE_SAMESITE",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_HSTS_PRELOAD",
        "SECURE_SSL_REDIRECT",
        "SECURE_PROXY_SSL_HEADER",
    ]
    code = (
        "import json; from django.conf import settings; "
        f"print(json.dumps({{name: getattr(settings, name) for name in {names!r}}}))"
    )
    result = _run_django(
        "charhar.settings.production", code, SECRET_KEY="x" * 50, ALLOWED_HOSTS="example.org"
    )
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    if values["SECURE_PROXY_SSL_HEADER"]:
        values["SECURE_PROXY_SSL_HEADER"] = tuple(values["SECURE_PROXY_SSL_HEADER"])
    return values


@pytest.fixture
def production_like(settings):
    """This process's settings with production's cookie, HTTPS and HSTS values."""
    for name, value in _production_values().items():
        setattr(settings, name, value)
    return settings


@pytest.mark.django_db
def test_production_sends_hsts_and_secure_httponly_samesite_cookies(production_like):
    role_user("Editor", "chief", PASSWORD)
    client = Client(enforce_csrf_checks=True)
    login = reverse("admin:login")

    insecure = client.get(login)
    assert insecure.status_code == 301
    assert insecure["Location"].startswith("https://")

    form = client.get(login, secure=True)
    assert form["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    csrf = form.cookies[django_settings.CSRF_COOKIE_NAME]
    assert csrf["secure"]
    assert csrf["httponly"]
    assert csrf["samesite"] == "Lax"

    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)[1]
    signed_in = client.post(
        login,
        {"username": "chief", "password": PASSWORD, "csrfmiddlewaretoken": token},
        secure=True,
        headers={"Origin": "https://testserver"},
    )
    assert signed_in.status_code == 302
    session = signed_in.cookies[django_settings.SESSION_COOKIE_NAME]
    assert session["secure"]
    assert session["httponly"]
    assert session["samesite"] == "Lax"
    # Expires when the browser closes: no Max-Age or Expires on the cookie.
    assert not session["max-age"]
    assert not session["expires"]


@pytest.fixture
def public_pages(db):
    article = PublishedArticleFactory(body="<p>Body of the article.</p>")
    expert = ExpertFactory()
    publication = PublishedPublicationFactory()
    return {
        "home": reverse("home"),
        "listing": reverse("articles:research"),
        "article": article.get_absolute_url(),
        "expert": expert.get_absolute_url(),
        "publication": publication.get_absolute_url(),
        "search": reverse("search") + "?q=article",
        "newsletter": reverse("newsletter:signup"),
        "topics": reverse("topics"),
    }


def _csp(response) -> dict[str, list[str]]:
    directives = {}
    for part in response["Content-Security-Policy"].split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def test_public_pages_send_the_strict_headers(client, public_pages):
    for name, url in public_pages.items():
        response = client.get(url)
        assert response.status_code == 200, name
        csp = _csp(response)
        assert csp["default-src"] == ["'self'"]
        assert csp["script-src"][0] == "'self'"
        assert all(value.startswith("'nonce-") for value in csp["script-src"][1:]), name
        assert csp["style-src"] == ["'self'"]
        assert csp["img-src"] == ["'self'", "data:"]
        assert csp["frame-ancestors"] == ["'none'"]
        assert csp["form-action"] == ["'self'"]
        assert csp["base-uri"] == ["'self'"]
        assert csp["object-src"] == ["'none'"]
        assert "unsafe-inline" not in response["Content-Security-Policy"]
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
        policy = response["Permissions-Policy"]
        for feature in ("camera", "microphone", "geolocation", "browsing-topics", "payment"):
            assert f"{feature}=()" in policy, name


def _inline_code(html: str):
    """Inline scripts (other than nonce-carrying data blocks), style elements and attributes,
    and event-handler attributes in a page."""
    root = lxml.html.fromstring(html)
    found = []
    for script in root.iter("script"):
        if script.get("src"):
            continue
        if script.get("type") == "application/ld+json" and script.get("nonce"):
            continue
        found.append(lxml.html.tostring(script, encoding="unicode")[:80])
    found += ["<style>" for _ in root.iter("style")]
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        for attribute in element.attrib:
            if attribute == "style" or attribute.startswith("on"):
                found.append(f"{element.tag}[{attribute}]")
    return found


def test_public_pages_have_no_inline_script_or_style(client, public_pages):
    for name, url in public_pages.items():
        assert _inline_code(client.get(url).text) == [], name


def test_json_ld_blocks_carry_the_nonce_of_their_response(client, public_pages):
    for name in ("home", "article", "expert", "publication", "listing"):
        response = client.get(public_pages[name])
        nonces = NONCE.findall(response["Content-Security-Policy"])
        blocks = re.findall(r'<script type="application/ld\+json" nonce="([^"]+)">', response.text)
        assert blocks, name
        assert set(blocks) == set(nonces), name


def test_pages_from_the_page_cache_get_a_fresh_nonce_of_their_own(client, settings, public_pages):
    settings.PAGE_CACHE_SECONDS = 600
    url = public_pages["article"]
    first = client.get(url)
    second = client.get(url)
    assert "X-Page-Cache" not in first
    assert second["X-Page-Cache"] == "hit"
    seen = []
    for response in (first, second):
        (nonce,) = NONCE.findall(response["Content-Security-Policy"])
        blocks = re.findall(r'<script type="application/ld\+json" nonce="([^"]+)">', response.text)
        assert blocks
        assert set(blocks) == {nonce}
        seen.append(nonce)
    assert seen[0] != seen[1]
    assert "\x00" not in second.text


def test_a_304_keeps_the_policy_the_browser_stored_with_the_page(client, public_pages):
    url = public_pages["article"]
    etag = client.get(url)["ETag"]
    revalidated = client.get(url, headers={"If-None-Match": etag})
    assert revalidated.status_code == 304
    assert "Content-Security-Policy" not in revalidated


@pytest.mark.django_db
def test_the_admin_sends_the_strict_policy_too(client):
    role_user("Editor", "chief", PASSWORD)
    client.force_login(User.objects.get(username="chief"))
    article = PublishedArticleFactory()
    response = client.get(reverse("admin:articles_article_change", args=[article.pk]))
    assert response.status_code == 200
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert _csp(response)["frame-ancestors"] == ["'none'"]
    assert response["X-Frame-Options"] == "DENY"
    assert _inline_code(response.text) == []


# --- admin sign-in ----------------------------------------------------------------------


def _sign_in(client, username, password, **extra):
    return client.post(
        reverse("admin:login"), {"username": username, "password": password}, **extra
    )


@pytest.mark.django_db
def test_repeated_failed_sign_ins_lock_the_admin_with_a_readable_429(client, settings):
    role_user("Editor", "chief", PASSWORD)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = _sign_in(client, "chief", "wrong password")
        assert response.status_code == 200
        assert "Please enter the correct username and password" in response.text

    locked = _sign_in(client, "chief", "wrong password")
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.text
    assert "Try again in 15 minutes" in locked.text
    assert "Content-Security-Policy" in locked

    # Even the right password is refused during the lockout, and nothing signs in.
    refused = _sign_in(client, "chief", PASSWORD)
    assert refused.status_code == 429
    assert django_settings.SESSION_COOKIE_NAME not in refused.cookies
    # The count lives in the database, which every app server shares.
    assert AccessAttempt.objects.filter(username="chief").exists()


@pytest.mark.django_db
def test_the_lockout_ends_after_the_cool_off(client, settings):
    role_user("Editor", "chief", PASSWORD)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(client, "chief", "wrong password")
    assert _sign_in(client, "chief", PASSWORD).status_code == 429
    later = timezone.now() + settings.AXES_COOLOFF_TIME + datetime.timedelta(minutes=1)
    with time_machine.travel(later, tick=False):
        assert _sign_in(client, "chief", PASSWORD).status_code == 302


@pytest.mark.django_db
def test_a_username_is_locked_from_every_address(settings):
    """Credential stuffing from many addresses against one account is throttled too."""
    role_user("Editor", "chief", PASSWORD)
    for number in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(Client(REMOTE_ADDR=f"198.51.100.{number + 1}"), "chief", "wrong password")
    elsewhere = Client(REMOTE_ADDR="203.0.113.77")
    assert _sign_in(elsewhere, "chief", PASSWORD).status_code == 429


@pytest.mark.django_db
def test_an_address_is_locked_whatever_usernames_it_tries(settings):
    role_user("Editor", "chief", PASSWORD)
    attacker = Client(REMOTE_ADDR="198.51.100.9")
    for number in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(attacker, f"guess{number}", "password")
    assert _sign_in(attacker, "chief", PASSWORD).status_code == 429
    assert _sign_in(Client(REMOTE_ADDR="203.0.113.5"), "chief", PASSWORD).status_code == 302


@pytest.mark.django_db
def test_behind_the_proxy_the_lockout_follows_the_client_not_the_proxy(settings):
    """nginx appends the client's address to X-Forwarded-For; what the client wrote itself
    further left cannot move it out of the lockout."""
    settings.TRUSTED_PROXY_COUNT = 1
    role_user("Editor", "chief", PASSWORD)
    proxy = {"REMOTE_ADDR": "127.0.0.1"}
    for number in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(
            Client(**proxy),
            f"guess{number}",
            "password",
            headers={"X-Forwarded-For": f"10.9.9.{number}, 198.51.100.9"},
        )
    spoofing = _sign_in(
        Client(**proxy),
        "chief",
        PASSWORD,
        headers={"X-Forwarded-For": "192.0.2.200, 198.51.100.9"},
    )
    assert spoofing.status_code == 429
    other_reader = _sign_in(
        Client(**proxy), "chief", PASSWORD, headers={"X-Forwarded-For": "203.0.113.5"}
    )
    assert other_reader.status_code == 302


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "198.51.100.1", "127.0.0.1"),  # no proxy: the header is the client's own words
        (1, "198.51.100.1", "198.51.100.1"),
        (1, "6.6.6.6, 198.51.100.1", "198.51.100.1"),
        (2, "6.6.6.6, 198.51.100.1, 10.0.0.2", "198.51.100.1"),
        (2, "198.51.100.1", "127.0.0.1"),  # fewer hops than proxies: not through them all
        (1, "", "127.0.0.1"),
    ],
)
def test_client_ip_counts_trusted_proxies_from_the_right(settings, proxies, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
    assert security.client_ip(request) == expected


def test_the_admin_path_comes_from_the_environment():
    code = """
from django.urls import Resolver404, resolve, reverse
from charhar.pagecache import _admin_prefix
print(reverse("admin:index"), reverse("admin:login"), _admin_prefix())
print(resolve("/backoffice/login/").view_name)
try:
    resolve("/admin/")
except Resolver404:
    print(404)
"""
    result = _run_django("charhar.settings.test", code, ADMIN_URL="/backoffice/")
    assert result.returncode == 0, result.stderr
    paths, login, old = result.stdout.strip().splitlines()[-3:]
    assert paths == "/backoffice/ /backoffice/login/ /backoffice/"
    assert login == "admin:login"
    assert old == "404"


@pytest.mark.django_db
def test_a_weak_password_is_refused_in_the_admins_password_form(client, admin_user):
    client.force_login(admin_user)
    editor = role_user("Editor", "chief", PASSWORD)
    url = reverse("admin:auth_user_password_change", args=[editor.pk])
    for weak, reason in [
        ("chief2024", "too short"),
        ("password1234", "too common"),
        ("381947265013", "entirely numeric"),
    ]:
        response = client.post(
            url, {"password1": weak, "password2": weak, "usable_password": "true"}
        )
        assert response.status_code == 200
        assert reason in response.text, weak
        editor.refresh_from_db()
        assert editor.check_password(PASSWORD)

    strong = "kettle orchard lantern 41"
    response = client.post(
        url, {"password1": strong, "password2": strong, "usable_password": "true"}
    )
    assert response.status_code == 302
    editor.refresh_from_db()
    assert editor.check_password(strong)


@pytest.mark.django_db
def test_a_staff_session_expires_after_a_working_day(client, settings):
    assert settings.SESSION_COOKIE_AGE == 8 * 60 * 60
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE
    role_user("Editor", "chief", PASSWORD)
    index = reverse("admin:index")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert _sign_in(client, "chief", PASSWORD).status_code == 302
        assert client.get(index).status_code == 200
    with time_machine.travel(start + datetime.timedelta(hours=7, minutes=50), tick=False):
        assert client.get(index).status_code == 200
    with time_machine.travel(start + datetime.timedelta(hours=8, minutes=10), tick=False):
        expired = client.get(index)
        assert expired.status_code == 302
        assert expired["Location"].startswith(reverse("admin:login"))


# --- uploaded files ---------------------------------------------------------------------


@pytest.fixture
def media(settings):
    root = Path(settings.MEDIA_ROOT)
    (root / "publications").mkdir(parents=True)
    (root / "publications" / "report.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
    Image.new("RGB", (4, 4), "white").save(root / "publications" / "cover.png")
    (root / "uploads").mkdir()
    (root / "uploads" / "page.html").write_text("<script>alert(1)</script>")
    return root


def test_pdfs_are_served_as_downloads_with_nosniff(media):
    request = RequestFactory().get("/media/publications/report.pdf")
    response = security.serve_media(request, "publications/report.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="report.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"


def test_images_are_shown_in_place_and_anything_else_is_a_download(media):
    image = security.serve_media(RequestFactory().get("/"), "publications/cover.png")
    assert image["Content-Type"] == "image/png"
    assert image["Content-Disposition"] == 'inline; filename="cover.png"'
    assert image["X-Content-Type-Options"] == "nosniff"
    page = security.serve_media(RequestFactory().get("/"), "uploads/page.html")
    assert page["Content-Disposition"] == 'attachment; filename="page.html"'


# --- in a real browser ------------------------------------------------------------------


def _watch_console(page):
    messages = []
    page.on("console", lambda message: messages.append(message.text))
    return messages


def _violations(messages):
    return [text for text in messages if "Content Security Policy" in text]


@pytest.mark.django_db(transaction=True)
def test_no_page_breaks_the_content_security_policy_in_a_browser(page, live_server):
    call_command("load_demo", verbosity=0)
    role_user("Editor", "chief", PASSWORD)
    article = PublishedArticleFactory(body="<p>Under the policy.</p>")
    messages = _watch_console(page)

    # The listener hears violations: an injected inline handler and style are reported.
    page.goto(live_server.url + reverse("home"))
    page.evaluate(
        "() => document.body.insertAdjacentHTML('beforeend',"
        ' \'<img src="data:," onerror="window.hit=1"><p style="color:red">x</p>\')'
    )
    page.wait_for_timeout(300)
    reported = _violations(messages)
    assert any("inline event handler" in text for text in reported), messages
    assert any("inline style" in text for text in reported), messages
    assert page.evaluate("() => window.hit") is None
    messages.clear()

    for url in [
        reverse("home"),
        article.get_absolute_url(),
        reverse("search") + "?q=korea",
        reverse("newsletter:signup"),
    ]:
        page.goto(live_server.url + url)
        page.wait_for_load_state("networkidle")
        assert _violations(messages) == [], url

    page.goto(live_server.url + reverse("admin:login"))
    page.fill("#id_username", "chief")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(live_server.url + reverse("admin:index"))
    page.goto(live_server.url + reverse("admin:articles_article_change", args=[article.pk]))
    # The rich-text editor came up under the policy and shows the body.
    editor_body = page.frame_locator("#id_body_ifr").locator("body")
    editor_body.get_by_text("Under the policy.").wait_for()
    page.wait_for_load_state("networkidle")
    assert _violations(messages) == []


@pytest.mark.django_db
def test_a_nul_in_the_path_is_a_404_before_any_lookup(client):
    """PostgreSQL refuses NUL in text: the slug lookup would otherwise be a server error."""
    article = PublishedArticleFactory()
    assert client.get(article.get_absolute_url().rstrip("/") + "%00/").status_code == 404
    assert client.get("/about/%00/").status_code == 404
    # What readers type is cleaned by the view that reads it: search still answers.
    assert client.get(reverse("search") + "?q=a%00b").status_code == 200


def test_the_policy_is_django_csps_own_with_each_responses_nonce(client, settings, public_pages):
    from csp.utils import build_policy

    nonces = []
    for name, url in public_pages.items():
        header = client.get(url)["Content-Security-Policy"]
        # A page with no inline data block asks for no nonce, and its policy names none.
        nonce = next(iter(NONCE.findall(header)), None)
        assert header == build_policy(nonce=nonce), name
        nonces += [nonce] if nonce else []
    assert len(nonces) >= 3
    assert len(set(nonces)) == len(nonces)

    # A changed setting is a changed policy at once, report-only header included.
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": {"default-src": ["'none'"]}}
    response = client.get(public_pages["home"])
    assert response["Content-Security-Policy-Report-Only"] == "default-src 'none'"


def test_a_response_with_a_policy_of_its_own_keeps_it(rf):
    from django.http import HttpResponse

    from charhar.contentpolicy import ContentSecurityPolicyMiddleware

    def view(request):
        response = HttpResponse("<p>Embeds a map.</p>")
        response._csp_update = {"frame-src": ["https://maps.example.org"]}
        return response

    header = ContentSecurityPolicyMiddleware(view)(rf.get("/"))["Content-Security-Policy"]
    assert "frame-src https://maps.example.org" in header
    assert "default-src 'self'" in header
