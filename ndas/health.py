"""Liveness and readiness: is the process up, and can it reach what it depends on.

/healthz (liveness) touches nothing: it is what the container health check and Swarm
use, so that an outage of a dependency never restarts healthy replicas.

/readyz (readiness) checks each dependency in a thread of its own with its own
deadline (READINESS_CHECK_TIMEOUT), so it answers within that deadline even when a
dependency hangs. Only what the web cannot serve without (the database, REQUIRED)
makes it fail (503); the cache and storage are reported, and make it "degraded" (200).
A check still stuck from an earlier call is reported as timed out, not started again:
probes never pile up threads behind a hung dependency.
"""

import contextvars
import logging
import os
import queue
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.db import connection

logger = logging.getLogger("ndas.health")

OK = "ok"
ERROR = "error"
TIMEOUT = "timeout"
STATUS_OK = "ok"
STATUS_DEGRADED = "degraded"
STATUS_ERROR = "error"
# What the web cannot serve without: only these fail readiness.
REQUIRED = frozenset({"database"})


def check_database() -> None:
    # Runs in a worker thread: its connection is its own, closed after each check so
    # that no connection outlives the probe (or keeps a stale address).
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    finally:
        connection.close()


def check_cache() -> None:
    # django-redis is configured to swallow connection errors (so that an outage does
    # not break pages); a value that does not come back is how an outage shows here.
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


class _Worker:
    """One daemon thread that runs one check at a time, kept between calls (so its
    S3 client is reused). Daemon: a check stuck on a hung dependency never holds up
    the process's exit."""

    def __init__(self, name: str) -> None:
        self.pid = os.getpid()
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        threading.Thread(target=self._run, name=f"readyz-{name}", daemon=True).start()

    def submit(self, check: Callable[[], None]) -> Future:
        future: Future = Future()
        # The check logs with the request's id.
        self._queue.put((future, contextvars.copy_context(), check))
        return future

    def _run(self) -> None:
        while True:
            future, context, check = self._queue.get()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(context.run(check))
            except BaseException as exc:
                future.set_exception(exc)


# Each check's worker, and the run it was last given.
_workers: dict[str, _Worker] = {}
_pending: dict[str, Future] = {}
_lock = threading.Lock()


def _submit(name: str, check: Callable[[], None]) -> Future | None:
    """Start `check` in its own thread; None while its previous run is still stuck."""
    with _lock:
        previous = _pending.get(name)
        if previous is not None and not previous.done():
            return None
        worker = _workers.get(name)
        if worker is None or worker.pid != os.getpid():  # none yet, or before a fork
            worker = _workers[name] = _Worker(name)
        future = _pending[name] = worker.submit(check)
        return future


def _outcome(name: str, future: Future | None, timeout: float) -> str:
    if future is None:
        logger.warning(
            "readiness check still running", extra={"check": name, "error": TIMEOUT}
        )
        return TIMEOUT
    try:
        future.result(timeout=max(timeout, 0))
    except FutureTimeout:
        logger.warning(
            "readiness check timed out", extra={"check": name, "error": TIMEOUT}
        )
        return TIMEOUT
    except Exception as exc:  # any failure means "not ready", whatever its kind
        logger.warning(
            "readiness check failed",
            extra={"check": name, "error": type(exc).__name__},
        )
        return ERROR
    return OK


def readiness() -> tuple[int, dict]:
    """Run the readiness checks side by side, each with READINESS_CHECK_TIMEOUT
    seconds; return the HTTP status and the per-check JSON body."""
    deadline = time.monotonic() + settings.READINESS_CHECK_TIMEOUT
    futures = {name: _submit(name, check) for name, check in READINESS_CHECKS.items()}
    checks = {
        name: _outcome(name, future, deadline - time.monotonic())
        for name, future in futures.items()
    }
    failed = [name for name, result in checks.items() if result != OK]
    if REQUIRED.intersection(failed):
        status, code = STATUS_ERROR, 503
    elif failed:
        status, code = STATUS_DEGRADED, 200
    else:
        status, code = STATUS_OK, 200
    return code, {"status": status, "checks": checks, "failed": failed}
