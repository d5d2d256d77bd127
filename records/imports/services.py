"""Imports as data managers run them: validate, preview, then commit all or nothing."""

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

from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from records.audit.services import audit_object
from records.common.errors import ServiceError
from records.imports.engine import Importer, Options, Writer
from records.imports.entities import ENTITIES
from records.imports.models import ImportJob, ImportMode
from records.imports.parsing import ParseError, read_table
from records.patients.models import Patient, PatientGroupObjectPermission
from records.patients.repositories import opens_every_chart, patients_visible_to
from records.patients.services.access import care_team_check, team_permissions
from records.patients.services.patients import (
    BIRTH_FIELDS,
    assessment_ages_recompute,
)

IMPORT_MAX_BYTES = 200 * 1024 * 1024
REASON_FORMAT = "import #{job}: {reason}"
logger = logging.getLogger(__name__)

E_NOT_ALLOWED = "You may not import spreadsheets."
E_REASON = "Give the reason for this import; it is kept in every record's history."
E_TOO_LARGE = (
    "The file is larger than 200 MB: split it, or use manage.py import_records."
)
E_NOT_COMMITTABLE = "Only a validated import without errors can be committed."
E_UNKNOWN_ENTITY = "Unknown kind of record: {entity}."


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


def _run(job: ImportJob, data: bytes, *, commit: bool, progress=None) -> ImportJob:
    """Validate the whole file (and, committing, write it) and record the outcome."""
    started = time.perf_counter()
    spec = ENTITIES[job.entity]
    importer = Importer(
        spec=spec,
        options=Options(mode=job.mode, blank_keeps_value=job.blank_keeps_value),
        acting_user=job.user,
    )
    try:
        table = read_table(data=data, file_name=job.file_name)
        if commit:
            reason = REASON_FORMAT.format(job=job.pk, reason=job.reason)
            grant = None
            if spec.model is Patient:
                importer.watched = frozenset(BIRTH_FIELDS)
                if job.care_team_id:
                    grant = _team_grants(job, importer.now)
            with transaction.atomic():
                with Writer(importer, reason=reason, on_insert=grant):
                    outcome = importer.run(table, progress)
                    if outcome.invalid:
                        # Raising rolls back what was written: nothing of it stays.
                        raise _Invalid
                # New birth details: the patients' assessments' ages follow, as
                # when a patient is edited in NDAS.
                changed = patients_visible_to(job.user).filter(
                    pk__in=importer.watched_changes
                )
                for patient in changed:
                    assessment_ages_recompute(patient=patient, acting_user=job.user)
        else:
            outcome = importer.run(table, progress)
    except ParseError as error:
        outcome = importer.outcome
        outcome.error(1, "", "", error.message)
    except _Invalid:
        outcome = importer.outcome
    except Exception:
        # The transaction rolled back; the log says the import failed, then the
        # error goes on (to the admin's error page, or the command line).
        job.status = ImportJob.Status.FAILED
        job.duration_ms = int((time.perf_counter() - started) * 1000)
        job.finished_at = timezone.now()
        job.save()
        raise
    for name in ("rows", "new", "changed", "unchanged", "invalid"):
        setattr(job, name, getattr(outcome, name))
    job.errors, job.preview = outcome.errors, outcome.preview
    if outcome.invalid:
        job.status = ImportJob.Status.INVALID
    elif commit:
        job.status = ImportJob.Status.COMMITTED
    else:
        job.status = ImportJob.Status.VALIDATED
    job.duration_ms = int((time.perf_counter() - started) * 1000)
    job.finished_at = timezone.now()
    job.save()
    job.error_rows = outcome.error_rows
    return job


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
    if len(data) > IMPORT_MAX_BYTES:
        raise ServiceError({"file": E_TOO_LARGE})
    if care_team is not None:
        care_team_check(acting_user=acting_user, team=care_team)
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
        status=ImportJob.Status.VALIDATED,
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
) -> ImportJob:
    """Step one in the admin: check every row and keep the file for the commit."""
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
    # A generated key: the file's own name may hold patient names.
    job.stored_as = default_storage.save(
        f"imports/{uuid.uuid4().hex}{suffix}", ContentFile(data)
    )
    return _run(job, data, commit=False)


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
    if not _committable(job):
        raise ServiceError(E_NOT_COMMITTABLE)
    with default_storage.open(job.stored_as, "rb") as handle:
        data = handle.read()
    job = _run(job, data, commit=True)
    if job.status == ImportJob.Status.COMMITTED:
        _audit_import(job)
        stored, job.stored_as = job.stored_as, ""
        job.save(update_fields=["stored_as"])
        default_storage.delete(stored)
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
    dry_run: bool = False,
    progress=None,
) -> ImportJob:
    """Validate and, unless a dry run, commit in one go (the command line's way)."""
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
    job = _run(job, data, commit=not dry_run, progress=progress)
    if job.status == ImportJob.Status.COMMITTED:
        _audit_import(job)
    return job


def _audit_import(job: ImportJob) -> None:
    audit_object(
        action="import",
        actor=job.user,
        obj=job,
        details={
            "entity": job.entity,
            "rows": job.rows,
            "new": job.new,
            "changed": job.changed,
            "sha256": job.sha256,
        },
    )


def import_error_report(*, job: ImportJob) -> bytes:
    """The uploaded rows as CSV with an 'errors' column, to fix and upload again."""
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
        table = read_table(data=data, file_name=job.file_name)
    except ParseError as error:
        writer.writerow(["errors"])
        writer.writerow([error.message])
        return out.getvalue().encode("utf-8-sig")
    rows = list(table.rows)
    importer.run(type(table)(header=table.header, rows=iter(rows)))
    by_row = importer.outcome.error_rows
    writer.writerow([*table.header, "errors"])
    header_errors = by_row.get(1)
    if header_errors:
        writer.writerow([""] * len(table.header) + ["; ".join(header_errors)])
    for number, cells in rows:
        if any(cells):
            writer.writerow([*cells, "; ".join(by_row.get(number, []))])
    return out.getvalue().encode("utf-8-sig")


@dataclass(frozen=True)
class Expired:
    files: int  # uploads deleted from storage
    jobs: int  # imports whose cell values were forgotten


def imports_expire(*, older_than: timedelta) -> Expired:
    """Forget what imports older than `older_than` kept of their files.

    An upload waiting for a commit is deleted from storage (the import can no
    longer be committed: upload the file again), and the cell values in an
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
    jobs = 0
    for job in old.exclude(errors=[], preview=[]).iterator():
        errors = [{**error, "value": ""} for error in job.errors]
        if errors == job.errors and not job.preview:
            continue  # forgotten by an earlier run
        job.errors, job.preview = errors, []
        job.save(update_fields=["errors", "preview"])
        jobs += 1
    if files or jobs:
        logger.info(
            "imports expired", extra={"files_deleted": files, "jobs_cleared": jobs}
        )
    return Expired(files=files, jobs=jobs)
