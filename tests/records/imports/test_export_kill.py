"""A worker process killed while it builds a large export leaves nothing stored,
and the sweep marks the export failed with a message saying what to do."""

import os
import signal
import subprocess
import sys
import time

import psycopg
import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection

from records.imports import export_jobs
from records.imports.models import ExportJob
from records.patients.models import Patient
from records.users import roles
from tests import factories
from tests.helpers import BASE_DIR
from tests.support.worker import broker_emptied

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def waiting_on_patients() -> bool:
    """Another session waits for the patients table (the worker's export)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE relation = %s::regclass "
            "AND NOT granted AND pid <> pg_backend_pid()",
            [Patient._meta.db_table],
        )
        return cursor.fetchone()[0] > 0


def test_a_worker_killed_mid_build_leaves_nothing_and_the_sweep_says_so(make_user):
    user = make_user("data", roles=[roles.DATA_MANAGER])
    clinician = factories.clinician()
    for _ in range(2):
        factories.patient(acting_user=clinician)
    broker_emptied()
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres:///{settings.DATABASES['default']['NAME']}",
        "NDAS_WORK": "worker",
        "LOG_LEVEL": "WARNING",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "--app=ndas", "worker", "--pool=solo"]
        + ["--queues=celery", "--without-mingle", "--without-gossip"],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    blocker = psycopg.connect(**params)  # another session, in a transaction
    try:
        # The build will wait for the table once it has claimed the job.
        blocker.execute(f"LOCK TABLE {Patient._meta.db_table} IN ACCESS EXCLUSIVE MODE")
        job = export_jobs.export_queue(user=user, entity="patients", file_format="csv")
        deadline = time.monotonic() + 90
        while not waiting_on_patients():
            assert time.monotonic() < deadline and worker.poll() is None
            time.sleep(0.1)
        job.refresh_from_db()
        assert job.status == ExportJob.Status.RUNNING
        key = job.file_key
        # A running build is not swept.
        assert export_jobs.exports_sweep() == 0

        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(timeout=30)
        blocker.rollback()
        blocker.close()

    # The killed worker's session ends as soon as the server next talks to it.
    deadline = time.monotonic() + 30
    while export_jobs.exports_sweep() == 0:
        assert time.monotonic() < deadline, "the export was never swept"
        time.sleep(0.2)
    job.refresh_from_db()
    assert job.status == ExportJob.Status.FAILED
    assert job.message == export_jobs.E_STOPPED and job.file_key == ""
    assert job.row_count == 0 and not job.sha256
    assert not default_storage.exists(key)
    broker_emptied()  # the task the killed worker held unacknowledged goes
