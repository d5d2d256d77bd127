"""Large imports in Celery workers: check a queued file, commit a validated one.

The job's row is the state machine; the task only names it. A task claims its
job under the row's lock, and only from the status that asked for it (queued to
be checked, or to be committed): a task delivered twice, or retried, finds the
job claimed or finished and does nothing, so nothing is committed twice. The
worker holds its user's import lock (job_lock.one_at_a_time) for the whole run:
a worker killed meanwhile leaves the job running with the lock free, and the next
sweep (the user's next import, a re-delivery of the task, expire_imports) marks it
failed; its transaction died with it, so nothing of it was written.
"""

import logging

from celery import shared_task
from celery.signals import worker_init, worker_process_init
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from records.common.errors import ServiceError
from records.imports import services
from records.imports.job_lock import (
    job_message,
    jobs_stopped,
    one_at_a_time,
    upload_forget,
)
from records.imports.job_run import E_FAILED, job_run
from records.imports.engine.runtime import process_tweaks_allow
from records.imports.models import ImportJob
from records.imports.progress import Progress, progress_started

logger = logging.getLogger(__name__)
# Another import of the same user holds their lock: try again after this long.
LOCKED_RETRY_S = 5


@worker_init.connect
@worker_process_init.connect
def _importing_process(**kwargs) -> None:
    """A worker process runs tasks only: the engine's process-wide tweaks are
    for it (never for a web process, whose other requests they would slow)."""
    process_tweaks_allow()


@shared_task(bind=True, acks_late=True, max_retries=None, ignore_result=True)
def import_check(self, job_id: int, no_care_team: bool = False) -> None:
    """Check every row of a queued upload (the preview), as import_validate does."""
    _work(self, job_id, commit=False, no_care_team=no_care_team)


@shared_task(bind=True, acks_late=True, max_retries=None, ignore_result=True)
def import_commit(self, job_id: int) -> None:
    """Write a validated import, all or nothing, as services.import_commit does."""
    _work(self, job_id, commit=True, no_care_team=False)


def _work(task, job_id: int, *, commit: bool, no_care_team: bool) -> None:
    job = ImportJob.objects.select_related("user").filter(pk=job_id).first()
    if job is None:
        return
    if job.status == ImportJob.Status.RUNNING:
        # Delivered again: the worker that ran it died (or still runs it, its
        # lock held: then this does nothing). Swept, it says so; never rerun.
        jobs_stopped(ImportJob.objects.filter(pk=job.pk))
        return
    if job.status != _waiting(commit):
        return  # finished or cancelled: a task delivered again
    locked = False
    try:
        with one_at_a_time(job.user):
            # Holding the lock, the user's jobs left running by a dead worker
            # are now marked failed (this job's, if this is its re-delivery).
            locked = True
            _claimed_run(job_id, commit=commit, no_care_team=no_care_team)
    except ServiceError:
        if locked:
            raise
        # Another import of theirs runs (in another worker, or the web): wait.
        raise task.retry(countdown=LOCKED_RETRY_S) from None


def _waiting(commit: bool) -> str:
    return ImportJob.Status.TO_COMMIT if commit else ImportJob.Status.QUEUED


def _claimed_run(job_id: int, *, commit: bool, no_care_team: bool) -> None:
    with transaction.atomic():
        job = (
            ImportJob.objects.select_for_update(of=("self",))
            .select_related("user", "care_team")
            .get(pk=job_id)
        )
        if job.status != _waiting(commit):
            return
        job.status = ImportJob.Status.RUNNING
        job.save(update_fields=["status"])
        progress_started(job, committing=commit)
    if commit:
        # Validated without a team, new patients were so by the user's choice.
        no_care_team = job.care_team_id is None and job.new > 0
    try:
        with default_storage.open(job.stored_as, "rb") as handle:
            data = handle.read()
    except Exception:
        _failed(job)
        raise
    with Progress(job) as progress:
        job = job_run(
            job, data, commit=commit, progress=progress, no_care_team=no_care_team
        )
    del data
    if job.status == ImportJob.Status.COMMITTED:
        services._audit_import(job)
        upload_forget(job)
    elif job.status == ImportJob.Status.VALIDATED:
        _cancelled_at_the_end(job)
    logger.info(
        "import in worker",
        extra={"job": job.pk, "status": job.status, "rows": job.rows},
    )


def _failed(job: ImportJob) -> None:
    job.status = ImportJob.Status.FAILED
    job.errors = [job_message(E_FAILED)]
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "errors", "finished_at"])


def _cancelled_at_the_end(job: ImportJob) -> None:
    """A cancel asked after the last chunk's progress: validated, but cancelled."""
    with transaction.atomic():
        fresh = ImportJob.objects.select_for_update().get(pk=job.pk)
        if not fresh.cancel_requested or fresh.status != ImportJob.Status.VALIDATED:
            return
        fresh.status = ImportJob.Status.CANCELLED
        fresh.preview = []
        fresh.save(update_fields=["status", "preview"])
    upload_forget(fresh)
