"""Large exports in a real Celery worker (celery's test worker, the test Redis as
broker): built once into private storage (moto's S3), listed under Exports,
downloaded by a five-minute presigned link (audited); a task delivered twice
builds once; a job whose worker died is swept, with a clear message."""

import csv
import io
import time
from datetime import timedelta

import psycopg
import pytest
import requests
from celery.contrib.testing.worker import start_worker
from django.db import connection
from django.urls import reverse

from ndas.celery import app
from records.audit.models import AuditEvent
from records.imports.job_tasks import build_export, sweep_jobs
from records.imports import export_jobs
from records.imports.entities import ENTITIES
from records.imports.models import ExportJob
from records.patients.models import Patient, PatientStatus
from records.users import roles
from tests import factories
from tests.helpers import advisory_lock_released

pytestmark = pytest.mark.django_db(transaction=True)
EXPORT_URL = "/admin/patients/patient/export/"
STATUS = ExportJob.Status


@pytest.fixture
def worker(settings):
    """A real worker thread on the test Redis, consuming both queues."""
    assert settings.CELERY_BROKER_URL.startswith("redis://")
    app.control.purge()
    with start_worker(
        app, perform_ping_check=False, queues=["celery", "scheduled"]
    ) as controller:
        yield controller


@pytest.fixture
def data_manager(make_user):
    return make_user("data", roles=[roles.DATA_MANAGER])


@pytest.fixture
def background(settings):
    """Every export of more than one row goes to a worker."""
    settings.EXPORT_BACKGROUND_ROWS = 1


def finished(job: ExportJob, timeout: float = 60) -> ExportJob:
    deadline = time.monotonic() + timeout
    while True:
        job.refresh_from_db()
        if job.status not in (STATUS.QUEUED, STATUS.RUNNING):
            return job
        assert time.monotonic() < deadline, f"export still {job.status}"
        time.sleep(0.1)


def charts(count: int, **fields) -> list[Patient]:
    clinician = factories.clinician()
    return [factories.patient(acting_user=clinician, **fields) for _ in range(count)]


def lock_released(job_id: int) -> None:
    advisory_lock_released(export_jobs.EXPORT_LOCK, job_id)


def stored_keys(storage) -> list[str]:
    return sorted(f"exports/{name}" for name in storage.listdir("exports")[1])


def test_large_export_is_built_by_a_worker_and_downloaded_by_a_presigned_link(
    client, data_manager, s3_storage, background, worker
):
    active = charts(3)
    archived = charts(1)[0]
    Patient.objects.filter(pk=archived.pk).update(status=PatientStatus.ARCHIVED)
    client.force_login(data_manager)

    response = client.post(
        EXPORT_URL + "?status=active",
        {"file_format": "csv", "columns": ["mrn", "status"]},
    )

    # Not streamed: queued, and the user sent to the Exports list.
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:imports_exportjob_changelist")
    job = finished(ExportJob.objects.get())
    assert job.status == STATUS.COMPLETED, job.message
    assert job.row_count == 3 and job.filters == {"status": ["active"]}
    # Its key names nothing of a patient.
    assert job.file_key.startswith("exports/") and job.file_key.endswith(".csv")
    assert not any(p.mrn in job.file_key for p in active)
    with s3_storage.open(job.file_key, "rb") as handle:
        data = handle.read()
    assert job.size_bytes == len(data)
    rows = list(csv.reader(io.StringIO(data.decode("utf-8").lstrip("\ufeff"))))
    assert rows[0] == ["mrn", "status"]
    assert sorted(rows[1:]) == sorted([p.mrn, "active"] for p in active)
    # Asked for: one export event, as a streamed export has.
    assert AuditEvent.objects.filter(action="export", object_id=job.pk).count() == 1

    listing = client.get(reverse("admin:imports_exportjob_changelist"))
    download = reverse("admin:imports_exportjob_download", args=[job.pk])
    assert download in listing.content.decode()

    response = client.get(download)
    assert response.status_code == 302
    url = response["Location"]
    assert "X-Amz-Expires=300" in url and job.file_key in url
    assert requests.get(url, timeout=10).content == data
    event = AuditEvent.objects.get(action="download", object_id=job.pk)
    assert event.actor_id == data_manager.pk


def test_only_its_maker_downloads_an_export(
    client, data_manager, make_user, s3_storage, background, worker
):
    charts(2)
    job = export_jobs.export_queue(
        user=data_manager, entity="patients", file_format="xlsx"
    )
    assert finished(job).status == STATUS.COMPLETED
    other = make_user("other", roles=[roles.DATA_MANAGER])
    client.force_login(other)

    listing = client.get(reverse("admin:imports_exportjob_changelist"))
    response = client.get(reverse("admin:imports_exportjob_download", args=[job.pk]))

    assert "Only the person who made it may download it" in listing.content.decode()
    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action="download").exists()


def test_a_task_delivered_twice_builds_the_file_once(
    data_manager, s3_storage, background, worker
):
    charts(2)
    job = export_jobs.export_queue(
        user=data_manager, entity="patients", file_format="csv"
    )
    job = finished(job)
    built = job.finished_at

    # The broker hands the same job over again, twice (a retry, a re-delivery).
    again = [build_export.delay(job.pk), build_export.delay(job.pk)]

    assert [result.get(timeout=30) for result in again] == ["done", "done"]
    job.refresh_from_db()
    assert job.status == STATUS.COMPLETED and job.finished_at == built
    assert stored_keys(s3_storage) == [job.file_key]


def test_a_task_delivered_while_another_worker_builds_it_does_nothing(
    data_manager, s3_storage, background
):
    charts(2)
    job = ExportJob.objects.create(
        user=data_manager,
        entity="patients",
        file_format="csv",
        columns=["mrn"],
        status=STATUS.RUNNING,
        file_key="exports/x.csv",
    )
    with _session() as other_worker:  # holds the job's lock: building it now
        other_worker.execute(
            "SELECT pg_advisory_lock(%s, %s)", [export_jobs.EXPORT_LOCK, job.pk]
        )
        assert export_jobs.export_build(job.pk) == "taken"
        assert sweep_jobs().startswith("Stopped imports")  # a live build stays
        job.refresh_from_db()
        assert job.status == STATUS.RUNNING
    # Its worker is gone (the connection ended, as when the process is killed):
    # re-delivered, the job is built again from the start.
    lock_released(job.pk)
    assert export_jobs.export_build(job.pk) == "built"
    job.refresh_from_db()
    assert job.status == STATUS.COMPLETED and job.row_count == 2


def test_the_sweep_marks_failed_an_export_whose_worker_died(
    data_manager, s3_storage, worker
):
    job = ExportJob.objects.create(
        user=data_manager,
        entity="patients",
        file_format="csv",
        columns=["mrn"],
        status=STATUS.RUNNING,
        file_key="exports/half.csv",
    )
    s3_storage.save("exports/half.csv", io.BytesIO(b"mrn\n"))
    with _session() as dying_worker:
        dying_worker.execute(
            "SELECT pg_advisory_lock(%s, %s)", [export_jobs.EXPORT_LOCK, job.pk]
        )
    # The worker's connection ended with it: the lock is free. The scheduled
    # sweep, through the real worker:
    lock_released(job.pk)
    note = sweep_jobs.apply_async().get(timeout=30)

    job.refresh_from_db()
    assert "exports: 1" in note
    assert job.status == STATUS.FAILED and job.message == export_jobs.E_STOPPED
    assert job.file_key == "" and stored_keys(s3_storage) == []
    # Delivered again afterwards, it stays failed: nothing is built.
    assert build_export.delay(job.pk).get(timeout=30) == "done"


def test_a_user_who_lost_the_permission_gets_no_file(
    data_manager, s3_storage, background
):
    charts(2)
    job = ExportJob.objects.create(
        user=data_manager,
        entity="patients",
        file_format="csv",
        columns=["mrn"],
        status=STATUS.QUEUED,
        file_key="exports/y.csv",
    )
    data_manager.groups.clear()

    assert export_jobs.export_build(job.pk) == "refused"
    job.refresh_from_db()
    assert job.status == STATUS.FAILED and job.message == export_jobs.E_NO_LONGER
    assert stored_keys(s3_storage) == []


def test_small_exports_still_stream_from_the_web(client, data_manager, settings):
    settings.EXPORT_BACKGROUND_ROWS = 5
    charts(5)
    client.force_login(data_manager)

    response = client.post(EXPORT_URL, {"file_format": "csv", "columns": ["mrn"]})

    assert response.status_code == 200 and response.streaming
    assert len(b"".join(response.streaming_content).splitlines()) == 6
    assert ExportJob.objects.get().status == STATUS.COMPLETED


def test_old_export_files_are_deleted_by_the_daily_job(
    data_manager, s3_storage, background, worker, settings
):
    charts(2)
    job = finished(
        export_jobs.export_queue(
            user=data_manager, entity="patients", file_format="csv"
        )
    )
    ExportJob.objects.filter(pk=job.pk).update(
        finished_at=job.finished_at - timedelta(days=8)
    )

    assert export_jobs.exports_expire(older_than=timedelta(days=7)) == 1
    job.refresh_from_db()
    assert job.status == STATUS.COMPLETED and job.file_key == ""
    assert stored_keys(s3_storage) == []


class _session:
    """A second PostgreSQL session (another worker's), closed on leaving."""

    def __enter__(self):
        params = connection.get_connection_params()
        params.pop("cursor_factory", None)
        params.pop("context", None)
        self.connection = psycopg.connect(**params, autocommit=True)
        return self.connection

    def __exit__(self, *exc):
        self.connection.close()


def test_without_a_bucket_the_file_itself_is_downloaded(
    client, data_manager, settings, tmp_path, background
):
    # Development: files on disk, no presigned links; tasks run where asked.
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path},
        },
    }
    charts(2)
    job = ExportJob.objects.create(
        user=data_manager,
        entity="patients",
        file_format="csv",
        columns=["mrn"],
        status=STATUS.QUEUED,
        file_key="exports/local.csv",
    )
    assert export_jobs.export_build(job.pk) == "built"
    client.force_login(data_manager)

    response = client.get(reverse("admin:imports_exportjob_download", args=[job.pk]))

    job.refresh_from_db()
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith(
        f'attachment; filename="ndas-patients-{job.pk}-'
    )
    data = b"".join(response.streaming_content)
    assert len(data) == job.size_bytes and data.count(b"\n") == 3
    assert AuditEvent.objects.filter(action="download", object_id=job.pk).exists()


def test_an_export_no_worker_took_up_within_a_day_is_marked_failed(data_manager):
    stale, fresh = (
        ExportJob.objects.create(
            user=data_manager,
            entity="patients",
            file_format="csv",
            status=STATUS.QUEUED,
            file_key=f"exports/{name}.csv",
        )
        for name in ("stale", "fresh")
    )
    ExportJob.objects.filter(pk=stale.pk).update(at=stale.at - timedelta(days=2))

    assert export_jobs.exports_sweep() == 1

    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert stale.status == STATUS.FAILED
    assert stale.message == export_jobs.E_NOT_STARTED and stale.file_key == ""
    assert fresh.status == STATUS.QUEUED


@pytest.mark.parametrize(
    "url, entity",
    [
        ("/admin/patients/patient/export/", "patients"),
        ("/admin/patients/assessment/export/", "assessments"),
        ("/admin/clinical_records/clinicalrecord/export/", "clinical_records"),
    ],
)
def test_each_lists_query_is_run_again_by_the_worker(
    client, data_manager, s3_storage, background, url, entity
):
    clinician = factories.clinician()
    for _ in range(2):
        chart = factories.patient(acting_user=clinician)
        factories.assessment(acting_user=clinician, patient=chart)
        factories.visit(acting_user=clinician, patient=chart)
    client.force_login(data_manager)

    first = ENTITIES[entity].columns[0].name
    response = client.post(url, {"file_format": "xlsx", "columns": [first]})

    assert response.status_code == 302
    job = ExportJob.objects.get()
    app.control.purge()  # no worker here: built in this process instead
    assert (job.entity, job.status) == (entity, STATUS.QUEUED)
    assert export_jobs.export_build(job.pk) == "built"
    job.refresh_from_db()
    assert job.status == STATUS.COMPLETED and job.row_count == 2
