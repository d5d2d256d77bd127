"""Media previews: the storage origin the CSP allows, the inline presigned link, and
one audited opening per preview (on moto's S3 server)."""

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from botocore.config import Config
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from records.audit.models import AuditEvent
from records.patients import services
from records.patients.services.media_preview import (
    media_preview_csp,
    media_preview_open,
    media_storage_origin,
)
from records.patients.storage import MediaStorage
from records.users import roles
from tests import factories

pytestmark = pytest.mark.django_db
DEMO_MEDIA = Path(__file__).resolve().parents[3] / "fixtures" / "demo_media"
PNG = (DEMO_MEDIA / "sample.png").read_bytes()
PDF = (DEMO_MEDIA / "sample.pdf").read_bytes()
WEBM = (DEMO_MEDIA / "sample.webm").read_bytes()
KEYS = {"access_key": "a", "secret_key": "b"}


def s3(**options) -> MediaStorage:
    return MediaStorage(bucket_name="ndas-media", **KEYS, **options)


@pytest.fixture
def doctor(make_user):
    return make_user("previewdoc", roles=[roles.CLINICIAN])


@pytest.fixture
def patient(doctor):
    return factories.patient(acting_user=doctor, family_name="Quenby")


def upload(doctor, patient, name, content):
    return services.media_upload(
        acting_user=doctor,
        patient=patient,
        uploaded_file=SimpleUploadedFile(name, content),
    )


def events_after(start: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(id__gt=start).order_by("id"))


def last_event_id() -> int:
    event = AuditEvent.objects.order_by("-id").first()
    return event.id if event else 0


def directive(csp: str, name: str) -> list[str]:
    for part in csp.split(";"):
        words = part.split()
        if words and words[0] == name:
            return words[1:]
    return []


# --- the storage origin --------------------------------------------------------------


def test_storage_origin_follows_the_storage_settings():
    # Local files: no origin at all (the CSP stays as settings wrote it).
    assert media_storage_origin(FileSystemStorage(location="/tmp")) is None
    # An S3-compatible store (MinIO, moto) at its endpoint, path-style.
    path_style = Config(s3={"addressing_style": "path"})
    assert (
        media_storage_origin(
            s3(
                endpoint_url="https://store.clinic.example:9000",
                client_config=path_style,
            )
        )
        == "https://store.clinic.example:9000"
    )
    # AWS itself: the bucket's own host in its region.
    virtual = Config(signature_version="s3v4", s3={"addressing_style": "virtual"})
    assert (
        media_storage_origin(s3(region_name="eu-west-2", client_config=virtual))
        == "https://ndas-media.s3.eu-west-2.amazonaws.com"
    )
    # A custom domain (a CDN in front of the bucket) is the origin browsers use.
    assert (
        media_storage_origin(s3(custom_domain="media.clinic.example"))
        == "https://media.clinic.example"
    )


def test_the_csp_names_the_origin_for_media_only():
    assert media_preview_csp(None) == {}
    update = media_preview_csp("https://store.example")
    # img-src is in the settings' policy (the origin is added to it); media-src and
    # frame-src were default-src's ('self'), which they keep.
    assert update == {
        "img-src": ["https://store.example"],
        "media-src": ["'self'", "https://store.example"],
        "frame-src": ["'self'", "https://store.example"],
    }


# --- the link and its audit event ----------------------------------------------------


def test_a_preview_is_an_inline_short_lived_link_and_one_audited_opening(
    s3_storage, s3_endpoint, doctor, patient
):
    media = upload(doctor, patient, "Quenby hand.png", PNG)
    start = last_event_id()
    preview = media_preview_open(acting_user=doctor, media=media)
    assert preview.element == "img" and preview.origin == s3_endpoint
    assert preview.url.startswith(s3_endpoint + "/")
    query = parse_qs(urlsplit(preview.url).query)
    assert int(query["X-Amz-Expires"][0]) <= 300
    assert query["response-content-disposition"] == [
        f'inline; filename="ndas-image-{media.pk}.png"'
    ]
    assert "Quenby" not in preview.url and patient.mrn not in preview.url
    fetched = requests.get(preview.url, timeout=10)
    assert fetched.status_code == 200 and fetched.content == PNG
    assert fetched.headers["Content-Type"] == "image/png"
    assert fetched.headers["Content-Disposition"].startswith("inline")
    [event] = events_after(start)
    assert (event.action, event.object_type, event.object_id) == (
        "download",
        "patients.mediafile",
        str(media.pk),
    )
    assert event.actor == doctor and event.patient_id == patient.pk
    assert event.summary == f"preview media file #{media.pk}"
    assert event.details == {"preview": True, "kind": "image"}


def test_local_files_have_no_preview_and_record_nothing(
    settings, tmp_path, doctor, patient
):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path},
        },
    }
    media = upload(doctor, patient, "c.png", PNG)
    start = last_event_id()
    assert media_preview_open(acting_user=doctor, media=media) is None
    assert events_after(start) == []


# --- the media file's page -----------------------------------------------------------


def test_the_media_page_shows_the_preview_under_a_csp_naming_the_store(
    s3_storage, s3_endpoint, doctor, patient, make_user
):
    media = upload(doctor, patient, "c.png", PNG)
    client = Client()
    client.force_login(doctor)
    url = reverse("admin:patients_mediafile_change", args=[media.pk])
    start = last_event_id()
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="media-preview-image"' in html
    assert f'src="{s3_endpoint}/' in html
    csp = response.headers["Content-Security-Policy"]
    assert directive(csp, "img-src") == ["'self'", "data:", s3_endpoint]
    assert directive(csp, "media-src") == ["'self'", s3_endpoint]
    for other in ("script-src", "style-src", "connect-src", "default-src"):
        assert s3_endpoint not in directive(csp, other)
    # The page's own opening, then the preview's: one each.
    assert [(e.action, e.summary) for e in events_after(start)] == [
        ("view", f"view media file #{media.pk}"),
        ("download", f"preview media file #{media.pk}"),
    ]
    # Each rendering is a new link and a new opening.
    start = last_event_id()
    client.get(url)
    assert [e.action for e in events_after(start)] == ["view", "download"]
    # The list mints no links and keeps the settings' CSP.
    listing = client.get(reverse("admin:patients_mediafile_changelist"))
    assert s3_endpoint not in listing.headers["Content-Security-Policy"]
    assert "X-Amz-Signature" not in listing.content.decode()
    # A chart out of reach: 404, no link, nothing recorded.
    outsider = Client()
    outsider.force_login(make_user("outsider", roles=[roles.CLINICIAN]))
    start = last_event_id()
    assert outsider.get(url).status_code == 404
    assert events_after(start) == []


def test_a_pdf_shows_in_a_frame_and_a_video_in_a_player(
    s3_storage, s3_endpoint, doctor, patient
):
    client = Client()
    client.force_login(doctor)
    pdf = upload(doctor, patient, "letter.pdf", PDF)
    response = client.get(reverse("admin:patients_mediafile_change", args=[pdf.pk]))
    assert 'data-testid="media-preview-pdf"' in response.content.decode()
    csp = response.headers["Content-Security-Policy"]
    assert s3_endpoint in directive(csp, "frame-src")
    assert directive(csp, "object-src") == ["'none'"]
    video = upload(doctor, patient, "clip.webm", WEBM)
    response = client.get(reverse("admin:patients_mediafile_change", args=[video.pk]))
    html = response.content.decode()
    assert 'data-testid="media-preview-video"' in html and "controls" in html


def test_with_local_files_the_page_says_so_and_the_csp_names_no_store(
    settings, tmp_path, doctor, patient
):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path},
        },
    }
    media = upload(doctor, patient, "c.png", PNG)
    client = Client()
    client.force_login(doctor)
    start = last_event_id()
    response = client.get(reverse("admin:patients_mediafile_change", args=[media.pk]))
    html = response.content.decode()
    assert 'data-testid="media-preview-none"' in html
    assert "media-preview-image" not in html
    csp = response.headers["Content-Security-Policy"]
    assert directive(csp, "img-src") == ["'self'", "data:"]
    assert directive(csp, "media-src") == [] and directive(csp, "frame-src") == []
    assert [e.action for e in events_after(start)] == ["view"]
