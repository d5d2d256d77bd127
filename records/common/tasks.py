"""Celery tasks of records.common, run by beat (CELERY_BEAT_SCHEDULE, ndas/settings.py).
The other scheduled jobs are their apps' own: records.audit.tasks.verify_audit,
records.imports.job_tasks (old imports and exports, the sweep of stopped jobs)."""

from celery import shared_task

from records.common.schedule import run_command, run_scheduled


@shared_task
def clear_sessions() -> str:
    """Expired sign-in sessions, which hold recent search terms (daily)."""
    return run_scheduled("clear_sessions", lambda: run_command("clearsessions")).message
