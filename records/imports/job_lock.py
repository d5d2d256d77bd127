"""One import at a time per user (a PostgreSQL advisory lock), and the sweep of
the jobs whose process ended while they ran."""

from contextlib import contextmanager

from django.core.files.storage import default_storage
from django.db import DatabaseError, connection
from django.utils import timezone

from records.common.errors import ServiceError
from records.imports.models import ImportJob

E_RUNNING = "Another import of yours is running: try again once it has finished."
E_STOPPED = (
    "The import stopped before it finished (its server process ended); nothing "
    "was written. Upload the file again."
)

# pg_try_advisory_lock(IMPORT_LOCK, user id): one import at a time per user. A
# session lock: a worker that dies releases it with its connection.
IMPORT_LOCK = 0x4E44494D  # "NDIM"


def job_message(text: str) -> dict:
    """A job's error list entry for the whole file (not one of its cells)."""
    return {"row": 1, "column": "", "value": "", "message": text}


@contextmanager
def one_at_a_time(user):
    """Holds the user's import lock, or refuses: each import holds a file (up to
    IMPORT_MAX_BYTES) and its checking in memory, so a user runs one at a time."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [IMPORT_LOCK, user.pk])
        (locked,) = cursor.fetchone()
    if not locked:
        raise ServiceError(E_RUNNING)
    # Holding the lock, no other import of this user runs: a job of theirs still
    # marked running lost its process (killed, or its database went away).
    jobs_stopped(ImportJob.objects.filter(user=user))
    try:
        yield
    finally:
        try:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_advisory_unlock(%s, %s)", [IMPORT_LOCK, user.pk]
                )
        except DatabaseError:  # the connection is gone, and the lock with it
            connection.close()


def upload_forget(job: ImportJob) -> None:
    """Delete a job's stored upload (if any): it will never be committed."""
    if job.stored_as:
        stored, job.stored_as = job.stored_as, ""
        job.save(update_fields=["stored_as"])
        default_storage.delete(stored)


def jobs_stopped(jobs) -> int:
    """Mark failed the `jobs` still running whose process is gone: their user's
    import lock is free (a session lock, released when its connection ends).
    Their uploads are deleted: upload the file again."""
    stopped = 0
    running = jobs.filter(status=ImportJob.Status.RUNNING).order_by("pk")
    for job in running.select_related(None):
        if import_lock_held(job.user_id):
            continue
        job.status = ImportJob.Status.FAILED
        job.errors = [job_message(E_STOPPED)]
        job.preview = []
        job.finished_at = job.finished_at or timezone.now()
        job.save(update_fields=["status", "errors", "preview", "finished_at"])
        upload_forget(job)
        stopped += 1
    return stopped


def import_lock_held(user_id: int) -> bool:
    """Whether a session other than this one holds the user's import lock."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' "
            "AND classid = %s AND objid = %s AND granted "
            "AND pid <> pg_backend_pid())",
            [IMPORT_LOCK, user_id],
        )
        return cursor.fetchone()[0]


def imports_sweep() -> int:
    """Running imports whose process is gone, of every user, marked failed."""
    return jobs_stopped(ImportJob.objects.all())
