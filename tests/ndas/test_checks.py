"""The deploy checks refuse each unsafe production set-up, and pass a complete one."""

import os
import subprocess
import sys

import pytest

from ndas import checks
from tests.helpers import BASE_DIR

pytestmark = [
    pytest.mark.django_db,
    # Only settings are read here; no connection is made with the overridden DATABASES.
    pytest.mark.filterwarnings("ignore:Overriding setting DATABASES"),
]


@pytest.fixture
def production(settings, production_settings):
    """Django's live settings switched to the production values under test."""
    for name in ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "CACHES", "STORAGES"):
        setattr(settings, name, production_settings[name])
    settings.DATABASES = {
        **settings.DATABASES,
        "default": {
            **settings.DATABASES["default"],
            "ENGINE": production_settings["DATABASES"]["default"]["ENGINE"],
        },
    }
    return settings


def error_ids():
    return [error.id for error in checks.production_settings_check()]


def test_complete_production_configuration_passes(production):
    assert error_ids() == []


def test_debug_on_is_left_to_djangos_own_check(production):
    production.DEBUG = True
    production.SECRET_KEY = "short"
    assert error_ids() == []


def test_missing_secret_key(production):
    production.SECRET_KEY = ""
    assert error_ids() == ["ndas.E001"]


@pytest.mark.parametrize(
    "key",
    [
        "too-short-but-random-Zx81",
        "a" * 60,
        "ab" * 40,
        "django-insecure-" + "x1y2z3w4v5" * 5,
        "ndas-development-only-secret-key-never-use-in-production",
    ],
)
def test_weak_secret_key(production, key):
    production.SECRET_KEY = key
    assert error_ids() == ["ndas.E002"]


def test_non_postgresql_database(production):
    production.DATABASES = {
        "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "x.db"}
    }
    assert error_ids() == ["ndas.E003"]


def test_no_redis(production):
    production.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    }
    assert error_ids() == ["ndas.E004"]


def test_no_s3_bucket(production):
    production.STORAGES = {
        **production.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    assert error_ids() == ["ndas.E005"]


def test_empty_allowed_hosts(production):
    production.ALLOWED_HOSTS = []
    assert error_ids() == ["ndas.E006"]


def test_a_proxy_header_without_its_proxies_warns(production, production_settings):
    production.TRUSTED_PROXY_IP_HEADER = "X-Real-IP"
    production.TRUSTED_PROXY_IPS = ["127.0.0.1", "::1"]
    assert [w.id for w in checks.trusted_proxy_check()] == ["ndas.W001"]
    production.TRUSTED_PROXY_IPS = production_settings["TRUSTED_PROXY_IPS"]
    assert checks.trusted_proxy_check() == []
    production.TRUSTED_PROXY_IP_HEADER = ""  # the connection's own address: fine
    production.TRUSTED_PROXY_IPS = ["127.0.0.1"]
    assert checks.trusted_proxy_check() == []


def run_manage(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_reports_nothing_with_production_variables(production_env):
    result = run_manage(production_env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_fails_without_production_services(production_env):
    env = {
        k: v
        for k, v in production_env.items()
        if k not in ("REDIS_URL", "AWS_STORAGE_BUCKET_NAME", "SECRET_KEY")
    }
    result = run_manage(env, "check", "--deploy")
    assert result.returncode != 0
    for error_id in ("ndas.E002", "ndas.E004", "ndas.E005"):
        assert error_id in result.stderr


def test_the_clinics_time_zone_comes_from_the_environment(production_env):
    shell = "from django.conf import settings; print(settings.TIME_ZONE)"
    result = run_manage(
        {**production_env, "TIME_ZONE": "Europe/London"}, "shell", "-c", shell
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "Europe/London"
    result = run_manage({**production_env, "TIME_ZONE": "Mars/Olympus"}, "check")
    assert result.returncode != 0 and "Incorrect timezone setting" in result.stderr
