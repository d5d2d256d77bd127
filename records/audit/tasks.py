"""Celery tasks of the audit trail, run by beat (CELERY_BEAT_SCHEDULE)."""

from pathlib import Path

from celery import shared_task
from django.conf import settings

from records.common.schedule import run_command, run_scheduled


@shared_task
def verify_audit() -> str:
    """The audit chain, checked against the head the last run kept, which it then
    keeps (nightly). A broken chain is a failed run: an error line in the log and
    the administrators' dashboard."""

    def job() -> str:
        head = Path(settings.AUDIT_HEAD_FILE)
        head.parent.mkdir(parents=True, exist_ok=True)
        return run_command("verify_audit", "--head-file", str(head))

    return run_scheduled("verify_audit", job).message
