"""Two app servers behind one load balancer: two gunicorn processes sharing one PostgreSQL
database and one Redis. An edit staff make through one server is what the other serves on
its very next request, though that server had the page in its page cache.

The servers run the base settings with DEBUG off: production's own additions (static files
from a collected manifest, cookies sent over HTTPS only) need a TLS front and collectstatic,
which have no part in what is shown here.
"""

import http.client
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import uuid
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import lxml.html
import pytest
import redis
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection
from django.urls import reverse

from articles.factories import PublishedArticleFactory
from tests.editorial import editor

PROJECT = Path(__file__).resolve().parent.parent
REDIS_URL = "redis://127.0.0.1:6379/12"
STAFF_PASSWORD = "correct horse battery"  # tests.editorial's password for role users

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Response:
    def __init__(self, raw: http.client.HTTPResponse):
        self.status = raw.status
        self.headers = raw.headers
        self.text = raw.read().decode()


class AppServer:
    """One gunicorn process serving the site on a port of its own."""

    def __init__(self, name: str, environment: dict, log_dir: Path):
        self.name = name
        self.port = _free_port()
        self.log_path = log_dir / f"gunicorn-{name}.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "charhar.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "2",
                "--log-level",
                "warning",
            ],
            cwd=PROJECT,
            env=environment,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def request(self, method: str, path: str, body: bytes | None = None, headers=None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            return Response(connection.getresponse())
        finally:
            connection.close()

    def wait_until_ready(self, seconds: float = 60):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"gunicorn {self.name} stopped:\n{self.log()}")
            try:
                if self.request("GET", "/readyz").status == 200:
                    return
            except OSError:
                pass  # not listening yet
            time.sleep(0.2)
        pytest.fail(f"gunicorn {self.name} was not ready in {seconds} s:\n{self.log()}")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


class Session:
    """A browser's cookies for one server: what a signed-in member of staff carries."""

    def __init__(self, server: AppServer):
        self.server = server
        self.cookies: dict[str, str] = {}

    def _send(self, method, path, body=None, headers=None):
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        response = self.server.request(method, path, body, headers)
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return response

    def get(self, path):
        return self._send("GET", path)

    def post_form(self, path, fields: list[tuple[str, str]]):
        return self._send(
            "POST",
            path,
            urlencode(fields).encode(),
            {
                "Content-Type": "application/x-www-form-urlencoded",
                "Origin": f"http://127.0.0.1:{self.server.port}",
            },
        )


def _form_fields(html: str, form_id: str) -> list[tuple[str, str]]:
    """What a browser would submit from the form as it was shown."""
    (form,) = lxml.html.fromstring(html).xpath(f'//form[@id="{form_id}"]')
    return list(form.form_values())


@pytest.fixture
def app_servers(transactional_db, tmp_path):
    """Two gunicorn processes with the page cache on, sharing the test database and a Redis
    database under a key prefix of their own. Always stopped; their logs are shown when
    the test fails."""
    db = connection.settings_dict
    prefix = f"test-servers-{uuid.uuid4().hex}"
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DJANGO_SETTINGS_MODULE", "SECRET_KEY", "DEBUG", "DATABASE_URL"}
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="charhar.settings.base",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=(
            f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        ),
        CACHE_URL=f"{REDIS_URL}?key_prefix={prefix}",
        PAGE_CACHE_SECONDS="600",
        ADMIN_URL=settings.ADMIN_URL,
        MEDIA_ROOT=str(tmp_path / "media"),
        LOG_FORMAT="json",
        LOG_LEVEL="INFO",
    )
    servers = [AppServer(name, environment, tmp_path) for name in ("A", "B")]
    try:
        for server in servers:
            server.wait_until_ready()
        yield servers
    finally:
        for server in servers:
            server.stop()
            # Shown by pytest with a failing test's output.
            print(f"--- gunicorn {server.name} ---\n{server.log()}")
        store = redis.Redis.from_url(REDIS_URL)
        for key in store.scan_iter(f"{prefix}:*"):
            store.delete(key)
        store.close()


def test_an_edit_made_through_one_app_server_is_served_by_the_other_at_once(app_servers):
    server_a, server_b = app_servers
    article = PublishedArticleFactory(title="Grain corridors before the edit")
    staff_user = editor("editor")
    # The servers check passwords with the default hashers, not the tests' fast MD5.
    staff_user.password = PBKDF2PasswordHasher().encode(STAFF_PASSWORD, "serverssalt", 1000)
    staff_user.save(update_fields=["password"])
    url = article.get_absolute_url()

    # A reader on server B: the page is rendered once, then comes from B's page cache.
    first = server_b.request("GET", url)
    assert first.status == 200, server_b.log()
    assert "Grain corridors before the edit" in first.text
    cached = server_b.request("GET", url)
    assert cached.headers["X-Page-Cache"] == "hit"

    # Staff on server A sign in to the admin and change the title in the article's form.
    staff = Session(server_a)
    login_path = reverse("admin:login")
    login_form = staff.get(login_path)
    assert login_form.status == 200, server_a.log()
    fields = [
        (name, value)
        for name, value in _form_fields(login_form.text, "login-form")
        if name not in ("username", "password")
    ]
    signed_in = staff.post_form(
        login_path,
        [*fields, ("username", "editor"), ("password", STAFF_PASSWORD)],
    )
    assert signed_in.status == 302, signed_in.text
    assert signed_in.headers["Location"] == reverse("admin:index")

    change_path = reverse("admin:articles_article_change", args=[article.pk])
    change_form = staff.get(change_path)
    assert change_form.status == 200, server_a.log()
    fields = [
        (name, "Grain corridors after the edit" if name == "title" else value)
        for name, value in _form_fields(change_form.text, "article_form")
    ]
    saved = staff.post_form(change_path, [*fields, ("_save", "Save")])
    assert saved.status == 302, saved.text
    assert saved.headers["Location"].startswith(reverse("admin:articles_article_changelist"))

    # The reader's very next request on server B.
    after = server_b.request("GET", url, headers={"X-Request-ID": "reader-after-edit"})
    assert after.status == 200, server_b.log()
    assert "Grain corridors after the edit" in after.text
    assert "Grain corridors before the edit" not in after.text
    assert "X-Page-Cache" not in after.headers
    assert after.headers["X-Request-ID"] == "reader-after-edit"

    # B logged that request as one JSON line carrying the id it was given.
    lines = [json.loads(line) for line in server_b.log().splitlines() if line.startswith("{")]
    (logged,) = [line for line in lines if line.get("request_id") == "reader-after-edit"]
    assert (logged["logger"], logged["path"], logged["status"]) == ("charhar.requests", url, 200)
