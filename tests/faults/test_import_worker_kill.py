"""A Celery worker process killed (SIGKILL) while it commits a large import: its
transaction dies with it, so nothing is written; the job, left running, is marked
failed with its reason by the next sweep (here the import page's progress, which
the data manager's browser polls), and the task handed back never commits it."""

import os
import signal
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from records.audit.models import AuditEvent
from records.imports import queued, services, tasks
from records.imports.models import ImportJob
from records.patients.models import Patient
from records.users import roles
from tests.helpers import BASE_DIR, writing
from tests.support.worker import (
    broker_emptied,
    ended,
    patients_csv,
    queue,
    wait_for,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
ROWS = 100_000


def _worker() -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres:///{settings.DATABASES['default']['NAME']}",
        "NDAS_WORK": "worker",
        "LOG_LEVEL": "CRITICAL",
    }
    command = [sys.executable, "-m", "celery", "--app=ndas", "worker"]
    command += ["--pool=solo", "--concurrency=1", "--loglevel=CRITICAL"]
    command += ["--without-heartbeat", "--without-gossip", "--without-mingle"]
    command += ["--hostname=import-kill@%h"]
    return subprocess.Popen(
        command,
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _stopped(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)


def test_a_worker_killed_mid_commit_writes_nothing_and_its_job_fails(make_user):
    user = make_user("bulk", roles=[roles.DATA_MANAGER])
    broker_emptied()
    process = _worker()
    try:
        job = queue(user, patients_csv(ROWS, prefix="K"))
        wait_for(lambda: ended(job, ImportJob.Status.VALIDATED), timeout=180)
        queued.import_commit_queue(acting_user=user, job=job)
        wait_for(lambda: writing() or process.poll() is not None, timeout=90)
        time.sleep(0.3)  # some chunks written, most still to come
        assert process.poll() is None and not ended(job, ImportJob.Status.COMMITTED)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        _stopped(process)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.RUNNING  # what it was doing
    # The backend notices the kill: the user's lock goes with its connection.
    wait_for(lambda: not services._import_lock_held(user.pk), timeout=30)
    client = Client()
    client.force_login(user)
    progress = client.get(reverse("admin:imports_importjob_progress", args=[job.pk]))
    assert progress.json()["done"] is True
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert job.errors[0]["message"] == services.E_STOPPED
    assert Patient.objects.count() == 0 and Patient.history.count() == 0
    # The task, handed back and delivered again, does not run it again.
    tasks.import_commit.apply(args=[job.pk])
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED and Patient.objects.count() == 0
    assert not AuditEvent.objects.filter(action="import").exists()
    broker_emptied()
