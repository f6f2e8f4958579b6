"""Start-up configuration: the environment decides, and missing secrets stop start-up."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent


def _start(settings_module, **env):
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "DJANGO_SETTINGS_MODULE"}
    }
    environment.update(env, DJANGO_SETTINGS_MODULE=settings_module)
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('started')"],
        cwd=PROJECT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    "settings_module", ["charhar.settings.base", "charhar.settings.production"]
)
def test_start_up_without_secret_key_and_debug_off_stops_naming_the_variable(settings_module):
    result = _start(settings_module, DEBUG="0", ALLOWED_HOSTS="example.org")

    assert result.returncode != 0
    assert "started" not in result.stdout
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY" in result.stderr.strip().splitlines()[-1]


def test_production_ignores_debug_in_the_environment_and_still_requires_a_key():
    result = _start("charhar.settings.production", DEBUG="1", ALLOWED_HOSTS="example.org")

    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr.strip().splitlines()[-1]


def test_production_requires_allowed_hosts():
    result = _start("charhar.settings.production", SECRET_KEY="x" * 50)

    assert result.returncode != 0
    assert "ALLOWED_HOSTS" in result.stderr.strip().splitlines()[-1]


def test_development_starts_with_debug_on_and_no_key():
    result = _start("charhar.settings.base", DEBUG="1")

    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


def test_production_starts_with_its_variables_set():
    result = _start(
        "charhar.settings.production",
        SECRET_KEY="x" * 50,
        ALLOWED_HOSTS="www.charhar.org.cn",
        DATABASE_URL="postgres://charhar@db.internal:5432/charhar",
        CACHE_URL="redis://127.0.0.1:6379/1",
        EMAIL_URL="smtp://mail.internal:25",
    )

    assert result.returncode == 0, result.stderr


def test_database_url_selects_the_backend():
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.DATABASES['default']['ENGINE'], settings.DATABASES['default']['NAME'])"
    )
    environment = dict(os.environ, DEBUG="1", DJANGO_SETTINGS_MODULE="charhar.settings.base")
    environment["DATABASE_URL"] = "postgres://someone@127.0.0.1:5432/institute"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.split() == ["django.db.backends.postgresql", "institute"]
