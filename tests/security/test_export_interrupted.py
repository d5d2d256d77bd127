"""Review #12, item 4: an export cut off mid-stream is on the trail.

The audit event (who asked for what) is written when the export starts; when the
stream ends, the ExportJob is completed, or marked interrupted with the rows
handed over so far, however it ended (closed early, never read, an error).
"""

import hashlib
import io

import pytest
from django.db import connection
from django.test import Client

from records.audit.models import AuditEvent
from records.imports import exports
from records.imports.models import ExportJob
from records.patients.models import Patient
from tests import factories
from tests.helpers import EXPORT_URL

pytestmark = pytest.mark.django_db


@pytest.fixture
def five_charts():
    clinician = factories.clinician()
    return [factories.patient(acting_user=clinician) for _ in range(5)]


def _export_events() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="export").order_by("id"))


def test_the_audit_event_is_written_when_the_export_starts(data_manager, five_charts):
    stream = exports.export_csv(
        user=data_manager,
        entity="patients",
        columns=["mrn"],
        filters={"q": ["Quennard"]},
    )
    job = ExportJob.objects.get()
    [event] = _export_events()  # before a single byte
    assert (event.actor_id, event.object_id) == (data_manager.pk, str(job.pk))
    assert event.details == {
        "entity": "patients",
        "format": "csv",
        "columns": ["mrn"],
        "filters": ["q"],
    }
    assert job.status == ExportJob.Status.STARTED
    produced = b"".join(stream)
    job.refresh_from_db()
    assert job.status == ExportJob.Status.COMPLETED and job.completed
    assert (job.row_count, job.sha256) == (5, hashlib.sha256(produced).hexdigest())
    assert len(_export_events()) == 1


def test_a_stream_closed_mid_way_marks_the_job_interrupted(
    data_manager, five_charts, monkeypatch
):
    monkeypatch.setattr(exports, "BATCH_ROWS", 2)
    stream = exports.export_csv(user=data_manager, entity="patients")
    next(stream)  # the header
    next(stream)  # two rows
    next(stream)  # two more: the client goes away while they are being sent
    stream.close()  # what the WSGI server does then
    job = ExportJob.objects.get()
    assert job.status == ExportJob.Status.INTERRUPTED and not job.completed
    assert job.row_count == 4 and job.sha256 == ""
    assert len(_export_events()) == 1


def test_a_stream_closed_before_it_started_is_interrupted_with_no_rows(
    data_manager, five_charts
):
    stream = exports.export_csv(user=data_manager, entity="patients")
    stream.close()
    job = ExportJob.objects.get()
    assert (job.status, job.row_count) == (ExportJob.Status.INTERRUPTED, 0)
    assert len(_export_events()) == 1


def test_a_failure_while_streaming_marks_the_job_interrupted(
    data_manager, five_charts, monkeypatch
):
    monkeypatch.setattr(exports, "BATCH_ROWS", 2)
    real = exports._csv_text
    calls = []

    def failing(lines):
        calls.append(lines)
        if len(calls) == 3:  # the header, one batch, then a failure
            raise RuntimeError("disk full")
        return real(lines)

    monkeypatch.setattr(exports, "_csv_text", failing)
    stream = exports.export_csv(user=data_manager, entity="patients")
    with pytest.raises(RuntimeError):
        b"".join(stream)
    job = ExportJob.objects.get()
    assert (job.status, job.row_count) == (ExportJob.Status.INTERRUPTED, 2)


def test_a_failed_xlsx_export_is_interrupted_and_on_the_trail(
    data_manager, five_charts, monkeypatch
):
    def failing(sheet, value):
        raise RuntimeError("broken cell")

    monkeypatch.setattr(exports, "xlsx_cell", failing)
    with pytest.raises(RuntimeError):
        exports.export_xlsx(user=data_manager, entity="patients")
    job = ExportJob.objects.get()
    assert (job.status, job.row_count) == (ExportJob.Status.INTERRUPTED, 0)
    assert len(_export_events()) == 1


def test_the_admins_streaming_response_closes_the_export(
    data_manager, five_charts, monkeypatch
):
    """Django's response closes the stream it was given (the server calls
    response.close() when the client disconnects)."""
    client = Client()
    client.force_login(data_manager)
    response = client.post(
        EXPORT_URL, {"file_format": "csv", "columns": ["mrn", "given_name"]}
    )
    assert response.streaming
    first = next(iter(response.streaming_content))
    assert first.startswith(exports.CSV_BOM.encode())
    # Closing a response also ends its request, which would close the test's
    # database connection (and its transaction) as it closes a server's.
    monkeypatch.setattr(connection, "close_if_unusable_or_obsolete", lambda: None)
    response.close()
    job = ExportJob.objects.get()
    assert job.status == ExportJob.Status.INTERRUPTED
    assert job.row_count in (0, 5)  # the rows go in one chunk: handed over or not
    assert Patient.objects.count() == 5
    assert len(_export_events()) == 1


def test_an_export_whose_process_was_killed_is_marked_by_expire_imports(
    data_manager,
):
    """A worker killed mid-stream runs no code: the job stays started until the
    daily expire_imports marks exports started over a day ago interrupted."""
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    exports.export_csv(user=data_manager, entity="patients")  # never read
    stale = ExportJob.objects.get()
    fresh = ExportJob.objects.create(user=data_manager, entity="patients")
    ExportJob.objects.filter(pk=stale.pk).update(at=timezone.now() - timedelta(days=2))
    call_command("expire_imports", stdout=io.StringIO())
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert stale.status == ExportJob.Status.INTERRUPTED
    assert fresh.status == ExportJob.Status.STARTED
