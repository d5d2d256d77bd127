"""A real Celery worker for import tests: a thread of this process (celery's test
worker) consuming the real Redis broker, and the helpers its tests share."""

import contextlib
import time

import redis
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connections

from ndas.celery import app
from records.imports import queued
from records.imports.models import ImportJob

HEADER = "mrn,given_name,family_name,date_of_birth,sex"


def patients_csv(rows: int, *, prefix: str = "W") -> bytes:
    lines = [HEADER]
    lines += [
        f"{prefix}-{n:06d},Talvi,Quennard{n},2025-03-14,female" for n in range(rows)
    ]
    return ("\n".join(lines) + "\n").encode()


def broker_emptied() -> None:
    """No message left from an earlier test (one a killed worker held too)."""
    assert not app.conf.task_always_eager, "set REDIS_URL: these tests need Redis"
    app.control.purge()
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete("unacked", "unacked_index", "unacked_mutex")


def _closed(**kwargs) -> None:
    # The worker thread's database connection ends with its task: the test's
    # database can be flushed, and dropped at the end.
    connections.close_all()


@contextlib.contextmanager
def worker(*, pool: str = "solo", concurrency: int = 1):
    from celery.signals import task_postrun

    broker_emptied()
    task_postrun.connect(_closed, weak=False)
    try:
        with start_worker(
            app,
            pool=pool,
            concurrency=concurrency,
            perform_ping_check=False,
            loglevel="WARNING",
            shutdown_timeout=60,
        ) as running:
            yield running
    finally:
        task_postrun.disconnect(_closed)
        broker_emptied()


def queue(user, data: bytes, name: str = "patients.csv") -> ImportJob:
    upload = SimpleUploadedFile(name, data)
    digest, lines = queued.upload_measured(upload)
    return queued.import_queue(
        acting_user=user,
        entity="patients",
        upload=upload,
        digest=digest,
        lines=lines,
        reason="Quarterly upload",
        no_care_team=True,
    )


def wait_for(predicate, *, timeout: float = 60, every: float = 0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, "waited too long"
        time.sleep(every)


def status_of(job: ImportJob) -> str:
    job.refresh_from_db()
    return job.status


def ended(job: ImportJob, *statuses: str) -> bool:
    return status_of(job) in statuses
