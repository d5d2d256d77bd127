"""Fixtures for fault tests: the real Redis behind a relay that can be cut."""

import os
from urllib.parse import urlparse

import pytest
from django.core.cache import caches

from tests.relay import Relay

# Makefile's TEST_REDIS_URL: the suite runs against a real Redis.
DEFAULT_TEST_REDIS_URL = "redis://127.0.0.1:6379/15"
# Keys written through the relay carry their own prefix, and are removed afterwards.
FAULTS_KEY_PREFIX = "ndas-faults"


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
