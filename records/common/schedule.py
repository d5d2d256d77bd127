"""The scheduled jobs' runs: each recorded (ScheduledRun), a failure logged as an
error line to alert on and shown to administrators on their dashboard."""

import io
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.management import call_command
from django.db import DatabaseError
from django.utils import timezone

from records.common.display import show_datetime
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


# A job whose last run started longer ago than its period and this is overdue:
# beat (or its worker) is not running.
OVERDUE_GRACE = timedelta(hours=2)
E_OVERDUE = "Has not run since {when}: check that beat is running."


def job_periods() -> dict[str, timedelta]:
    """How often each job runs (CELERY_BEAT_SCHEDULE)."""
    day = timedelta(days=1)
    return {
        "expire_imports": day,
        "clear_sessions": day,
        "verify_audit": day,
        "sweep_jobs": timedelta(seconds=settings.JOB_SWEEP_SECONDS),
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
    failed += overdue_scheduled_jobs(exclude={run.task for run in failed})
    for run in failed:
        run.job_name = JOB_NAMES.get(run.task, run.task)
    return sorted(failed, key=lambda run: run.started_at, reverse=True)


def overdue_scheduled_jobs(*, exclude=frozenset()) -> list[ScheduledRun]:
    """Jobs that have run before but not within their period (and some grace):
    their last run, its message saying so (not saved). A job that never ran is
    not listed (a new installation)."""
    now = timezone.now()
    last = (
        ScheduledRun.objects.exclude(task__in=exclude)
        .order_by("task", "-started_at", "-pk")
        .distinct("task")
    )
    overdue = []
    for run in last:
        period = job_periods().get(run.task)
        if period is not None and run.started_at < now - period - OVERDUE_GRACE:
            run.succeeded = False
            run.message = E_OVERDUE.format(when=show_datetime(run.started_at))
            overdue.append(run)
    return overdue
