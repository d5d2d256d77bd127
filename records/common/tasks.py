"""Celery tasks: the scheduled jobs beat runs (CELERY_BEAT_SCHEDULE, ndas/settings.py).
Each calls a service or command that exists on its own, and is recorded
(records.common.schedule)."""

import io
from pathlib import Path

from celery import shared_task
from django.conf import settings
from django.core.management import call_command

from records.common.schedule import run_scheduled


def _command(name: str, *args) -> str:
    """Run a management command; its last line of output is the run's note."""
    out = io.StringIO()
    call_command(name, *args, stdout=out)
    lines = out.getvalue().strip().splitlines()
    return lines[-1] if lines else ""


@shared_task
def expire_imports() -> str:
    """Old imports' uploads and values (daily)."""
    return run_scheduled("expire_imports", lambda: _command("expire_imports")).message


@shared_task
def clear_sessions() -> str:
    """Expired sign-in sessions, which hold recent search terms (daily)."""
    return run_scheduled("clear_sessions", lambda: _command("clearsessions")).message


@shared_task
def verify_audit() -> str:
    """The audit chain, checked against yesterday's head, which it then keeps
    (nightly). A broken chain is a failed run: an error line and the dashboard."""

    def job() -> str:
        head = Path(settings.AUDIT_HEAD_FILE)
        head.parent.mkdir(parents=True, exist_ok=True)
        return _command("verify_audit", "--head-file", str(head))

    return run_scheduled("verify_audit", job).message


@shared_task
def sweep_jobs() -> str:
    """Imports whose worker died, marked failed (every few minutes)."""

    def job() -> str:
        from records.imports.services import imports_sweep

        return f"Stopped imports marked failed: {imports_sweep()}."

    return run_scheduled("sweep_jobs", job).message
