"""The scheduled jobs' runs: each recorded (ScheduledRun), a failure logged as an
error line to alert on and shown to administrators on their dashboard."""

import io
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from django.core.management import call_command
from django.db import DatabaseError
from django.utils import timezone

from records.common.models import ScheduledRun

logger = logging.getLogger("ndas.schedule")

# The alert line's message: one string to search the logs for.
FAILED = "scheduled job FAILED"
# Runs older than this are deleted when a job runs (a run a day, each job).
KEEP_RUNS = timedelta(days=90)
# The dashboard looks this far back by default.
RECENT = timedelta(days=7)
MESSAGE_CHARS = 500

# What each job is called on the dashboard (plain words, never a task's name).
JOB_NAMES = {
    "expire_imports": "Expiring old imports and exports",
    "clear_sessions": "Removing expired sign-in sessions",
    "verify_audit": "Checking the audit trail",
    "sweep_jobs": "Marking stopped imports and exports failed",
}


def run_scheduled(task: str, job: Callable[[], str | None]) -> ScheduledRun:
    """Run `job` (what it returns is the run's note), recording the run. A failure
    is recorded and logged, never raised: beat runs the job again next time."""
    run = ScheduledRun.objects.create(task=task, started_at=timezone.now())
    try:
        note = job() or ""
    except Exception as error:  # every failure is the administrators' to see
        message = _message(error)
        logger.error(FAILED, extra={"job": task, "error": message})
        run.succeeded, run.message = False, message
    else:
        run.succeeded, run.message = True, note[:MESSAGE_CHARS]
    run.finished_at = timezone.now()
    try:
        run.save(update_fields=["succeeded", "message", "finished_at"])
    except DatabaseError:
        # The job's own failure may have been the database: the log line stands.
        logger.error(FAILED, extra={"job": task, "error": "run not recorded"})
        return run
    ScheduledRun.objects.filter(
        task=task, started_at__lt=run.started_at - KEEP_RUNS
    ).delete()
    return run


def run_command(name: str, *args) -> str:
    """Run a management command; its last line of output is the run's note."""
    out = io.StringIO()
    call_command(name, *args, stdout=out)
    lines = out.getvalue().strip().splitlines()
    return lines[-1] if lines else ""


def _message(error: Exception) -> str:
    """The error's own words (the jobs' messages name ids and counts, never a
    patient), or its type when it has none."""
    text = " ".join(str(error).split()) or type(error).__name__
    return text[:MESSAGE_CHARS]


def failed_scheduled_jobs(since: datetime | None = None) -> list[ScheduledRun]:
    """Each job's last run, when it failed and started after `since` (a week ago
    by default): what the dashboard shows administrators. A job that ran well
    after it failed is no longer listed."""
    since = since or timezone.now() - RECENT
    latest = (
        ScheduledRun.objects.filter(started_at__gte=since, succeeded__isnull=False)
        .order_by("task", "-started_at", "-pk")
        .distinct("task")
    )
    failed = [run for run in latest if run.succeeded is False]
    for run in failed:
        run.job_name = JOB_NAMES.get(run.task, run.task)
    return sorted(failed, key=lambda run: run.started_at, reverse=True)
