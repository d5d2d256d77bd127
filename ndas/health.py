"""Liveness and readiness: is the process up, and can it reach what it depends on."""

import logging
import os
import uuid
from collections.abc import Callable
from pathlib import Path

from django.core.cache import cache
from django.core.files.storage import default_storage
from django.db import connection

logger = logging.getLogger("ndas.health")


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def check_cache() -> None:
    # django-redis is configured to swallow connection errors (so that an outage does
    # not break sessions); a value that does not come back is how an outage shows here.
    key = "ndas:readyz"
    value = uuid.uuid4().hex
    cache.set(key, value, timeout=10)
    if cache.get(key) != value:
        raise ConnectionError("cache did not return the value just written")


def check_storage() -> None:
    if hasattr(default_storage, "bucket_name"):
        # HEAD on the bucket proves endpoint, credentials and bucket in one request.
        client = default_storage.connection.meta.client
        client.head_bucket(Bucket=default_storage.bucket_name)
        return
    location = Path(default_storage.location)
    while not location.exists():
        location = location.parent
    if not os.access(location, os.W_OK):
        raise PermissionError("media directory is not writable")


READINESS_CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "cache": check_cache,
    "storage": check_storage,
}


def readiness() -> tuple[int, dict]:
    """Run every readiness check; return the HTTP status and the per-check JSON body."""
    checks = {}
    for name, check in READINESS_CHECKS.items():
        try:
            check()
        except Exception as exc:  # any failure means "not ready", whatever its kind
            logger.warning(
                "readiness check failed",
                extra={"check": name, "error": type(exc).__name__},
            )
            checks[name] = "error"
        else:
            checks[name] = "ok"
    failed = [name for name, result in checks.items() if result != "ok"]
    body = {"status": "error" if failed else "ok", "checks": checks, "failed": failed}
    return (503 if failed else 200), body
