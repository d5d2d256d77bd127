"""Media upload to the S3 endpoint, presigned downloads, refusals that store nothing."""

import hashlib
import io
import re
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File

from records.patients import media as checks
from records.patients import services
from records.patients.models import MediaFile
from records.users import roles
from tests import factories

pytestmark = pytest.mark.django_db
DEMO_MEDIA = Path(__file__).resolve().parents[3] / "fixtures" / "demo_media"


@pytest.fixture
def doctor(make_user):
    return make_user("mediadoc", roles=[roles.CLINICIAN])


@pytest.fixture
def patient(doctor):
    return factories.patient(acting_user=doctor, family_name="Velmarch")


def upload(doctor, patient, name: str, content: bytes, **kwargs) -> MediaFile:
    # A plain File keeps the name exactly as given (Django's upload handling would
    # already reduce "../x" to "x"); the service must refuse it on its own.
    return services.media_upload(
        acting_user=doctor,
        patient=patient,
        uploaded_file=File(io.BytesIO(content), name=name),
        **kwargs,
    )


def bucket_keys(storage) -> list[str]:
    return [o.key for o in storage.bucket.objects.all()]


def test_upload_stores_under_a_generated_key(s3_storage, doctor, patient):
    content = (DEMO_MEDIA / "sample.webm").read_bytes()
    exam = factories.assessment(acting_user=doctor, patient=patient)
    media = upload(doctor, patient, "Velmarch GM video.webm", content, assessment=exam)
    assert re.fullmatch(r"media/[0-9a-f]{32}\.webm", media.file.name)
    assert "Velmarch" not in media.file.name and patient.mrn not in media.file.name
    assert bucket_keys(s3_storage) == [media.file.name]
    assert media.kind == "video" and media.content_type == "video/webm"
    assert media.sha256 == hashlib.sha256(content).hexdigest()
    assert media.size_bytes == len(content) and media.uploaded_by == doctor
    assert media.original_name == "Velmarch GM video.webm"
    assert media.history.get().history_user == doctor


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("letter.pdf", b"MZ\x90\x00 not a pdf", checks.E_UNKNOWN_TYPE),
        (
            "../../etc/passwd.png",
            (DEMO_MEDIA / "sample.png").read_bytes(),
            checks.E_NAME_PATH,
        ),
        ("empty.png", b"", checks.E_EMPTY),
    ],
)
def test_refused_uploads_store_nothing(
    s3_storage, doctor, patient, name, content, message
):
    with pytest.raises(ValidationError) as error:
        upload(doctor, patient, name, content)
    assert error.value.messages == [message]
    assert bucket_keys(s3_storage) == [] and not MediaFile.objects.exists()


def test_oversize_uploads_are_refused(s3_storage, settings, doctor, patient):
    settings.MEDIA_MAX_BYTES = {**settings.MEDIA_MAX_BYTES, "image": 50}
    with pytest.raises(ValidationError) as error:
        upload(doctor, patient, "chart.png", (DEMO_MEDIA / "sample.png").read_bytes())
    assert error.value.code == "too_large"
    assert bucket_keys(s3_storage) == []


def test_extension_must_match_the_bytes(s3_storage, doctor, patient):
    with pytest.raises(ValidationError) as error:
        upload(doctor, patient, "chart.pdf", (DEMO_MEDIA / "sample.png").read_bytes())
    assert error.value.code == "extension_mismatch"


def test_presigned_download_is_short_lived_and_an_attachment(
    s3_storage, doctor, patient
):
    content = (DEMO_MEDIA / "sample.pdf").read_bytes()
    media = upload(doctor, patient, "Velmarch referral.pdf", content)
    url = services.media_download_url(media=media)
    query = parse_qs(urlparse(url).query)
    assert int(query["X-Amz-Expires"][0]) <= 300
    disposition = query["response-content-disposition"][0]
    assert disposition == f'attachment; filename="ndas-document-{media.pk}.pdf"'
    assert "Velmarch" not in url and patient.mrn not in url
    fetched = requests.get(url, timeout=10)
    assert fetched.status_code == 200 and fetched.content == content
    assert fetched.headers["Content-Disposition"].startswith("attachment")
    unsigned = url.split("?")[0]
    assert requests.get(unsigned, timeout=10).status_code == 403


def test_local_storage_has_no_presigned_url(settings, tmp_path, doctor, patient):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path},
        },
    }
    media = upload(doctor, patient, "c.png", (DEMO_MEDIA / "sample.png").read_bytes())
    assert services.media_download_url(media=media) is None
    assert (tmp_path / media.file.name).exists()


def test_media_deletion_removes_the_object_after_commit(
    s3_storage, doctor, make_user, patient, django_capture_on_commit_callbacks
):
    media = upload(doctor, patient, "c.png", (DEMO_MEDIA / "sample.png").read_bytes())
    with pytest.raises(PermissionDenied):
        services.media_delete(acting_user=doctor, media=media, reason="x")
    boss = make_user("mediaboss", roles=[roles.ADMINISTRATOR])
    with django_capture_on_commit_callbacks(execute=True):
        services.media_delete(acting_user=boss, media=media, reason="Wrong patient")
    assert bucket_keys(s3_storage) == []
    assert MediaFile.history.filter(history_type="-").get().history_user == boss
