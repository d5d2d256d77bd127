"""How far an import running in a worker got, and its user's cancel.

The worker tells the job's row how many rows it has checked (or written), at most
once every PROGRESS_EVERY_S, on a database connection of its own in autocommit:
the import's own transaction stays open until the commit ends, and what it wrote
would be seen by nobody until then. The same statement reads whether the user
asked to cancel, so the worker stops between two chunks (raising Cancelled: the
commit's transaction rolls back; nothing is written).

The import page polls progress_summary (through a small JSON view): counts and
times only, never a cell of the file.
"""

import time

from django.conf import settings
from django.db import connection
from django.utils import timezone

from records.imports.models import ImportJob

# The statuses a worker has yet to finish: the page keeps polling.
WAITING = frozenset(
    {
        ImportJob.Status.QUEUED,
        ImportJob.Status.RUNNING,
        ImportJob.Status.TO_COMMIT,
    }
)
_UPDATE = (
    f'UPDATE "{ImportJob._meta.db_table}" SET "progress_rows" = %s, '
    '"progress_at" = now() WHERE "id" = %s RETURNING "cancel_requested"'
)


class Cancelled(Exception):
    """The user cancelled the import while it ran: nothing of it is kept."""


class Progress:
    """The `progress` of job_run.job_run for a job in a worker: called with the
    rows done after each chunk."""

    def __init__(self, job: ImportJob, *, every: float | None = None):
        self.job_id = job.pk
        self.every = settings.IMPORT_PROGRESS_EVERY_S if every is None else every
        self._last = time.monotonic()
        self._connection = None

    def __call__(self, rows: int) -> None:
        now = time.monotonic()
        if now - self._last < self.every:
            return
        self._last = now
        if self._connection is None:
            # Django's settings for it (the database, its options, the time zone).
            self._connection = connection.get_new_connection(
                connection.get_connection_params()
            )
            self._connection.autocommit = True
        with self._connection.cursor() as cursor:
            cursor.execute(_UPDATE, [rows, self.job_id])
            told = cursor.fetchone()
        if told and told[0]:
            raise Cancelled

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def progress_started(job: ImportJob, *, committing: bool) -> None:
    """The worker took the job: rows count from nought again."""
    now = timezone.now()
    job.committing = committing
    job.progress_rows = 0
    job.progress_started_at = job.progress_at = now
    job.save(
        update_fields=[
            "committing",
            "progress_rows",
            "progress_started_at",
            "progress_at",
        ]
    )


def progress_summary(job: ImportJob) -> dict:
    """What the import page shows while a worker runs the job (no patient data)."""
    done = job.status not in WAITING
    rows = job.progress_rows
    # Committing, the rows to write are the ones checked; checking, the file's
    # lines are what is known.
    total = job.rows if job.committing and job.rows else job.expected_rows
    rate = seconds_left = None
    if job.status == ImportJob.Status.RUNNING and job.progress_started_at:
        elapsed = (job.progress_at - job.progress_started_at).total_seconds()
        if rows and elapsed > 0:
            rate = rows / elapsed
            if total > rows:
                seconds_left = round((total - rows) / rate)
            else:
                seconds_left = 0
    if job.status == ImportJob.Status.RUNNING:
        step = "Writing the rows" if job.committing else "Checking the rows"
    else:
        step = job.get_status_display()
    return {
        "status": job.status,
        "step": step,
        "done": done,
        "rows": rows,
        "total": total,
        "rows_per_second": round(rate) if rate is not None else None,
        "seconds_left": seconds_left,
        "cancel_requested": job.cancel_requested,
    }
