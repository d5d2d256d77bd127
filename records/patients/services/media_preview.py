"""Media shown in the page: a short-lived presigned link per preview, each one an
audited opening of the file, and the storage origin the page's CSP must allow."""

from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.files.storage import Storage

from records.audit.models import Action
from records.audit.services import audit_object
from records.patients import media as checks
from records.patients.models import MediaFile
from records.patients.services.access import break_glass_use_record
from records.patients.services.media import media_download_name

# How each checked type is shown: an image, a video with its controls, a PDF in
# the browser's own viewer (an iframe: Chromium shows a PDF there under frame-src,
# where <embed>/<object> would need object-src opened as well).
PREVIEW_ELEMENT = {
    checks.JPEG: "img",
    checks.PNG: "img",
    checks.MP4: "video",
    checks.WEBM: "video",
    # Chromium plays a QuickTime file only when its codecs are MP4's; the page
    # says so beside the player and offers the download.
    checks.QUICKTIME: "video",
    checks.PDF: "pdf",
}
# The CSP directives a preview needs, and only those: the origin is never a
# source of scripts, styles, fonts or connections.
PREVIEW_DIRECTIVES = ("img-src", "media-src", "frame-src")


@dataclass(frozen=True)
class MediaPreview:
    url: str
    element: str  # img, video or pdf
    origin: str  # scheme://host[:port] of the url, for the page's CSP


def media_storage_origin(storage: Storage) -> str | None:
    """The origin a browser fetches stored media from, or None for local files.

    Asked of the storage itself, as configured in settings (AWS_S3_ENDPOINT_URL, a
    custom domain, the bucket's region and addressing style): botocore signs a link
    to a probe key, without a request, exactly as it signs the real ones, so the
    origin cannot drift from the links it must allow.
    """
    if not hasattr(storage, "bucket_name"):
        return None
    parts = urlsplit(storage.url("origin-probe", expire=1))
    return f"{parts.scheme}://{parts.netloc}"


def media_preview_csp(origin: str | None) -> dict[str, list[str]]:
    """What a preview page adds to the settings' CSP (django-csp's _csp_update):
    the storage origin in the preview's directives. A directive the settings leave
    to default-src also keeps default-src's sources, so that naming the origin
    takes nothing else away."""
    if not origin:
        return {}
    directives = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
    fallback = list(directives.get("default-src", []))
    return {
        name: ([] if name in directives else fallback) + [origin]
        for name in PREVIEW_DIRECTIVES
    }


def media_preview_url(*, media: MediaFile) -> str | None:
    """A presigned link that shows the file inline, as its checked type, valid for
    MEDIA_URL_EXPIRY_SECONDS; None when the storage cannot sign (local files).

    The key is random and the file name neutral (ndas-image-12.png): nothing in
    the link names the patient.
    """
    storage = media.file.storage
    if not hasattr(storage, "bucket_name"):
        return None
    return storage.url(
        media.file.name,
        parameters={
            "ResponseContentDisposition": (
                f'inline; filename="{media_download_name(media)}"'
            ),
            "ResponseContentType": media.content_type,
        },
        expire=settings.MEDIA_URL_EXPIRY_SECONDS,
    )


def media_preview_open(*, acting_user, media: MediaFile) -> MediaPreview | None:
    """Mint the preview's link and record the opening, as a download is recorded
    (one audit event per preview; counted against an emergency grant too).

    `media` must come from records.patients.repositories (media_get), which has
    checked that the user may open the chart. None, and nothing recorded, for a
    type that is not shown or a store that cannot sign.
    """
    element = PREVIEW_ELEMENT.get(media.content_type)
    if element is None:
        return None
    url = media_preview_url(media=media)
    if url is None:
        return None
    break_glass_use_record(
        user=acting_user, patient_id=media.patient_id, action="mediafile preview"
    )
    audit_object(
        action=Action.DOWNLOAD,
        actor=acting_user,
        obj=media,
        summary=f"preview media file #{media.pk}",
        details={"preview": True, "kind": media.kind},
    )
    return MediaPreview(
        url=url, element=element, origin=media_storage_origin(media.file.storage)
    )
