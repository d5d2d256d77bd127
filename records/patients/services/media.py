"""Media files of a chart: checked by content, stored under generated keys, shared by
short-lived links."""

import logging
import threading
from pathlib import PurePosixPath

from boto3.exceptions import Boto3Error
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage
from django.db import connection, transaction

from records.audit.models import Action
from records.audit.services import audit_object
from records.common.errors import ServiceError
from records.common.services import history_note
from records.patients import media as checks
from records.patients.media_structure import media_structure_check
from records.patients.models import Assessment, MediaFile, Patient
from records.patients.services.access import chart_write_check
from records.patients.services.lifecycle import (
    delete_permission_check,
    history_delete,
)

logger = logging.getLogger(__name__)

E_STORAGE_UNAVAILABLE = (
    "The file could not be stored: the file store is not answering. Nothing was "
    "saved. Please try again in a few minutes."
)
# What a store that cannot be reached, times out or refuses raises (S3 or local disk).
STORAGE_ERRORS = (BotoCoreError, ClientError, Boto3Error, OSError)
# pg_advisory_xact_lock(MEDIA_UPLOAD_LOCK, patient id): one upload of a chart at a
# time decides whether its bytes are already there ("NDMU").
MEDIA_UPLOAD_LOCK = 0x4E444D55


def media_file_check(uploaded_file: File):
    """Every check of an upload by its bytes, name and size (ValidationError with
    the reason): its type from its first bytes, then its whole structure (no HTML
    after a PNG header). Forms call it to show the reason on the form."""
    uploaded_file.seek(0)
    head = uploaded_file.read(checks.SNIFF_BYTES)
    uploaded_file.seek(0)
    info = checks.media_inspect(
        name=uploaded_file.name or "",
        head=head,
        size=uploaded_file.size,
        max_bytes=settings.MEDIA_MAX_BYTES,
    )
    media_structure_check(uploaded_file, info.content_type)
    uploaded_file.seek(0)
    return info


def media_upload(
    *,
    acting_user,
    patient: Patient,
    uploaded_file: File,
    assessment: Assessment | None = None,
    description: str = "",
    instance: MediaFile | None = None,
) -> MediaFile:
    """Check the file by its bytes, name and size, then store it under a new key.

    `instance` is an unsaved MediaFile to fill (the admin's own object), if any.
    """
    chart_write_check(acting_user=acting_user, instance=MediaFile(patient=patient))
    info = media_file_check(uploaded_file)
    digest = checks.sha256_of(uploaded_file.chunks())
    uploaded_file.seek(0)
    name = checks.media_clean_name(uploaded_file.name)
    # The same bytes for the same assessment (or chart) again, as when an upload that
    # seemed to fail is tried again: the file already stored is the answer.
    existing = _same_upload(patient=patient, assessment=assessment, digest=digest)
    if existing is not None:
        return _as_instance(existing, instance)
    media = instance or MediaFile()
    media.patient = patient
    media.assessment = assessment
    media.kind = info.kind
    media.content_type = info.content_type
    media.original_name = name
    media.size_bytes = uploaded_file.size
    media.sha256 = digest
    media.description = description
    media.uploaded_by = acting_user
    stored = File(uploaded_file, name=name)
    # Stored as this type (records.patients.storage), not the browser's word.
    stored.content_type = info.content_type
    media.file = stored
    media.full_clean()
    history_note(media, user=acting_user, reason="Uploaded")
    storage = media.file.storage
    # Stored first, outside any lock: a long upload holds up no one.
    key = _store(media)
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_advisory_xact_lock(%s, %s)",
                    [MEDIA_UPLOAD_LOCK, patient.pk],
                )
            existing = _same_upload(
                patient=patient, assessment=assessment, digest=digest
            )
            if existing is None:
                media.save()  # the object is stored: this inserts the row
                audit_object(
                    action=Action.CREATE,
                    actor=acting_user,
                    obj=media,
                    details={"kind": media.kind, "size_bytes": media.size_bytes},
                )
    except Exception:
        # No row, no object: do not leave an unreferenced file in the bucket.
        _discard(storage, key)
        raise
    if existing is not None:  # stored meanwhile by a second click: keep one copy
        _discard(storage, key)
        return _as_instance(existing, instance)
    return media


def _same_upload(
    *, patient: Patient, assessment: Assessment | None, digest: str
) -> MediaFile | None:
    return (
        MediaFile.objects.filter(patient=patient, assessment=assessment, sha256=digest)
        .order_by("pk")
        .first()
    )


def _as_instance(existing: MediaFile, instance: MediaFile | None) -> MediaFile:
    """`existing`, or the caller's unsaved `instance` made into it (the admin goes on
    to show the object it passed)."""
    if instance is None:
        return existing
    for field in MediaFile._meta.concrete_fields:
        setattr(instance, field.attname, getattr(existing, field.attname))
    instance._state.adding = False
    instance._state.db = existing._state.db
    return instance


def _store(media: MediaFile) -> str:
    """Store the file under a generated key (never its name); return the key.

    Every S3 call has its timeouts and tries (settings: S3_*), so a store that hangs
    fails the upload in bounded time, with a message, and nothing saved.
    """
    field = MediaFile._meta.get_field("file")
    storage = media.file.storage
    key = field.generate_filename(media, media.file.name)
    try:
        key = storage.save(key, media.file.file, max_length=field.max_length)
    except STORAGE_ERRORS as error:
        logger.warning(
            "media upload failed: storage",
            extra={"key": key, "error": type(error).__name__},
        )
        # A request that timed out may still be completed by the store: remove the
        # key, in the background, so the user is not kept waiting twice.
        threading.Thread(target=_discard, args=(storage, key), daemon=True).start()
        raise ServiceError(E_STORAGE_UNAVAILABLE, code="storage_unavailable") from error
    media.file = key
    return key


def _discard(storage: Storage, key: str) -> None:
    """Delete a stored object by its key; a failure is logged, never raised (the
    upload's own error, if any, is the one to report)."""
    try:
        storage.delete(key)
    except Exception as error:
        logger.warning(
            "media object not removed",
            extra={"key": key, "error": type(error).__name__},
        )


def media_download_name(media: MediaFile) -> str:
    """A neutral name for the saved file: the original name may hold a patient's name,
    and this one travels in the (logged, shareable) download URL."""
    suffix = PurePosixPath(media.file.name).suffix
    return f"ndas-{media.kind}-{media.pk}{suffix}"


def media_download_url(*, media: MediaFile) -> str | None:
    """A presigned URL that downloads the file as an attachment, valid for at most
    five minutes; None when the storage cannot sign (local files in development)."""
    storage = media.file.storage
    if not hasattr(storage, "bucket_name"):
        return None
    disposition = f'attachment; filename="{media_download_name(media)}"'
    return storage.url(
        media.file.name,
        parameters={
            "ResponseContentDisposition": disposition,
            "ResponseContentType": media.content_type,
        },
        expire=settings.MEDIA_URL_EXPIRY_SECONDS,
    )


@transaction.atomic
def media_delete(*, acting_user, media: MediaFile, reason: str) -> None:
    """Administrators only: the row goes (history stays), then the stored object."""
    delete_permission_check(instance=media, acting_user=acting_user)
    name, storage = media.file.name, media.file.storage
    history_delete(instance=media, acting_user=acting_user, reason=reason)
    transaction.on_commit(lambda: storage.delete(name))
