"""Uploaded media is checked to its end, not by its first bytes alone, and stored as
an attachment of the type it was checked to be (a real S3 endpoint: moto's server)."""

import io
import struct
import zlib
from pathlib import Path

import boto3
import pytest
from django.core.exceptions import ValidationError
from django.core.files import File
from PIL import Image

from records.patients import services
from records.patients.media_structure import (
    E_DAMAGED,
    E_MARKUP,
    R_BAD_CHUNK,
    R_NO_MOVIE,
    R_TOO_MANY_PIXELS,
    R_TRAILING,
    R_TRUNCATED,
    R_UNKNOWN_BOX,
    R_UNREADABLE,
    media_structure_check,
)
from records.users import roles
from tests import factories
from tests.helpers import TEST_BUCKET

pytestmark = pytest.mark.django_db
DEMO_MEDIA = Path(__file__).resolve().parents[2] / "fixtures" / "demo_media"
PNG = (DEMO_MEDIA / "sample.png").read_bytes()
PDF = (DEMO_MEDIA / "sample.pdf").read_bytes()
WEBM = (DEMO_MEDIA / "sample.webm").read_bytes()
HTML = b"<html><body><script>alert(document.cookie)</script></body></html>"


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data)
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


# A tiny MP4 as muxers lay it out: ftyp, then the movie header box (moov, holding
# mvhd), then the media data.
MP4_FTYP = box(b"ftyp", b"isom\x00\x00\x02\x00isomiso2avc1mp41")
MP4_MOOV = box(b"moov", box(b"mvhd", bytes(100)) + box(b"udta", b""))
MP4 = MP4_FTYP + MP4_MOOV + box(b"mdat", bytes(64))


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 16), (120, 40, 200)).save(out, format="JPEG")
    return out.getvalue()


@pytest.fixture
def doctor(make_user):
    return make_user("structdoc", roles=[roles.CLINICIAN])


@pytest.fixture
def patient(doctor):
    return factories.patient(acting_user=doctor, family_name="Velmarch")


@pytest.fixture
def s3_client(s3_endpoint):
    return boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def upload(doctor, patient, name: str, content: bytes):
    return services.media_upload(
        acting_user=doctor,
        patient=patient,
        uploaded_file=File(io.BytesIO(content), name=name),
    )


def refusal(doctor, patient, s3_storage, name: str, content: bytes) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        upload(doctor, patient, name, content)
    assert [o.key for o in s3_storage.bucket.objects.all()] == []  # nothing stored
    return caught.value


def damaged(description: str, reason: str) -> str:
    return E_DAMAGED.format(description=description, reason=reason)


# --- refused through the service, nothing stored -------------------------------------


def test_a_png_header_followed_by_html_is_refused(doctor, patient, s3_storage):
    error = refusal(doctor, patient, s3_storage, "scan.png", PNG[:8] + HTML)
    assert error.code == "damaged"
    assert error.message == damaged("a PNG image", R_BAD_CHUNK)  # no IHDR first


def test_a_whole_png_followed_by_html_is_refused(doctor, patient, s3_storage):
    error = refusal(doctor, patient, s3_storage, "scan.png", PNG + HTML)
    assert error.message == damaged("a PNG image", R_TRAILING)


def test_html_in_a_well_formed_png_chunk_is_refused(doctor, patient, s3_storage):
    # Chunks and CRCs intact, the image decodes: only the markup gives it away.
    iend = PNG.rindex(b"IEND") - 4
    content = PNG[:iend] + png_chunk(b"tEXt", b"Comment\x00" + HTML) + PNG[iend:]
    error = refusal(doctor, patient, s3_storage, "scan.png", content)
    assert error.code == "markup"
    assert error.message == E_MARKUP.format(description="a PNG image")


def test_a_truncated_png_is_refused(doctor, patient, s3_storage):
    error = refusal(doctor, patient, s3_storage, "scan.png", PNG[: len(PNG) // 2])
    assert error.message == damaged("a PNG image", R_TRUNCATED)


def test_a_png_with_a_corrupt_chunk_is_refused(doctor, patient, s3_storage):
    idat = PNG.index(b"IDAT") + 6
    content = PNG[:idat] + bytes([PNG[idat] ^ 0xFF]) + PNG[idat + 1 :]
    error = refusal(doctor, patient, s3_storage, "scan.png", content)
    assert error.message == damaged("a PNG image", R_BAD_CHUNK)


def test_an_image_too_large_to_decode_is_refused(doctor, patient, s3_storage):
    """A small file that would decode to 10^8 pixels is refused before decoding."""
    header = struct.pack(">IIBBBBB", 10_000, 10_000, 8, 2, 0, 0, 0)
    content = (
        PNG[:8]
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(bytes(1000)))
        + png_chunk(b"IEND", b"")
    )
    error = refusal(doctor, patient, s3_storage, "scan.png", content)
    assert error.message == damaged(
        "a PNG image", R_TOO_MANY_PIXELS.format(megapixels=40)
    )


def test_a_jpeg_followed_by_html_is_refused(doctor, patient, s3_storage):
    error = refusal(doctor, patient, s3_storage, "photo.jpg", jpeg() + HTML)
    assert error.message == E_MARKUP.format(description="a JPEG image")
    truncated = jpeg()[:-40]
    error = refusal(doctor, patient, s3_storage, "photo.jpg", truncated)
    assert error.code == "damaged"
    # What phones append after the image (here, a motion photo's video) is not.
    assert upload(doctor, patient, "photo.jpg", jpeg() + MP4).content_type == (
        "image/jpeg"
    )


def test_a_pdf_header_followed_by_html_is_refused(doctor, patient, s3_storage):
    error = refusal(doctor, patient, s3_storage, "report.pdf", b"%PDF-1.4\n" + HTML)
    assert error.message == damaged("a PDF document", R_TRUNCATED)


def test_a_whole_pdf_followed_by_html_is_refused(doctor, patient, s3_storage):
    error = refusal(doctor, patient, s3_storage, "report.pdf", PDF + HTML)
    assert error.message == damaged("a PDF document", R_TRAILING)


def test_html_inside_a_pdf_is_refused(doctor, patient, s3_storage):
    # The page's text swapped for markup of the same length: offsets unchanged,
    # pypdf reads it; only the markup gives it away.
    text = b"NDAS synthetic demo document - not a real patient"
    content = PDF.replace(text, b"<script>alert`x`</script>".ljust(len(text)))
    assert content != PDF
    error = refusal(doctor, patient, s3_storage, "report.pdf", content)
    assert error.code == "markup"
    assert error.message == E_MARKUP.format(description="a PDF document")


def test_a_pdf_whose_structure_is_broken_is_refused(doctor, patient, s3_storage):
    startxref = PDF.rindex(b"startxref")
    for offset in (b"999999", b"20"):  # past the end; not at a table
        content = PDF[:startxref] + b"startxref\n" + offset + b"\n%%EOF\n"
        error = refusal(doctor, patient, s3_storage, "report.pdf", content)
        assert error.message == damaged("a PDF document", R_UNREADABLE)
    # The catalogue names a page tree that is not there.
    content = PDF.replace(b"/Pages 2 0 R", b"/Pages 9 0 R")
    assert content != PDF
    error = refusal(doctor, patient, s3_storage, "report.pdf", content)
    assert error.message == damaged("a PDF document", R_UNREADABLE)


def test_an_mp4_with_a_broken_box_is_refused(doctor, patient, s3_storage):
    # The moov box claims more bytes than the file has.
    broken = MP4_FTYP + struct.pack(">I", 10_000) + MP4_MOOV[4:]
    error = refusal(doctor, patient, s3_storage, "clip.mp4", broken)
    assert error.message == damaged("an MP4 video", R_TRUNCATED)
    # A box too small for its own header.
    broken = MP4_FTYP + struct.pack(">I", 4) + MP4_MOOV[4:]
    error = refusal(doctor, patient, s3_storage, "clip.mp4", broken)
    assert error.message == damaged("an MP4 video", R_BAD_CHUNK)


def test_an_mp4_header_followed_by_html_is_refused(doctor, patient, s3_storage):
    error = refusal(doctor, patient, s3_storage, "clip.mp4", MP4_FTYP + HTML)
    assert error.code == "damaged"
    error = refusal(doctor, patient, s3_storage, "clip.mp4", MP4 + HTML)
    assert error.code == "damaged"


def test_an_mp4_with_an_unknown_box_or_no_movie_is_refused(doctor, patient, s3_storage):
    content = MP4 + box(b"html", HTML)
    error = refusal(doctor, patient, s3_storage, "clip.mp4", content)
    assert error.message == damaged("an MP4 video", R_UNKNOWN_BOX)
    content = MP4_FTYP + box(b"mdat", bytes(64))
    error = refusal(doctor, patient, s3_storage, "clip.mp4", content)
    assert error.message == damaged("an MP4 video", R_NO_MOVIE)
    # A box inside moov that overruns it.
    moov = box(b"moov", struct.pack(">I", 200) + b"mvhd" + bytes(100))
    error = refusal(doctor, patient, s3_storage, "clip.mp4", MP4_FTYP + moov)
    assert error.message == damaged("an MP4 video", R_TRUNCATED)


def test_a_truncated_webm_is_refused(doctor, patient, s3_storage):
    error = refusal(doctor, patient, s3_storage, "clip.webm", WEBM[:-100])
    assert error.message == damaged("a WebM video", R_TRUNCATED)
    error = refusal(doctor, patient, s3_storage, "clip.webm", WEBM + HTML)
    assert error.code == "damaged"


# --- accepted, and stored as an attachment of the checked type -----------------------


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("scan.png", PNG, "image/png"),
        ("photo.jpg", jpeg(), "image/jpeg"),
        ("report.pdf", PDF, "application/pdf"),
        ("clip.mp4", MP4, "video/mp4"),
        # .m4v guesses as video/x-m4v from its name: the checked type is stored.
        ("clip.m4v", MP4, "video/mp4"),
        (
            "clip.mov",
            box(b"ftyp", b"qt  \x00\x00\x02\x00qt  ") + MP4_MOOV,
            "video/quicktime",
        ),
        ("clip.webm", WEBM, "video/webm"),
    ],
)
def test_a_valid_file_is_stored_as_an_attachment_of_its_type(
    doctor, patient, s3_storage, s3_client, name, content, content_type
):
    media = upload(doctor, patient, name, content)
    assert media.content_type == content_type
    head = s3_client.head_object(Bucket=TEST_BUCKET, Key=media.file.name)
    assert head["ContentType"] == content_type
    assert head["ContentDisposition"] == "attachment"
    assert head["ContentLength"] == len(content)


def test_a_large_video_is_walked_without_being_read(tmp_path):
    """A 3 GiB MP4 (sparse on disk): its boxes' headers are read, not its data."""
    path = tmp_path / "long.mp4"
    mdat_size = 3 * 1024**3
    with open(path, "wb") as out:
        out.write(MP4_FTYP + MP4_MOOV)
        out.write(struct.pack(">I4sQ", 1, b"mdat", mdat_size))
        out.seek(len(MP4_FTYP + MP4_MOOV) + mdat_size - 1)
        out.write(b"\x00")

    class Counting(io.FileIO):
        read_bytes = 0

        def read(self, size=-1):
            data = super().read(size)
            Counting.read_bytes += len(data)
            return data

    with Counting(path, "rb") as file:
        media_structure_check(file, "video/mp4")
        assert file.tell() == 0
    assert Counting.read_bytes < 4096


def test_the_admin_shows_a_refused_upload_on_its_form(doctor, patient, s3_storage):
    """The structure checks run in the form too: a reason on the page, not a 500."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client
    from django.urls import reverse

    client = Client()
    client.force_login(doctor)
    client.raise_request_exception = False
    response = client.post(
        reverse("admin:patients_mediafile_add"),
        {
            "patient": patient.pk,
            "file": SimpleUploadedFile(
                "scan.jpg", jpeg() + b"<html><script>x</script>"
            ),
        },
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["file"]
    assert [o.key for o in s3_storage.bucket.objects.all()] == []
