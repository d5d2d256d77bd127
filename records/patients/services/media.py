"""Media files of a chart: checked by content, stored under generated keys, shared by
short-lived links."""

from pathlib import PurePosixPath

from django.conf import settings
from django.core.files import File
from django.db import transaction

from records.audit.services import audit_object
from records.common.services import history_delete, history_note
from records.patients import media as checks
from records.patients.media_structure import media_structure_check
from records.patients.models import Assessment, MediaFile, Patient
from records.patients.services.access import chart_write_check
from records.patients.services.lifecycle import delete_permission_check


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
    uploaded_file.seek(0)
    head = uploaded_file.read(checks.SNIFF_BYTES)
    uploaded_file.seek(0)
    info = checks.media_inspect(
        name=uploaded_file.name or "",
        head=head,
        size=uploaded_file.size,
        max_bytes=settings.MEDIA_MAX_BYTES,
    )
    # The whole file, not only its first bytes: no HTML after a PNG header.
    media_structure_check(uploaded_file, info.content_type)
    digest = checks.sha256_of(uploaded_file.chunks())
    uploaded_file.seek(0)
    name = checks.media_clean_name(uploaded_file.name)
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
    try:
        with transaction.atomic():
            media.save()  # stores the object, then inserts the row
            audit_object(
                action="create",
                actor=acting_user,
                obj=media,
                details={"kind": media.kind, "size_bytes": media.size_bytes},
            )
    except Exception:
        # No row, no object: do not leave an unreferenced file in the bucket.
        if media.file.name:
            media.file.storage.delete(media.file.name)
        raise
    return media


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
