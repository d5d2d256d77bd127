"""Celery tasks of imports and exports besides the import tasks themselves
(records.imports.tasks): building a large export, and the scheduled jobs that
clean up after both. Registered by CELERY_IMPORTS (ndas/settings.py); the
scheduled ones are recorded (records.common.schedule)."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings

from records.common.schedule import run_command, run_scheduled
from records.imports import export_jobs, services


@shared_task
def build_export(job_id: int) -> str:
    """A large export's file (records.imports.export_jobs): built at most once,
    however often the task is delivered."""
    return export_jobs.export_build(job_id)


@shared_task
def expire_imports() -> str:
    """Old imports' uploads and values, and old exports' files (daily)."""

    def job() -> str:
        note = run_command("expire_imports")
        keep = timedelta(days=settings.EXPORT_KEEP_DAYS)
        files = export_jobs.exports_expire(older_than=keep)
        return f"{note} Export files deleted: {files}."

    return run_scheduled("expire_imports", job).message


@shared_task
def sweep_jobs() -> str:
    """Imports and exports whose worker died, marked failed (every few minutes)."""

    def job() -> str:
        imports, exports = services.imports_sweep(), export_jobs.exports_sweep()
        return f"Stopped imports marked failed: {imports}; exports: {exports}."

    return run_scheduled("sweep_jobs", job).message
