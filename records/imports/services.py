"""Imports as data managers run them: validate, preview, then commit all or nothing.

Why one module past 500 lines: the job states (running, validated, failed), the
user's import lock and the sweep of dead jobs must change together; splitting
them (with the exports and the error file) is part of the restructure (issue #14).
"""

import csv
import hashlib
import io
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import PurePosixPath
from typing import Any

from contextlib import contextmanager

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from records.audit.models import Action
from records.audit.services import audit_object
from records.common.errors import ServiceError
from records.imports.engine.checker import Importer
from records.imports.engine.outcome import Options
from records.imports.engine.writer import Writer
from records.imports.entities import ENTITIES
from records.imports.error_column import ERROR_COLUMN, is_error_column
from records.imports.exports import escape_cell
from records.imports.models import ExportJob, ImportJob, ImportMode
from records.imports.parsing import ParseError, read_table
from records.imports.progress import Cancelled
from records.imports.teams import import_team_check, new_patients_team_refused
from records.patients.models import Patient, PatientGroupObjectPermission
from records.patients.repositories import opens_every_chart, patients_visible_to
from records.patients.services.access import team_permissions
from records.patients.services.patients import (
    GROWTH_FIELDS,
    assessment_ages_recompute,
    growth_details_changed,
)

EXPORT_STALE = timedelta(days=1)
STORED_SUFFIXES = (".csv", ".txt", ".xlsx")
REASON_FORMAT = "import #{job}: {reason}"
logger = logging.getLogger(__name__)

E_NOT_ALLOWED = "You may not import spreadsheets."
E_REASON = "Give the reason for this import; it is kept in every record's history."
E_TOO_LARGE = "The file is larger than {limit}: split it into smaller files."
E_RUNNING = "Another import of yours is running: try again once it has finished."
E_STOPPED = (
    "The import stopped before it finished (its server process ended); nothing "
    "was written. Upload the file again."
)
E_FAILED = (
    "The file could not be checked because of an error on the server; nothing "
    "was written. Try again, or tell the administrators."
)
E_NOT_COMMITTABLE = "Only a validated import without errors can be committed."
E_UNKNOWN_ENTITY = "Unknown kind of record: {entity}."
# What an import's run saves: every field but those that others write meanwhile
# (a worker's progress, a cancel asked; records.imports.progress).
OUTCOME_FIELDS = [
    f.name
    for f in ImportJob._meta.concrete_fields
    if not f.primary_key
    and f.name not in {"progress_rows", "progress_at", "cancel_requested"}
]


# pg_try_advisory_lock(IMPORT_LOCK, user id): one import at a time per user. A
# session lock: a worker that dies releases it with its connection.
IMPORT_LOCK = 0x4E44494D  # "NDIM"


def too_large_message() -> str:
    return E_TOO_LARGE.format(limit=f"{settings.IMPORT_MAX_BYTES / 1024**2:,.0f} MB")


@contextmanager
def _one_at_a_time(user):
    """Holds the user's import lock, or refuses: each import holds a file (up to
    IMPORT_MAX_BYTES) and its checking in memory, so a user runs one at a time."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [IMPORT_LOCK, user.pk])
        (locked,) = cursor.fetchone()
    if not locked:
        raise ServiceError(E_RUNNING)
    # Holding the lock, no other import of this user runs: a job of theirs still
    # marked running lost its process (killed, or its database went away).
    _jobs_stopped(ImportJob.objects.filter(user=user))
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


def import_allowed(user) -> bool:
    """Importers write any chart a file names (the engine looks MRNs up in every
    chart), so they must be allowed to open every chart too."""
    return user.has_perm("imports.import_records") and opens_every_chart(user)


def _check(acting_user, entity: str, reason: str) -> None:
    if not import_allowed(acting_user):
        raise PermissionDenied(E_NOT_ALLOWED)
    if entity not in ENTITIES:
        raise ServiceError(E_UNKNOWN_ENTITY.format(entity=entity))
    if not (reason or "").strip():
        raise ServiceError({"reason": E_REASON})


def _run(
    job: ImportJob, data: bytes, *, commit: bool, progress=None, no_care_team=False
) -> ImportJob:
    """Validate the whole file (and, committing, write it) and record the outcome.
    New patients without a care team need `no_care_team`, the user's choice."""
    started = time.perf_counter()
    spec = ENTITIES[job.entity]
    importer = Importer(
        spec=spec,
        options=Options(mode=job.mode, blank_keeps_value=job.blank_keeps_value),
        acting_user=job.user,
    )
    failed = False
    try:
        table = read_table(data=data, file_name=job.file_name)
        if commit:
            reason = REASON_FORMAT.format(job=job.pk, reason=job.reason)
            grant = None
            if spec.model is Patient:
                importer.watched = frozenset(GROWTH_FIELDS)
                if job.care_team_id:
                    grant = _team_grants(job, importer.now)
            with transaction.atomic():
                with Writer(importer, reason=reason, on_insert=grant):
                    outcome = importer.run(table, progress)
                    refused = new_patients_team_refused(job, outcome, no_care_team)
                    if outcome.invalid or refused:
                        # Raising rolls back what was written: nothing of it stays.
                        raise _Invalid
                # New birth details, sex or growth reference: the patients'
                # assessments' ages and visits' growth figures follow, as when a
                # patient is edited in NDAS.
                changed = patients_visible_to(job.user).filter(
                    pk__in=importer.watched_changes
                )
                for patient in changed:
                    assessment_ages_recompute(patient=patient, acting_user=job.user)
                    growth_details_changed.send(
                        sender=Patient, patient=patient, acting_user=job.user
                    )
        else:
            outcome = importer.run(table, progress)
            new_patients_team_refused(job, outcome, no_care_team)
    except ParseError as error:
        # The file cannot be read (to its end): failed, with the reason.
        outcome = importer.outcome
        outcome.error(1, "", "", error.message)
        failed = True
    except _Invalid:
        outcome = importer.outcome
    except Cancelled:
        # Its user cancelled it in a worker (records.imports.progress): the
        # transaction rolled back; the upload is not kept.
        job.status = ImportJob.Status.CANCELLED
        job.preview = []
        job.duration_ms = int((time.perf_counter() - started) * 1000)
        job.finished_at = timezone.now()
        job.save(update_fields=OUTCOME_FIELDS)
        _upload_forget(job)
        return job
    except Exception:
        # The transaction rolled back; the log says the import failed, then the
        # error goes on (to the admin's error page, or the command line).
        job.status = ImportJob.Status.FAILED
        job.errors = [{"row": 1, "column": "", "value": "", "message": E_FAILED}]
        job.preview = []
        job.duration_ms = int((time.perf_counter() - started) * 1000)
        job.finished_at = timezone.now()
        if _save_after_failure(job):
            _upload_forget(job)
        raise
    for name in ("rows", "new", "changed", "unchanged", "invalid"):
        setattr(job, name, getattr(outcome, name))
    job.errors, job.preview = outcome.errors, outcome.preview
    job.notes = outcome.notes
    if failed:
        job.status = ImportJob.Status.FAILED
        job.new = job.changed = job.unchanged = 0  # nothing can be written
        job.preview = []
    elif outcome.invalid:
        job.status = ImportJob.Status.INVALID
    elif commit:
        job.status = ImportJob.Status.COMMITTED
    else:
        job.status = ImportJob.Status.VALIDATED
    job.duration_ms = int((time.perf_counter() - started) * 1000)
    job.finished_at = timezone.now()
    job.save(update_fields=OUTCOME_FIELDS)  # not a cancel asked meanwhile
    if failed:
        _upload_forget(job)  # nothing to commit, nor to fix row by row
    job.error_rows = outcome.error_rows
    return job


def _upload_forget(job: ImportJob) -> None:
    """Delete a job's stored upload (if any): it will never be committed."""
    if job.stored_as:
        stored, job.stored_as = job.stored_as, ""
        job.save(update_fields=["stored_as"])
        default_storage.delete(stored)


def _save_after_failure(job: ImportJob) -> bool:
    """Record a failed job, on a fresh connection if the failure was the
    connection's (a database restart): whether it was recorded. If it cannot be,
    the job stays running until a sweep (_jobs_stopped) marks it failed."""
    try:
        job.save(update_fields=OUTCOME_FIELDS)
        return True
    except DatabaseError:
        if connection.in_atomic_block:  # a caller's transaction: nothing to retry
            return False
        connection.close()
    try:
        job.save(update_fields=OUTCOME_FIELDS)
        return True
    except DatabaseError:
        logger.error("import #%s failed and could not be marked so", job.pk)
        return False


def _jobs_stopped(jobs) -> int:
    """Mark failed the `jobs` still running whose process is gone: their user's
    import lock is free (a session lock, released when its connection ends).
    Their uploads are deleted: upload the file again."""
    stopped = 0
    running = jobs.filter(status=ImportJob.Status.RUNNING).order_by("pk")
    for job in running.select_related(None):
        if _import_lock_held(job.user_id):
            continue
        job.status = ImportJob.Status.FAILED
        job.errors = [{"row": 1, "column": "", "value": "", "message": E_STOPPED}]
        job.preview = []
        job.finished_at = job.finished_at or timezone.now()
        job.save(update_fields=["status", "errors", "preview", "finished_at"])
        _upload_forget(job)
        stopped += 1
    return stopped


def _import_lock_held(user_id: int) -> bool:
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
    return _jobs_stopped(ImportJob.objects.all())


class _Invalid(Exception):
    pass


def _team_grants(job: ImportJob, now) -> Callable[[Any, list[int]], None]:
    """What gives new patients to the job's care team: grants and their history,
    set-based, on the import writer's cursor, for each chunk of new patients."""
    permissions = list(team_permissions().values_list("pk", flat=True))
    table = PatientGroupObjectPermission._meta.db_table
    history = PatientGroupObjectPermission.history.model._meta.db_table
    statement = f"""
        WITH granted AS (
            INSERT INTO "{table}" ("group_id", "permission_id", "content_object_id")
            SELECT %(group)s, p, u FROM unnest(%(patients)s::bigint[]) AS u
            CROSS JOIN unnest(%(permissions)s::integer[]) AS p
            RETURNING *
        )
        INSERT INTO "{history}" ("id", "group_id", "permission_id",
            "content_object_id", "history_date", "history_change_reason",
            "history_type", "history_user_id")
        SELECT "id", "group_id", "permission_id", "content_object_id", %(now)s,
            %(reason)s, '+', %(user)s FROM granted
    """
    params = {
        "group": job.care_team.group_id,
        "permissions": permissions,
        "now": now,
        "reason": REASON_FORMAT.format(job=job.pk, reason=job.reason),
        "user": job.user_id,
    }

    def grant(cursor, patient_ids: list[int]) -> None:
        cursor.execute(statement, {**params, "patients": patient_ids})

    return grant


def _new_job(
    *, acting_user, entity, file_name, data, mode, blank_keeps_value, reason, care_team
) -> ImportJob:
    _check(acting_user, entity, reason)
    if len(data) > settings.IMPORT_MAX_BYTES:
        raise ServiceError({"file": too_large_message()})
    if care_team is not None:
        import_team_check(acting_user=acting_user, team=care_team)
    digest = hashlib.sha256(data).hexdigest()
    return ImportJob.objects.create(
        user=acting_user,
        entity=entity,
        file_name=PurePosixPath(file_name).name[:200],
        size_bytes=len(data),
        sha256=digest,
        mode=mode,
        blank_keeps_value=blank_keeps_value,
        reason=reason.strip(),
        care_team=care_team,
        # Until its outcome is known: never taken for a validated one.
        status=ImportJob.Status.RUNNING,
        same_file_as=ImportJob.objects.filter(sha256=digest, entity=entity)
        .order_by("-created_at")
        .first(),
    )


def import_validate(
    *,
    acting_user,
    entity: str,
    file_name: str,
    data: bytes,
    reason: str,
    mode: str = ImportMode.CREATE_OR_UPDATE,
    blank_keeps_value: bool = True,
    care_team=None,
    no_care_team: bool = False,
) -> ImportJob:
    """Step one in the admin: check every row and keep the file for the commit.
    Without a care team, new patients need `no_care_team` (see teams.py)."""
    with _one_at_a_time(acting_user):
        job = _new_job(
            acting_user=acting_user,
            entity=entity,
            file_name=file_name,
            data=data,
            mode=mode,
            blank_keeps_value=blank_keeps_value,
            reason=reason,
            care_team=care_team,
        )
        suffix = PurePosixPath(file_name).suffix.lower()
        # A known one only: the name is the client's (".x" and 250 more letters
        # would make a key longer than stored_as holds).
        suffix = suffix if suffix in STORED_SUFFIXES else ""
        try:
            # A generated key: the file's own name may hold patient names.
            job.stored_as = default_storage.save(
                f"imports/{uuid.uuid4().hex}{suffix}", ContentFile(data)
            )
        except Exception:
            job.status = ImportJob.Status.FAILED
            job.errors = [{"row": 1, "column": "", "value": "", "message": E_FAILED}]
            job.finished_at = timezone.now()
            job.save()
            raise
        # Saved before the checking starts: if the worker dies meanwhile, the
        # job is left running and expire_imports deletes the upload.
        job.save(update_fields=["stored_as"])
        return _run(job, data, commit=False, no_care_team=no_care_team)


def _committable(job: ImportJob) -> bool:
    """Validated without errors, and its upload still kept."""
    return job.status == ImportJob.Status.VALIDATED and bool(job.stored_as)


def import_commit_allowed(*, acting_user, job: ImportJob) -> bool:
    """Whether `acting_user` may commit `job` now (the admin shows the button)."""
    return (
        job.user_id == acting_user.pk
        and import_allowed(acting_user)
        and _committable(job)
    )


def import_commit(*, acting_user, job: ImportJob) -> ImportJob:
    """Step two: validate again (the records may have changed) and write it all."""
    if job.user_id != acting_user.pk or not import_allowed(acting_user):
        raise PermissionDenied(E_NOT_ALLOWED)
    with _one_at_a_time(acting_user):
        job.refresh_from_db()  # a commit from another tab may have just ended
        if not _committable(job):
            raise ServiceError(E_NOT_COMMITTABLE)
        with default_storage.open(job.stored_as, "rb") as handle:
            data = handle.read()
        # New patients validated without a team were so by the user's choice
        # (validation refuses them otherwise), shown in the report they commit.
        no_care_team = job.care_team_id is None and job.new > 0
        # Committing, in the database before the commit starts: a process that
        # dies now leaves a running job (swept to failed), never a validated one
        # that looks ready to commit.
        job.status = ImportJob.Status.RUNNING
        job.save(update_fields=["status"])
        job = _run(job, data, commit=True, no_care_team=no_care_team)
        if job.status == ImportJob.Status.COMMITTED:
            _audit_import(job)
            _upload_forget(job)
    return job


def import_file(
    *,
    acting_user,
    entity: str,
    file_name: str,
    data: bytes,
    reason: str,
    mode: str = ImportMode.CREATE_OR_UPDATE,
    blank_keeps_value: bool = True,
    care_team=None,
    no_care_team: bool = False,
    dry_run: bool = False,
    progress=None,
) -> ImportJob:
    """Validate and, unless a dry run, commit in one go (the command line's way).
    Without a care team, new patients need `no_care_team` (see teams.py)."""
    with _one_at_a_time(acting_user):
        job = _new_job(
            acting_user=acting_user,
            entity=entity,
            file_name=file_name,
            data=data,
            mode=mode,
            blank_keeps_value=blank_keeps_value,
            reason=reason,
            care_team=care_team,
        )
        job = _run(
            job,
            data,
            commit=not dry_run,
            progress=progress,
            no_care_team=no_care_team,
        )
        if job.status == ImportJob.Status.COMMITTED:
            _audit_import(job)
    return job


def _audit_import(job: ImportJob) -> None:
    audit_object(
        action=Action.IMPORT,
        actor=job.user,
        obj=job,
        details={
            "entity": job.entity,
            "rows": job.rows,
            "new": job.new,
            "changed": job.changed,
            "sha256": job.sha256,
            # Who may open the new charts: this team, or (None) no team.
            "care_team": job.care_team_id,
        },
    )


def import_report_read(*, acting_user, job: ImportJob) -> None:
    """The report page shows cell values of the file (errors, a preview of the
    changes): patient data, read as a chart is read, one audit event a view."""
    audit_object(
        action=Action.VIEW,
        actor=acting_user,
        obj=job,
        summary=f"view report of import #{job.pk}",
    )


def import_error_report(*, acting_user, job: ImportJob) -> bytes:
    """The uploaded rows as CSV with an 'errors' column, to fix and upload again.

    The cells are escaped as exports escape them (a cell of the upload may be a
    formula), the file is read twice rather than held as rows, and the download
    is an audit event naming the job. Checking the file again is an import's
    work: it counts as the user's one import running."""
    with _one_at_a_time(acting_user):
        data = _error_file(job)
    audit_object(
        action=Action.DOWNLOAD,
        actor=acting_user,
        obj=job,
        summary=f"download error file of import #{job.pk}",
    )
    return data


def _error_file(job: ImportJob) -> bytes:
    with default_storage.open(job.stored_as, "rb") as handle:
        data = handle.read()
    spec = ENTITIES[job.entity]
    importer = Importer(
        spec=spec,
        options=Options(mode=job.mode, blank_keeps_value=job.blank_keeps_value),
        acting_user=job.user,
    )
    out = io.StringIO()
    writer = csv.writer(out)
    try:
        importer.run(read_table(data=data, file_name=job.file_name))
        table = read_table(data=data, file_name=job.file_name)
        by_row = importer.outcome.error_rows
        # An error file uploaded again: its old error column gives way to the new.
        kept = [i for i, text in enumerate(table.header) if not is_error_column(text)]
        header = [table.header[i] for i in kept]
        writer.writerow([*map(escape_cell, header), ERROR_COLUMN])
        header_errors = by_row.get(1)
        if header_errors:
            writer.writerow([""] * len(header) + [_joined(header_errors)])
        for number, cells in table.rows:
            if len(kept) < len(table.header):
                cells = _without_error_column(cells, kept, len(table.header))
            if any(cells):
                errors = _joined(by_row.get(number, []))
                writer.writerow([*map(escape_cell, cells), errors])
    except ParseError as error:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow([ERROR_COLUMN])
        writer.writerow([escape_cell(error.message)])
    return out.getvalue().encode("utf-8-sig")


def _without_error_column(cells: list[str], kept: list[int], width: int):
    """A row's cells but those of its (old) error column, in the header's places."""
    return [cells[i] if i < len(cells) else "" for i in kept] + cells[width:]


def _joined(errors: list[str]) -> str:
    return escape_cell("; ".join(errors))


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
        errors=[{"row": 1, "column": "", "value": "", "message": E_STOPPED}],
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
