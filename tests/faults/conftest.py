"""Fixtures for fault tests: real Redis and PostgreSQL behind relays that can be cut,
and an S3 endpoint that never answers."""

import os
from concurrent.futures import wait
from urllib.parse import urlparse

import pytest
from botocore.config import Config
from django.core.cache import caches
from django.db import connections

from ndas import health
from tests.helpers import HUNG_S3_MAX_ATTEMPTS, HUNG_S3_READ_TIMEOUT, TEST_BUCKET
from tests.support.relay import BlackHole, Relay

# Makefile's TEST_REDIS_URL: the suite runs against a real Redis.
DEFAULT_TEST_REDIS_URL = "redis://127.0.0.1:6379/15"
# Keys written through the relay carry their own prefix, and are removed afterwards.
FAULTS_KEY_PREFIX = "ndas-faults"
# Where libpq looks when the database URL names no host (Debian's socket directory).
DEFAULT_SOCKET_DIR = "/var/run/postgresql"


@pytest.fixture(autouse=True)
def readiness_checks_finish():
    """A readiness check stuck on a hung dependency is not started again while it
    runs: let each end (by its own timeouts) before the next test."""
    yield
    wait([future for future in health._pending.values()], timeout=30)


@pytest.fixture
def redis_relay(settings):
    """The default cache is the real Redis reached through a relay that can be cut;
    otherwise configured as in production (errors ignored, short socket timeouts)."""
    url = urlparse(os.environ.get("REDIS_URL") or DEFAULT_TEST_REDIS_URL)
    with Relay((url.hostname or "127.0.0.1", url.port or 6379)) as relay:
        settings.CACHES = {
            "default": {
                "BACKEND": "django_redis.cache.RedisCache",
                "LOCATION": f"redis://127.0.0.1:{relay.port}{url.path or '/0'}",
                "KEY_PREFIX": FAULTS_KEY_PREFIX,
                "OPTIONS": {
                    "CLIENT_CLASS": "django_redis.client.DefaultClient",
                    "SOCKET_CONNECT_TIMEOUT": 1,
                    "SOCKET_TIMEOUT": 1,
                    "IGNORE_EXCEPTIONS": True,
                },
            }
        }
        yield relay
        relay.restore()
        caches["default"].delete_pattern("*")


@pytest.fixture
def postgres_relay():
    """Every new connection to the test database goes through a relay that can be
    cut. Connections already open (the test's own, inside its transaction) stay as
    they are: a test that needs its own requests to go through the relay closes the
    connection first (and uses transactional_db)."""
    connection = connections["default"]
    original = dict(connection.settings_dict)
    host = original.get("HOST") or os.environ.get("PGHOST") or DEFAULT_SOCKET_DIR
    port = int(original.get("PORT") or 5432)
    upstream = f"{host}/.s.PGSQL.{port}" if host.startswith("/") else (host, port)
    with Relay(upstream) as relay:
        # The dict is shared by every thread's connection: change it in place.
        connection.settings_dict.update(HOST="127.0.0.1", PORT=str(relay.port))
        try:
            yield relay
        finally:
            relay.restore()
            connection.settings_dict.update(
                HOST=original["HOST"], PORT=original["PORT"]
            )


@pytest.fixture
def hung_s3(s3_storage, settings):
    """The default storage's endpoint accepts connections and never answers."""
    with BlackHole() as hole:
        default = settings.STORAGES["default"]
        options = {
            **default["OPTIONS"],
            "endpoint_url": f"http://127.0.0.1:{hole.port}",
            "client_config": Config(
                signature_version="s3v4",
                s3={"addressing_style": "path"},
                connect_timeout=1,
                read_timeout=HUNG_S3_READ_TIMEOUT,
                retries={"mode": "standard", "max_attempts": HUNG_S3_MAX_ATTEMPTS},
            ),
        }
        settings.STORAGES = {
            **settings.STORAGES,
            "default": {**default, "OPTIONS": options},
        }
        assert options["bucket_name"] == TEST_BUCKET
        yield hole
