"""Imports as data managers run them: validate, preview, then commit all or nothing.

Who may import and the job each upload becomes are here; the rest, one job a
module, is named here too (their old import path): the user's import lock and
the sweep of dead jobs (job_lock), one run of a job (job_run), the error file
(error_file) and the expiry of old uploads (expiry).
"""

import hashlib
import uuid
from pathlib import PurePosixPath

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from records.audit.models import Action
from records.audit.services import audit_object
from records.common.errors import ServiceError
from records.imports.entities import ENTITIES
from records.imports.error_file import import_error_report  # noqa: F401
from records.imports.expiry import EXPORT_STALE, Expired, imports_expire  # noqa: F401
from records.imports.job_lock import (  # noqa: F401
    E_RUNNING,
    E_STOPPED,
    IMPORT_LOCK,
    import_lock_held,
    imports_sweep,
    job_message,
    jobs_stopped,
    one_at_a_time,
    upload_forget,
)
from records.imports.job_run import (  # noqa: F401
    E_FAILED,
    OUTCOME_FIELDS,
    REASON_FORMAT,
    job_run,
)
from records.imports.models import ImportJob, ImportMode
from records.imports.teams import import_team_check
from records.patients.repositories import opens_every_chart

STORED_SUFFIXES = (".csv", ".txt", ".xlsx")

E_NOT_ALLOWED = "You may not import spreadsheets."
E_REASON = "Give the reason for this import; it is kept in every record's history."
E_TOO_LARGE = "The file is larger than {limit}: split it into smaller files."
E_NOT_COMMITTABLE = "Only a validated import without errors can be committed."
E_UNKNOWN_ENTITY = "Unknown kind of record: {entity}."

# The names these had before they moved to a module of their own.
_one_at_a_time = one_at_a_time
_jobs_stopped = jobs_stopped
_import_lock_held = import_lock_held
_upload_forget = upload_forget
_run = job_run


def too_large_message() -> str:
    return E_TOO_LARGE.format(limit=f"{settings.IMPORT_MAX_BYTES / 1024**2:,.0f} MB")


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


def import_admit(*, acting_user, entity: str, size: int, reason: str, care_team):
    """Whether `acting_user` may import `size` bytes of `entity` for `reason`
    (and give new patients to `care_team`): refused with the reason, if not."""
    _check(acting_user, entity, reason)
    if size > settings.IMPORT_MAX_BYTES:
        raise ServiceError({"file": too_large_message()})
    if care_team is not None:
        import_team_check(acting_user=acting_user, team=care_team)


def import_job_create(
    *,
    acting_user,
    entity: str,
    file_name: str,
    size: int,
    digest: str,
    mode: str,
    blank_keeps_value: bool,
    reason: str,
    care_team,
    **state,
) -> ImportJob:
    """The job of an admitted upload (see import_admit), in the `state` given
    (its status: never taken for a validated one until its outcome is known)."""
    return ImportJob.objects.create(
        user=acting_user,
        entity=entity,
        file_name=PurePosixPath(file_name).name[:200],
        size_bytes=size,
        sha256=digest,
        mode=mode,
        blank_keeps_value=blank_keeps_value,
        reason=reason.strip(),
        care_team=care_team,
        same_file_as=ImportJob.objects.filter(sha256=digest, entity=entity)
        .order_by("-created_at")
        .first(),
        **state,
    )


def import_upload_store(job: ImportJob, content, *, file_name: str) -> None:
    """Keep a job's upload for its commit, under a generated key (the file's own
    name may hold patient names); the job is failed if it cannot be kept."""
    suffix = PurePosixPath(file_name).suffix.lower()
    # A known one only: the name is the client's (".x" and 250 more letters
    # would make a key longer than stored_as holds).
    suffix = suffix if suffix in STORED_SUFFIXES else ""
    try:
        job.stored_as = default_storage.save(
            f"imports/{uuid.uuid4().hex}{suffix}", content
        )
    except Exception:
        job.status = ImportJob.Status.FAILED
        job.errors = [job_message(E_FAILED)]
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "errors", "finished_at"])
        raise
    job.save(update_fields=["stored_as"])


def _new_job(
    *, acting_user, entity, file_name, data, mode, blank_keeps_value, reason, care_team
) -> ImportJob:
    import_admit(
        acting_user=acting_user,
        entity=entity,
        size=len(data),
        reason=reason,
        care_team=care_team,
    )
    return import_job_create(
        acting_user=acting_user,
        entity=entity,
        file_name=file_name,
        size=len(data),
        digest=hashlib.sha256(data).hexdigest(),
        mode=mode,
        blank_keeps_value=blank_keeps_value,
        reason=reason,
        care_team=care_team,
        status=ImportJob.Status.RUNNING,
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
    with one_at_a_time(acting_user):
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
        # Saved before the checking starts: if the worker dies meanwhile, the
        # job is left running and expire_imports deletes the upload.
        import_upload_store(job, ContentFile(data), file_name=file_name)
        return job_run(job, data, commit=False, no_care_team=no_care_team)


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
    with one_at_a_time(acting_user):
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
        job = job_run(job, data, commit=True, no_care_team=no_care_team)
        if job.status == ImportJob.Status.COMMITTED:
            _audit_import(job)
            upload_forget(job)
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
    with one_at_a_time(acting_user):
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
