"""A clinician opens a media file's page: the image shows in the page, from the S3
store's presigned link (moto's server), under the CSP, with no violation."""

import io
import os
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from playwright.sync_api import expect

from records.audit.models import AuditEvent
from records.patients import services
from records.users import roles
from tests import factories
from tests.helpers import TEST_PASSWORD, second_step

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SCREENSHOTS = Path(os.environ.get("MEDIA_PREVIEW_SCREENSHOTS", "/tmp/ndas-e2e"))
DEMO_MEDIA = Path(__file__).resolve().parents[2] / "fixtures" / "demo_media"


def photo() -> bytes:
    """A 320 x 200 PNG: big enough to see on the screenshot."""
    out = io.BytesIO()
    image = Image.new("RGB", (320, 200), (147, 51, 234))
    image.paste((250, 204, 21), (40, 40, 280, 160))
    image.save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def clinician_media(make_user, s3_storage):
    doctor = make_user("clinician", roles=[roles.CLINICIAN], first_name="Demo")
    patient = factories.patient(acting_user=doctor, family_name="Orvell")

    def upload(name: str, content: bytes):
        return services.media_upload(
            acting_user=doctor,
            patient=patient,
            uploaded_file=SimpleUploadedFile(name, content),
        )

    return upload


def sign_in(page, live_server):
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", "clinician")
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("button[type=submit]")
    second_step(page, "clinician")
    expect(page).to_have_url(f"{live_server.url}/admin/")


def test_an_image_preview_renders_under_the_csp(
    live_server, page, clinician_media, s3_endpoint
):
    media = clinician_media("Orvell rash.png", photo())
    messages = []
    page.on("console", lambda message: messages.append(message.text))
    sign_in(page, live_server)
    before = AuditEvent.objects.filter(action="download").count()
    page.goto(f"{live_server.url}/admin/patients/mediafile/{media.pk}/change/")
    image = page.get_by_test_id("media-preview-image")
    expect(image).to_be_visible()
    assert image.get_attribute("src").startswith(s3_endpoint + "/")
    page.wait_for_function(
        "el => el.complete", arg=image.element_handle(), timeout=10_000
    )
    assert image.evaluate("el => el.naturalWidth") == 320
    assert image.evaluate("el => el.naturalHeight") == 200
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "media_preview_image.png"), full_page=True)
    assert not [m for m in messages if "Content Security Policy" in m], messages
    assert AuditEvent.objects.filter(action="download").count() == before + 1


def test_a_pdf_preview_loads_in_its_frame_under_the_csp(
    live_server, page, clinician_media, s3_endpoint
):
    media = clinician_media("letter.pdf", (DEMO_MEDIA / "sample.pdf").read_bytes())
    messages = []
    page.on("console", lambda message: messages.append(message.text))
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/admin/patients/mediafile/{media.pk}/change/")
    frame = page.get_by_test_id("media-preview-pdf")
    expect(frame).to_be_visible()
    assert frame.get_attribute("src").startswith(s3_endpoint + "/")
    page.wait_for_timeout(1500)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "media_preview_pdf.png"), full_page=True)
    assert not [m for m in messages if "Content Security Policy" in m], messages


def test_a_video_preview_loads_in_its_player_under_the_csp(
    live_server, page, clinician_media, s3_endpoint
):
    media = clinician_media("clip.webm", (DEMO_MEDIA / "sample.webm").read_bytes())
    messages = []
    page.on("console", lambda message: messages.append(message.text))
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/admin/patients/mediafile/{media.pk}/change/")
    video = page.get_by_test_id("media-preview-video")
    expect(video).to_be_visible()
    assert video.get_attribute("src").startswith(s3_endpoint + "/")
    # The player read the file's header from the store (HAVE_METADATA or more).
    page.wait_for_function(
        "el => el.readyState >= 1 || el.error",
        arg=video.element_handle(),
        timeout=10_000,
    )
    assert video.evaluate("el => el.error") is None
    assert video.evaluate("el => el.readyState") >= 1
    assert not [m for m in messages if "Content Security Policy" in m], messages
