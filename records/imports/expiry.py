"""Forgetting what old imports kept of their files (expire_imports), and marking
the exports whose process ended mid-stream."""

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.core.files.storage import default_storage
from django.utils import timezone

from records.imports.job_lock import E_STOPPED, job_message
from records.imports.models import ExportJob, ImportJob

EXPORT_STALE = timedelta(days=1)
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Expired:
    files: int  # uploads deleted from storage
    jobs: int  # imports whose cell values were forgotten


def imports_expire(*, older_than: timedelta) -> Expired:
    """Forget what imports older than `older_than` kept of their files.

    An upload still stored (waiting for a commit; or of an import with errors,
    failed, or whose process ended while it ran) is deleted from storage (the
    import can no longer be committed: upload the file again), an import still
    running is marked failed, and the cell values in an
    import's error list and preview, patient data, are blanked. Who imported
    what, when, the counts, the SHA-256 and the error messages stay.
    """
    cutoff = timezone.now() - older_than
    old = ImportJob.objects.filter(created_at__lt=cutoff)
    files = 0
    for job in old.exclude(stored_as=""):
        default_storage.delete(job.stored_as)  # no error if already gone
        job.stored_as = ""
        if job.status == ImportJob.Status.VALIDATED:
            job.status = ImportJob.Status.EXPIRED
        job.save(update_fields=["stored_as", "status"])
        files += 1
    # Still running after all this time: its process ended without a word.
    old.filter(status=ImportJob.Status.RUNNING).update(
        status=ImportJob.Status.FAILED,
        errors=[job_message(E_STOPPED)],
    )
    jobs = 0
    for job in old.exclude(errors=[], preview=[]).iterator():
        errors = [{**error, "value": ""} for error in job.errors]
        if errors == job.errors and not job.preview:
            continue  # forgotten by an earlier run
        job.errors, job.preview = errors, []
        job.save(update_fields=["errors", "preview"])
        jobs += 1
    # An export streams for minutes at most: one started a day ago and never
    # ended lost its process (killed mid-stream, no chance to say so).
    exports = ExportJob.objects.filter(
        status=ExportJob.Status.STARTED, at__lt=timezone.now() - EXPORT_STALE
    ).update(status=ExportJob.Status.INTERRUPTED)
    if files or jobs or exports:
        logger.info(
            "imports expired",
            extra={
                "files_deleted": files,
                "jobs_cleared": jobs,
                "exports_interrupted": exports,
            },
        )
    return Expired(files=files, jobs=jobs)
