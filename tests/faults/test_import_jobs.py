"""Import jobs tell the truth after a crash: a killed import, or one whose
database connection died, ends failed with its reason (never "validated" for
ever), and the command line says what happened in one line."""

import os
import signal
import subprocess
import sys
import time

import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command

from records.imports import services
from records.imports.models import ImportJob
from records.patients.models import Patient
from records.users import roles
from tests.helpers import BASE_DIR, advisory_lock_released, writing

pytestmark = pytest.mark.django_db(transaction=True)
ROWS = 100_000


def _csv(tmp_path):
    path = tmp_path / "patients.csv"
    lines = ["mrn,given_name,family_name,date_of_birth,sex"]
    lines += [f"K-{n:06d},Talvi,Quennard{n},2025-03-14,female" for n in range(ROWS)]
    path.write_text("\n".join(lines) + "\n")
    return path


def _import(path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres:///{settings.DATABASES['default']['NAME']}",
        "LOG_LEVEL": "CRITICAL",
    }
    command = ["manage.py", "import_records", "patients", str(path)]
    command += ["--user", "bulk", "--reason", "Bulk load", "--no-care-team"]
    return subprocess.Popen(
        [sys.executable, *command],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_until_writing(process) -> None:
    deadline = time.monotonic() + 90
    while not writing():
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.02)
    time.sleep(0.3)  # some chunks written, most of the file still to come
    assert process.poll() is None, "the import finished before the fault"


def _direct():
    """A connection of the test's own, outside Django's."""
    return psycopg.connect(dbname=settings.DATABASES["default"]["NAME"])


def _wait_for_lock_release(user_id) -> None:
    advisory_lock_released(services.IMPORT_LOCK, user_id)


def test_a_killed_import_is_swept_to_failed(make_user, tmp_path):
    make_user("bulk", roles=[roles.DATA_MANAGER])
    process = _import(_csv(tmp_path))
    try:
        _wait_until_writing(process)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.RUNNING  # what it was doing: not "validated"
    _wait_for_lock_release(job.user_id)
    call_command("expire_imports", stdout=open(os.devnull, "w"))
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert job.errors[0]["message"] == services.E_STOPPED
    assert job.finished_at is not None
    assert Patient.objects.count() == 0


def test_a_lost_database_connection_fails_the_job_in_one_line(make_user, tmp_path):
    """The import's backend is terminated mid-commit (as a restart ends it): the
    failure is recorded on a fresh connection and the command says so in one line."""
    make_user("bulk", roles=[roles.DATA_MANAGER])
    process = _import(_csv(tmp_path))
    try:
        _wait_until_writing(process)
        with _direct() as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE relation = "
                "'patients_patient'::regclass AND mode = 'ShareRowExclusiveLock'"
            )
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 1
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("CommandError: The import stopped")
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.FAILED
    assert job.errors[0]["message"] == services.E_FAILED
    assert Patient.objects.count() == 0


def _running_job(user) -> ImportJob:
    return ImportJob.objects.create(
        user=user,
        entity="patients",
        file_name="a.csv",
        size_bytes=1,
        sha256="0" * 64,
        reason="r",
        status=ImportJob.Status.RUNNING,
    )


def test_the_sweep_spares_an_import_whose_process_still_runs(make_user):
    user = make_user("bulk", roles=[roles.DATA_MANAGER])
    job = _running_job(user)
    with _direct() as conn:  # another process holds the user's import lock
        conn.execute("SELECT pg_advisory_lock(%s, %s)", [services.IMPORT_LOCK, user.pk])
        assert services.imports_sweep() == 0
        job.refresh_from_db()
        assert job.status == ImportJob.Status.RUNNING
    # The lock goes with its connection, as it does with a dead process.
    _wait_for_lock_release(user.pk)
    assert services.imports_sweep() == 1
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED


def test_the_users_next_import_ends_their_dead_one(make_user):
    user = make_user("bulk", roles=[roles.DATA_MANAGER])
    job = _running_job(user)
    services.import_validate(
        acting_user=user,
        entity="patients",
        file_name="p.csv",
        data=b"mrn,given_name,family_name,date_of_birth,sex\n"
        b"AB-1234,Talvi,Quennard,2025-03-14,female\n",
        reason="Quarterly upload",
    )
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert job.errors[0]["message"] == services.E_STOPPED
