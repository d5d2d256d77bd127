"""Large imports in a real Celery worker (celery's test worker, the real Redis):
checked and committed there, with progress seen while the commit's transaction is
still open; a task delivered twice commits once; a cancel writes nothing."""

import gc

import pytest
from django.test import Client
from django.urls import reverse

from records.audit.models import AuditEvent
from records.imports import engine, queued, tasks
from records.imports.engine import runtime
from records.imports.models import ImportJob
from records.patients.models import Patient
from records.users import roles
from tests.support.worker import (
    ended,
    patients_csv,
    queue,
    status_of,
    wait_for,
    worker,
)

pytestmark = pytest.mark.django_db(transaction=True)
S = ImportJob.Status


@pytest.fixture
def manager(make_user, s3_storage, settings):
    settings.IMPORT_PROGRESS_EVERY_S = 0.05
    return make_user("bulk", roles=[roles.DATA_MANAGER])


def test_a_queued_file_is_checked_then_committed_by_the_worker(manager):
    with worker():
        job = queue(manager, patients_csv(300))
        assert job.status == S.QUEUED and job.in_worker and job.expected_rows == 300
        wait_for(lambda: ended(job, S.VALIDATED))
        assert (job.rows, job.new, job.invalid) == (300, 300, 0)
        assert not Patient.objects.exists()
        queued.import_commit_queue(acting_user=manager, job=job)
        # the upload is deleted once committed (just after the status is saved)
        wait_for(lambda: ended(job, S.COMMITTED) and job.stored_as == "")
    assert Patient.objects.count() == 300
    assert (
        AuditEvent.objects.filter(action="import", object_id=str(job.pk)).count() == 1
    )


def test_progress_is_seen_while_the_commit_is_still_open(manager):
    with worker():
        job = queue(manager, patients_csv(60_000))
        wait_for(lambda: ended(job, S.VALIDATED), timeout=120)
        queued.import_commit_queue(acting_user=manager, job=job)
        # Rows told, on the worker's own connection, before any is committed.
        wait_for(lambda: status_of(job) == S.RUNNING and job.progress_rows > 0)
        seen = Patient.objects.count()
        wait_for(lambda: ended(job, S.COMMITTED), timeout=120)
    assert seen == 0
    assert Patient.objects.count() == 60_000


def test_a_commit_delivered_twice_is_written_once(manager, monkeypatch):
    monkeypatch.setattr(tasks, "LOCKED_RETRY_S", 0.2)
    with worker(pool="threads", concurrency=2):
        job = queue(manager, patients_csv(20_000))
        wait_for(lambda: ended(job, S.VALIDATED), timeout=120)
        queued.import_commit_queue(acting_user=manager, job=job)
        # The same message again, at once (a re-delivery, a retry): the second
        # waits for the user's lock, then finds the job committed.
        tasks.import_commit.delay(job.pk)
        tasks.import_commit.delay(job.pk)
        wait_for(lambda: ended(job, S.COMMITTED), timeout=120)
        # A later delivery finds it committed too.
        tasks.import_commit.delay(job.pk)
        assert Patient.objects.count() == 20_000
    assert status_of(job) == S.COMMITTED
    assert Patient.objects.count() == 20_000
    assert Patient.history.count() == 20_000
    assert (
        AuditEvent.objects.filter(action="import", object_id=str(job.pk)).count() == 1
    )


def test_a_cancel_while_checking_stops_the_worker(manager, s3_storage):
    with worker():
        job = queue(manager, patients_csv(100_000))
        stored = job.stored_as
        wait_for(lambda: status_of(job) == S.RUNNING and job.progress_rows > 0)
        told = queued.import_cancel(acting_user=manager, job=job)
        assert told == queued.E_CANCEL_ASKED
        wait_for(
            lambda: ended(job, S.CANCELLED, S.VALIDATED)
            and (job.status != S.CANCELLED or job.stored_as == "")
        )
    assert job.status == S.CANCELLED
    assert job.rows < 100_000  # it stopped between two chunks
    assert not s3_storage.exists(stored) and job.stored_as == ""


def test_a_cancel_while_writing_rolls_the_commit_back(manager, s3_storage):
    with worker():
        job = queue(manager, patients_csv(100_000))
        wait_for(lambda: ended(job, S.VALIDATED), timeout=120)
        queued.import_commit_queue(acting_user=manager, job=job)
        wait_for(lambda: status_of(job) == S.RUNNING and job.progress_rows > 0)
        queued.import_cancel(acting_user=manager, job=job)
        wait_for(lambda: ended(job, S.CANCELLED, S.COMMITTED), timeout=120)
    assert job.status == S.CANCELLED
    assert Patient.objects.count() == 0 and Patient.history.count() == 0


def test_a_job_cancelled_while_queued_is_left_alone_by_the_worker(manager):
    job = queue(manager, patients_csv(50))  # no worker yet: it waits
    assert queued.import_cancel(acting_user=manager, job=job) == (
        queued.E_CANCELLED.format(job=job.pk)
    )
    with worker():
        tasks.import_check.delay(job.pk)  # delivered after all
        tasks.import_check.apply(args=[job.pk])
    assert status_of(job) == S.CANCELLED and job.rows == 0
    assert job.stored_as == ""


def test_the_progress_endpoint_says_counts_only_to_those_allowed(manager, make_user):
    job = queue(manager, patients_csv(10))
    client = Client()
    client.force_login(manager)
    url = reverse("admin:imports_importjob_progress", args=[job.pk])
    response = client.get(url)
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    body = response.json()
    assert body["status"] == S.QUEUED and body["done"] is False
    assert body["step"] == "Waiting to be checked"
    assert "W-000001" not in response.content.decode()
    assert set(body) == {
        *("status", "step", "done", "rows", "total"),
        *("rows_per_second", "seconds_left", "cancel_requested"),
    }
    clerk = make_user("clerk", roles=[roles.CLINICIAN])
    client.force_login(clerk)
    assert client.get(url).status_code == 403


def test_the_report_page_polls_and_offers_a_cancel(manager):
    job = queue(manager, patients_csv(10))
    client = Client()
    client.force_login(manager)
    page = client.get(reverse("admin:imports_importjob_report", args=[job.pk]))
    content = page.content.decode()
    assert 'data-progress-url="/admin/imports/importjob/' in content
    assert "admin_ext/import_progress.js" in content
    assert 'data-testid="cancel"' in content
    cancelled = client.post(
        reverse("admin:imports_importjob_cancel", args=[job.pk]), follow=True
    )
    assert "nothing was written" in cancelled.content.decode()
    assert status_of(job) == S.CANCELLED


def test_web_imports_leave_the_process_alone(manager, monkeypatch):
    """Within a request, the engine neither pauses the cycle collector nor
    lowers the switch interval: other requests of the process run as usual."""
    seen = []
    original = engine.Importer._check

    def check(self, *args):
        seen.append(gc.isenabled())
        return original(self, *args)

    monkeypatch.setattr(engine.Importer, "_check", check)
    monkeypatch.setattr(runtime, "_tweaks", False)
    client = Client()
    client.force_login(manager)
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.post(
        reverse("admin:imports_importjob_upload"),
        {
            "entity": "patients",
            "file": SimpleUploadedFile("p.csv", patients_csv(3)),
            "mode": "create_or_update",
            "reason": "Quarterly upload",
            "care_team": "none",
        },
    )
    assert ImportJob.objects.get().status == S.VALIDATED
    assert seen == [True]
