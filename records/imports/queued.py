"""Large imports as the web hands them to a worker: queue, commit, cancel.

An upload of at least IMPORT_WORKER_MIN_ROWS lines or IMPORT_WORKER_MIN_BYTES is
streamed to storage (never read whole into the web process: Django keeps a large
upload in a temporary file), its job queued, and a worker (records.imports.tasks)
checks it, then, when its user commits, writes it; the import page shows the
worker's progress (records.imports.progress). A smaller file is checked within
the request, as before (services.import_validate).
"""

import hashlib
from pathlib import PurePosixPath

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from records.audit.models import Action
from records.audit.services import audit_object
from records.common.errors import ServiceError
from records.imports import services, tasks
from records.imports.job_lock import one_at_a_time, upload_forget
from records.imports.models import ImportJob, ImportMode

E_NOT_CANCELLABLE = "This import has finished: there is nothing to cancel."
E_CANCEL_ASKED = (
    "Cancelling: the worker stops at its next step; nothing will be written."
)
E_CANCELLED = "Import #{job} cancelled: nothing was written."
E_COMMIT_QUEUED = "Import #{job} is being committed: this page shows how far it got."
# Statuses a cancel ends at once (no worker is running the job).
_CANCELLED_AT_ONCE = (
    ImportJob.Status.QUEUED,
    ImportJob.Status.VALIDATED,
    ImportJob.Status.TO_COMMIT,
)
_READ_BYTES = 1024**2


def upload_measured(upload) -> tuple[str, int]:
    """The SHA-256 and the number of lines of an upload, read a chunk at a time."""
    digest = hashlib.sha256()
    lines = 0
    for chunk in upload.chunks(_READ_BYTES):
        digest.update(chunk)
        lines += chunk.count(b"\n")
    upload.seek(0)
    return digest.hexdigest(), lines


def import_in_worker(*, size: int, lines: int, file_name: str) -> bool:
    """Whether an upload is large enough for a worker. An XLSX's lines are not
    its rows (it is zipped): its size alone decides."""
    if size >= settings.IMPORT_WORKER_MIN_BYTES:
        return True
    is_csv = PurePosixPath(file_name).suffix.lower() != ".xlsx"
    return is_csv and lines >= settings.IMPORT_WORKER_MIN_ROWS


def import_queue(
    *,
    acting_user,
    entity: str,
    upload,
    digest: str,
    lines: int,
    reason: str,
    mode: str = ImportMode.CREATE_OR_UPDATE,
    blank_keeps_value: bool = True,
    care_team=None,
    no_care_team: bool = False,
) -> ImportJob:
    """Store a large upload (streamed) and queue its checking for a worker."""
    services.import_admit(
        acting_user=acting_user,
        entity=entity,
        size=upload.size,
        reason=reason,
        care_team=care_team,
    )
    # One import of theirs at a time, as in the request: refused while a worker
    # runs another (the worker takes the lock in turn).
    with one_at_a_time(acting_user):
        job = services.import_job_create(
            acting_user=acting_user,
            entity=entity,
            file_name=upload.name,
            size=upload.size,
            digest=digest,
            mode=mode,
            blank_keeps_value=blank_keeps_value,
            reason=reason,
            care_team=care_team,
            status=ImportJob.Status.QUEUED,
            in_worker=True,
            expected_rows=max(lines - 1, 0),  # the header's line
        )
        # The storage reads the upload's temporary file a chunk at a time.
        services.import_upload_store(job, upload, file_name=upload.name)
    transaction.on_commit(
        lambda: tasks.import_check.delay(job.pk, no_care_team=no_care_team)
    )
    return job


def import_commit_queue(*, acting_user, job: ImportJob) -> ImportJob:
    """Ask a worker to commit a validated import (the request returns at once)."""
    if job.user_id != acting_user.pk or not services.import_allowed(acting_user):
        raise PermissionDenied(services.E_NOT_ALLOWED)
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        if not services._committable(job):
            raise ServiceError(services.E_NOT_COMMITTABLE)
        job.status = ImportJob.Status.TO_COMMIT
        job.committing = True
        job.progress_rows = 0
        job.save(update_fields=["status", "committing", "progress_rows"])
        transaction.on_commit(lambda: tasks.import_commit.delay(job.pk))
    return job


def import_cancel_allowed(*, acting_user, job: ImportJob) -> bool:
    """Whether `acting_user` may cancel `job` now (the page shows the button):
    their own import, not yet committed, and, if running, in a worker (one
    within a request ends with it)."""
    if job.user_id != acting_user.pk or not services.import_allowed(acting_user):
        return False
    if job.status == ImportJob.Status.RUNNING:
        return job.in_worker and not job.cancel_requested
    return job.status in _CANCELLED_AT_ONCE


def import_cancel(*, acting_user, job: ImportJob) -> str:
    """Cancel an import before it is committed: at once if no worker runs it,
    else at the worker's next step (its writing so far rolled back). What the
    user is told."""
    if job.user_id != acting_user.pk or not services.import_allowed(acting_user):
        raise PermissionDenied(services.E_NOT_ALLOWED)
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        if not import_cancel_allowed(acting_user=acting_user, job=job):
            raise ServiceError(E_NOT_CANCELLABLE)
        if job.status == ImportJob.Status.RUNNING:
            job.cancel_requested = True
            job.save(update_fields=["cancel_requested"])
            told = E_CANCEL_ASKED
        else:
            job.status = ImportJob.Status.CANCELLED
            job.cancel_requested = True
            job.finished_at = timezone.now()
            job.preview = []
            job.save(
                update_fields=["status", "cancel_requested", "finished_at", "preview"]
            )
            told = E_CANCELLED.format(job=job.pk)
        audit_object(
            action=Action.UPDATE,
            actor=acting_user,
            obj=job,
            summary=f"cancel import #{job.pk}",
        )
    if job.status == ImportJob.Status.CANCELLED:
        upload_forget(job)
    return told
