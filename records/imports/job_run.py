"""One run of an import job: the whole file checked (and, committing, written,
all or nothing) and its outcome recorded on the job."""

import logging
import time
from collections.abc import Callable
from typing import Any

from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from records.imports.engine.checker import Importer
from records.imports.engine.outcome import Options
from records.imports.engine.writer import Writer
from records.imports.entities import ENTITIES
from records.imports.job_lock import job_message, upload_forget
from records.imports.models import ImportJob
from records.imports.parsing import ParseError, read_table
from records.imports.progress import Cancelled
from records.imports.teams import new_patients_team_refused
from records.patients.models import Patient, PatientGroupObjectPermission
from records.patients.repositories import patients_visible_to
from records.patients.services.access import team_permissions
from records.patients.services.patients import (
    GROWTH_FIELDS,
    assessment_ages_recompute,
    growth_details_changed,
)

REASON_FORMAT = "import #{job}: {reason}"
logger = logging.getLogger(__name__)

E_FAILED = (
    "The file could not be checked because of an error on the server; nothing "
    "was written. Try again, or tell the administrators."
)
# What an import's run saves: every field but those that others write meanwhile
# (a worker's progress, a cancel asked; records.imports.progress).
OUTCOME_FIELDS = [
    f.name
    for f in ImportJob._meta.concrete_fields
    if not f.primary_key
    and f.name not in {"progress_rows", "progress_at", "cancel_requested"}
]


def importer_for(job: ImportJob) -> Importer:
    """The engine set to check `job`'s file as the job asks."""
    return Importer(
        spec=ENTITIES[job.entity],
        options=Options(mode=job.mode, blank_keeps_value=job.blank_keeps_value),
        acting_user=job.user,
    )


def job_run(
    job: ImportJob, data: bytes, *, commit: bool, progress=None, no_care_team=False
) -> ImportJob:
    """Validate the whole file (and, committing, write it) and record the outcome.
    New patients without a care team need `no_care_team`, the user's choice."""
    started = time.perf_counter()
    spec = ENTITIES[job.entity]
    importer = importer_for(job)
    failed = False
    try:
        table = read_table(data=data, file_name=job.file_name)
        if commit:
            reason = REASON_FORMAT.format(job=job.pk, reason=job.reason)
            grant = None
            if spec.model is Patient:
                importer.watched = frozenset(GROWTH_FIELDS)
                if job.care_team_id:
                    grant = team_grants(job, importer.now)
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
        upload_forget(job)
        return job
    except Exception:
        # The transaction rolled back; the log says the import failed, then the
        # error goes on (to the admin's error page, or the command line).
        job.status = ImportJob.Status.FAILED
        job.errors = [job_message(E_FAILED)]
        job.preview = []
        job.duration_ms = int((time.perf_counter() - started) * 1000)
        job.finished_at = timezone.now()
        if save_after_failure(job):
            upload_forget(job)
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
        upload_forget(job)  # nothing to commit, nor to fix row by row
    job.error_rows = outcome.error_rows
    return job


def save_after_failure(job: ImportJob) -> bool:
    """Record a failed job, on a fresh connection if the failure was the
    connection's (a database restart): whether it was recorded. If it cannot be,
    the job stays running until a sweep (job_lock.jobs_stopped) marks it failed."""
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


class _Invalid(Exception):
    pass


def team_grants(job: ImportJob, now) -> Callable[[Any, list[int]], None]:
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
