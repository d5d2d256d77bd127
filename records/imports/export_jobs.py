"""Large exports, built by a worker into private storage and downloaded from the
Exports list by a link valid for five minutes.

The ExportJob row is the state machine: queued (asked for, audited) -> running (a
worker holds the job's lock) -> completed (file_key, size, rows, SHA-256) or
failed (message). A task delivered twice, or retried, finds the job taken (its
lock held) or finished, and builds nothing; a worker killed mid-build leaves the
job running with its lock free, which the sweep marks failed.
"""

import csv
import hashlib
import io
import logging
import pickle
import tempfile
import uuid
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from openpyxl import Workbook

from records.audit.models import Action
from records.audit.services import audit_object
from records.common.db import long_statements
from records.imports import exports
from records.imports.entities import ENTITIES
from records.imports.models import ExportJob

logger = logging.getLogger(__name__)

# pg_advisory_lock's first key for export builds (imports use theirs): the second
# is the job's id. A session lock, released when its connection ends: a worker
# killed mid-build leaves it free.
EXPORT_LOCK = 7311
# A job still queued after this long was never picked up (the broker lost it).
QUEUED_STALE = timedelta(days=1)
STATUS = ExportJob.Status

E_STOPPED = (
    "The export stopped before it finished (the worker building it ended). "
    "Nothing was kept: export again."
)
E_NOT_STARTED = "No worker took up the export within a day. Export again."
E_FAILED = "The export failed while it was being built. Export again."
E_NO_LONGER = "You may no longer export these records."
E_NOT_YOURS = "Only the person who made an export may download it."
E_NO_FILE = "This export has no file to download."


def export_needs_worker(*, user, entity: str, queryset: QuerySet | None) -> bool:
    """Whether the rows this export would hold are more than
    EXPORT_BACKGROUND_ROWS: counted no further than one past it (ids only)."""
    limit = settings.EXPORT_BACKGROUND_ROWS
    spec = ENTITIES[entity]
    rows = exports._visible_rows(user=user, spec=spec, queryset=queryset)
    return bool(rows.values_list("pk", flat=True)[limit : limit + 1])


def export_queue(
    *,
    user,
    entity: str,
    file_format: str,
    columns: list[str] | None = None,
    filters: dict | None = None,
    queryset: QuerySet | None = None,
) -> ExportJob:
    """Record the export (job and audit event, as a streamed one) and hand it to
    a worker once this transaction commits."""
    from records.imports.job_tasks import build_export  # tasks import this module

    spec, selected = exports._export_check(user=user, entity=entity, columns=columns)
    # Refused now, not in the worker, when the queryset is of another model.
    exports._visible_rows(user=user, spec=spec, queryset=queryset)
    with transaction.atomic():
        job = exports._export_job_start(
            user=user,
            spec=spec,
            file_format=file_format,
            selected=selected,
            filters=filters,
        )
        job.status = STATUS.QUEUED
        job.file_key = f"exports/{uuid.uuid4().hex}.{file_format}"
        job.query = pickle.dumps(queryset.query) if queryset is not None else None
        job.save(update_fields=["status", "file_key", "query"])
        transaction.on_commit(lambda: build_export.delay(job.pk))
    return job


def export_build(job_id: int) -> str:
    """The worker's part: build the file once. Says what it did (for the log)."""
    with _build_lock(job_id) as held:
        if not held:
            return "taken"  # another worker builds it now
        with transaction.atomic():
            job = (
                ExportJob.objects.select_for_update(of=("self",))
                .select_related("user")
                .filter(pk=job_id)
                .first()
            )
            if job is None or job.status not in (STATUS.QUEUED, STATUS.RUNNING):
                return "done"  # built, failed or swept already: never twice
            # RUNNING with its lock free: the worker before this one died; the
            # redelivered task builds it again from the start.
            job.status = STATUS.RUNNING
            job.save(update_fields=["status"])
        try:
            # The long ceiling, even in a worker started without NDAS_WORK=worker.
            with long_statements():
                _build(job)
        except PermissionDenied:
            _finish(job, STATUS.FAILED, message=E_NO_LONGER)
            return "refused"
        except Exception as error:
            logger.error(
                "export build failed",
                extra={"export": job.pk, "error": type(error).__name__},
            )
            _discard(job.file_key)
            _finish(job, STATUS.FAILED, message=E_FAILED)
            return "failed"
        return "built"


@contextmanager
def _build_lock(job_id: int):
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [EXPORT_LOCK, job_id])
        held = cursor.fetchone()[0]
    try:
        yield held
    finally:
        if held:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_advisory_unlock(%s, %s)", [EXPORT_LOCK, job_id]
                )


def _queryset(job: ExportJob, spec) -> QuerySet | None:
    if job.query is None:
        return None
    queryset = spec.model._default_manager.all()
    queryset.query = pickle.loads(bytes(job.query))  # written by export_queue
    return queryset


def _build(job: ExportJob) -> None:
    """The rows the user may see now (permission and visibility checked again),
    written to a temporary file, stored under the job's key, then completed."""
    user = job.user
    if user is None or not user.is_active:
        raise PermissionDenied
    spec, selected = exports._export_check(
        user=user, entity=job.entity, columns=job.columns
    )
    queryset = _queryset(job, spec)
    with tempfile.TemporaryFile() as handle:
        if job.file_format == "csv":
            count = _write_csv(handle, user, spec, selected, queryset)
        else:
            count = _write_xlsx(handle, user, spec, selected, queryset)
        size = handle.tell()
        handle.seek(0)
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
        handle.seek(0)
        _discard(job.file_key)  # a build before this one may have stored it
        stored = default_storage.save(job.file_key, File(handle))
    job.file_key, job.row_count, job.sha256, job.size_bytes = (
        stored,
        count,
        digest,
        size,
    )
    _finish(job, STATUS.COMPLETED)


def _write_csv(handle, user, spec, selected, queryset) -> int:
    rows = exports._csv_rows(user=user, spec=spec, selected=selected, queryset=queryset)
    text = io.TextIOWrapper(handle, encoding="utf-8", newline="", write_through=True)
    writer = csv.writer(text)
    text.write(exports.CSV_BOM)
    writer.writerow([column.name for column in selected])
    count = 0
    for batch in exports._batches(
        rows.iterator(chunk_size=exports.BATCH_ROWS), exports.BATCH_ROWS
    ):
        writer.writerows(batch)
        count += len(batch)
    text.flush()
    text.detach()  # the file stays open for the upload
    return count


def _write_xlsx(handle, user, spec, selected, queryset) -> int:
    rows = exports._export_rows(
        user=user, spec=spec, selected=selected, queryset=queryset
    )
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=spec.name)
    sheet.append([exports.xlsx_cell(sheet, column.name) for column in selected])
    count = 0
    for row in rows.iterator(chunk_size=exports.BATCH_ROWS):
        sheet.append(
            [exports.xlsx_cell(sheet, row.get(column.source)) for column in selected]
        )
        count += 1
    book.save(handle)
    handle.seek(0, io.SEEK_END)
    return count


def _finish(job: ExportJob, status: str, *, message: str = "") -> None:
    job.status, job.message, job.finished_at = status, message, timezone.now()
    if status != STATUS.COMPLETED:
        job.file_key, job.size_bytes = "", 0
    job.save(
        update_fields=[
            "status",
            "message",
            "finished_at",
            "file_key",
            "size_bytes",
            "row_count",
            "sha256",
        ]
    )


def _discard(key: str) -> None:
    if key:
        default_storage.delete(key)  # no error when it is not there


# --- the sweep, expiry and downloads -------------------------------------------------


def exports_sweep() -> int:
    """Mark failed the exports whose worker died mid-build (running, lock free)
    and those no worker took up within a day: how many."""
    stopped = 0
    for job in ExportJob.objects.filter(status=STATUS.RUNNING).order_by("pk"):
        with _build_lock(job.pk) as held:
            if not held:
                continue  # a worker is building it
            with transaction.atomic():
                job = ExportJob.objects.select_for_update().get(pk=job.pk)
                if job.status != STATUS.RUNNING:
                    continue
                _discard(job.file_key)
                _finish(job, STATUS.FAILED, message=E_STOPPED)
                stopped += 1
    cutoff = timezone.now() - QUEUED_STALE
    stopped += ExportJob.objects.filter(status=STATUS.QUEUED, at__lt=cutoff).update(
        status=STATUS.FAILED,
        message=E_NOT_STARTED,
        file_key="",
        finished_at=timezone.now(),
    )
    if stopped:
        logger.warning("exports marked failed", extra={"exports": stopped})
    return stopped


def exports_expire(*, older_than: timedelta) -> int:
    """Delete the files of exports built more than `older_than` ago: how many.
    The job (who exported what, when, how many rows, the SHA-256) stays."""
    cutoff = timezone.now() - older_than
    deleted = 0
    old = ExportJob.objects.filter(status=STATUS.COMPLETED, finished_at__lt=cutoff)
    for job in old.exclude(file_key="").only("pk", "file_key"):
        _discard(job.file_key)
        ExportJob.objects.filter(pk=job.pk).update(file_key="")
        deleted += 1
    return deleted


def export_downloadable(*, user, job: ExportJob) -> bool:
    return (
        job.user_id == user.pk
        and job.status == STATUS.COMPLETED
        and bool(job.file_key)
        and user.has_perm(exports.EXPORT_PERMISSION)
    )


def export_download_name(job: ExportJob) -> str:
    """The saved file's name: the entity, the export's number and date only."""
    day = timezone.localtime(job.at)
    return f"ndas-{job.entity}-{job.pk}-{day:%Y%m%d}.{job.file_format}"


def export_download(*, acting_user, job: ExportJob) -> str | None:
    """Audit the download, then a presigned link to the file valid for
    EXPORT_URL_EXPIRY_SECONDS; None when the storage cannot sign (local files in
    development: the caller sends the file itself)."""
    if job.user_id != acting_user.pk:
        raise PermissionDenied(E_NOT_YOURS)
    if not export_downloadable(user=acting_user, job=job):
        raise PermissionDenied(E_NO_FILE)
    audit_object(
        action=Action.DOWNLOAD,
        actor=acting_user,
        obj=job,
        summary=f"download export #{job.pk}",
        details={"entity": job.entity, "format": job.file_format},
    )
    if not hasattr(default_storage, "bucket_name"):
        return None
    return default_storage.url(
        job.file_key,
        parameters={
            "ResponseContentDisposition": (
                f'attachment; filename="{export_download_name(job)}"'
            ),
            "ResponseContentType": CONTENT_TYPES[job.file_format],
        },
        expire=settings.EXPORT_URL_EXPIRY_SECONDS,
    )


CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
