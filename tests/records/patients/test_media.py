"""Uploaded media is accepted by its bytes, and only if its name and size agree."""

import hashlib
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from records.patients import media
from records.patients.media import (
    E_EMPTY,
    E_EXTENSION_MISMATCH,
    E_EXTENSION_MISSING,
    E_NAME_CHARACTER,
    E_NAME_EMPTY,
    E_NAME_HIDDEN,
    E_NAME_PATH,
    E_TOO_LARGE,
    E_UNKNOWN_TYPE,
    MAX_NAME_LENGTH,
    SNIFF_BYTES,
    MediaInfo,
    media_clean_name,
    media_inspect,
    media_sniff,
    sha256_of,
)

DEMO_MEDIA = Path(__file__).resolve().parents[3] / "fixtures" / "demo_media"
MIB = 1024 * 1024
GIB = 1024 * MIB
LIMITS = {"video": 2 * GIB, "image": 20 * MIB, "document": 50 * MIB}


def head_of(filename: str) -> bytes:
    with open(DEMO_MEDIA / filename, "rb") as file:
        return file.read(SNIFF_BYTES)


PNG_HEAD = head_of("sample.png")
PDF_HEAD = head_of("sample.pdf")
WEBM_HEAD = head_of("sample.webm")
JPEG_HEAD = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
MP4_HEAD = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41"
QUICKTIME_FTYP_HEAD = b"\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00qt  "
QUICKTIME_BARE_HEADS = [
    b"\x00\x00\x00\x08wide\x00\x01\x02\x03mdat",
    b"\x00\x00\x01\x00moov\x00\x00\x00\x6cmvhd",
    b"\x00\x00\x00\x08mdat\x00\x00\x00\x00",
    b"\x00\x00\x00\x08free\x00\x00\x00\x00",
]


def inspect(name: str, head: bytes, size: int = 1000) -> MediaInfo:
    return media_inspect(name=name, head=head, size=size, max_bytes=LIMITS)


def refusal(name: str, head: bytes, size: int = 1000) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        inspect(name, head, size)
    return caught.value


def name_refusal(name: str) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        media_clean_name(name)
    return caught.value


def test_demo_files_are_small_and_present():
    for filename in ("sample.png", "sample.pdf", "sample.webm"):
        assert 0 < (DEMO_MEDIA / filename).stat().st_size < 20 * 1024


@pytest.mark.parametrize(
    ("head", "content_type"),
    [
        (PNG_HEAD, "image/png"),
        (PDF_HEAD, "application/pdf"),
        (WEBM_HEAD, "video/webm"),
        (JPEG_HEAD, "image/jpeg"),
        (MP4_HEAD, "video/mp4"),
        (QUICKTIME_FTYP_HEAD, "video/quicktime"),
        *((head, "video/quicktime") for head in QUICKTIME_BARE_HEADS),
    ],
)
def test_allowed_types_are_detected_from_their_bytes(head, content_type):
    assert media_sniff(head) == content_type


def test_only_the_first_sniff_bytes_count():
    # A "webm" DocType beyond the sniffed window proves nothing.
    late_doctype = b"\x1a\x45\xdf\xa3" + b"\x00" * SNIFF_BYTES + b"webm"
    assert media_sniff(late_doctype) is None


@pytest.mark.parametrize(
    "head",
    [
        pytest.param(b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff", id="exe"),
        pytest.param(b"<!DOCTYPE html><html><head><title>x</title>", id="html"),
        pytest.param(b"PK\x03\x04\x14\x00\x00\x00\x08\x00", id="zip"),
        pytest.param(b"GIF89a\x10\x00\x10\x00", id="gif"),
        pytest.param(b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01matroska", id="mkv"),
        pytest.param(b"\x00\x00\x00\x14ftyp", id="truncated-ftyp"),
        pytest.param(b"", id="nothing"),
    ],
)
def test_other_content_is_refused(head):
    assert media_sniff(head) is None
    error = refusal("scan.png", head)
    assert error.message == E_UNKNOWN_TYPE
    assert error.code == "unknown_type"


@pytest.mark.parametrize(
    ("name", "head", "expected"),
    [
        ("clip.webm", WEBM_HEAD, MediaInfo("video/webm", "video", ".webm")),
        ("clip.mp4", MP4_HEAD, MediaInfo("video/mp4", "video", ".mp4")),
        ("clip.m4v", MP4_HEAD, MediaInfo("video/mp4", "video", ".m4v")),
        (
            "clip.mov",
            QUICKTIME_FTYP_HEAD,
            MediaInfo("video/quicktime", "video", ".mov"),
        ),
        ("photo.jpeg", JPEG_HEAD, MediaInfo("image/jpeg", "image", ".jpeg")),
        ("photo.jpg", JPEG_HEAD, MediaInfo("image/jpeg", "image", ".jpg")),
        ("photo.png", PNG_HEAD, MediaInfo("image/png", "image", ".png")),
        ("report.pdf", PDF_HEAD, MediaInfo("application/pdf", "document", ".pdf")),
    ],
)
def test_matching_name_and_content_are_accepted(name, head, expected):
    assert inspect(name, head) == expected


def test_uppercase_extension_is_accepted_and_lower_cased():
    assert inspect("SCAN.PNG", PNG_HEAD) == MediaInfo("image/png", "image", ".png")
    assert inspect("Clip.WebM", WEBM_HEAD).extension == ".webm"


def test_png_named_pdf_is_refused():
    error = refusal("report.pdf", PNG_HEAD)
    assert error.message == E_EXTENSION_MISMATCH.format(
        extension=".pdf", description="a PNG image", expected=".png"
    )
    assert error.code == "extension_mismatch"


def test_video_named_jpg_is_refused():
    error = refusal("photo.jpg", WEBM_HEAD)
    assert error.message == E_EXTENSION_MISMATCH.format(
        extension=".jpg", description="a WebM video", expected=".webm"
    )
    assert error.code == "extension_mismatch"


def test_quicktime_named_mp4_is_refused():
    error = refusal("clip.mp4", QUICKTIME_FTYP_HEAD)
    assert error.message == E_EXTENSION_MISMATCH.format(
        extension=".mp4", description="a QuickTime video", expected=".mov"
    )


def test_unknown_extension_is_a_mismatch():
    error = refusal("photo.txt", JPEG_HEAD)
    assert error.message == E_EXTENSION_MISMATCH.format(
        extension=".txt", description="a JPEG image", expected=".jpg or .jpeg"
    )


@pytest.mark.parametrize("name", ["scan", "scan."])
def test_missing_extension_is_refused(name):
    error = refusal(name, PNG_HEAD)
    assert error.message == E_EXTENSION_MISSING.format(
        description="a PNG image", expected=".png"
    )
    assert error.code == "extension_missing"


def test_empty_file_is_refused():
    error = refusal("scan.png", PNG_HEAD, size=0)
    assert error.message == E_EMPTY
    assert error.code == "empty"


@pytest.mark.parametrize(
    ("name", "head", "kind", "kinds", "limit_text"),
    [
        ("clip.webm", WEBM_HEAD, "video", "videos", "2 GiB"),
        ("photo.png", PNG_HEAD, "image", "images", "20 MiB"),
        ("report.pdf", PDF_HEAD, "document", "documents", "50 MiB"),
    ],
)
def test_size_limit_is_per_kind_and_inclusive(name, head, kind, kinds, limit_text):
    assert inspect(name, head, size=LIMITS[kind]).kind == kind
    error = refusal(name, head, size=LIMITS[kind] + 1)
    assert error.message == E_TOO_LARGE.format(kinds=kinds, limit=limit_text)
    assert error.code == "too_large"


@pytest.mark.parametrize(
    ("limit", "limit_text"),
    [
        (int(1.5 * GIB), "1.5 GiB"),
        # Rounded down, so a file shown as under the limit really is.
        (int(2.99 * MIB), "2.9 MiB"),
        (512 * 1024, "512 KiB"),
        (100, "100 bytes"),
    ],
)
def test_limit_is_shown_human_readable(limit, limit_text):
    with pytest.raises(ValidationError) as caught:
        media_inspect(
            name="photo.png",
            head=PNG_HEAD,
            size=limit + 1,
            max_bytes={**LIMITS, "image": limit},
        )
    assert caught.value.message == E_TOO_LARGE.format(kinds="images", limit=limit_text)


@pytest.mark.parametrize(
    "name",
    [
        "../../etc/passwd.png",
        "a/b.png",
        "a\\b.png",
        "scan..png",
        # NFKC folds the full-width solidus and the two-dot leader into "/" and "..".
        "a\uff0fb.png",
        "\u2025\uff0fscan.png",
        # Dropping the control character would otherwise join the dots.
        "scan.\x07.png",
    ],
)
def test_path_names_are_refused(name):
    error = name_refusal(name)
    assert error.message == E_NAME_PATH
    assert error.code == "name_path"
    assert refusal(name, PNG_HEAD).message == E_NAME_PATH


@pytest.mark.parametrize("name", [".hidden.png", " .hidden.png", "\x01.hidden.png"])
def test_hidden_names_are_refused(name):
    error = name_refusal(name)
    assert error.message == E_NAME_HIDDEN
    assert error.code == "name_hidden"


def test_nul_in_name_is_refused():
    error = name_refusal("x\x00.png")
    assert error.message == E_NAME_CHARACTER
    assert error.code == "name_character"
    assert refusal("x\x00.png", PNG_HEAD).message == E_NAME_CHARACTER


@pytest.mark.parametrize("name", ["", "   ", "\x01\x02", "\u200b"])
def test_empty_names_are_refused(name):
    error = name_refusal(name)
    assert error.message == E_NAME_EMPTY
    assert error.code == "name_empty"


@pytest.mark.parametrize(
    ("name", "cleaned"),
    [
        ("scan\x07\x1b.png", "scan.png"),
        ("  Motor   assessment\t\n week 12 .png  ", "Motor assessment week 12 .png"),
        ("Bayley\u00a04.pdf", "Bayley 4.pdf"),
        ("\uff33\uff43\uff41\uff4e.png", "Scan.png"),
        ("clip\u202egnp.exe", "clipgnp.exe"),
        ("Ärztlicher Befund.pdf", "Ärztlicher Befund.pdf"),
    ],
)
def test_names_are_normalised(name, cleaned):
    assert media_clean_name(name) == cleaned


def test_long_name_is_truncated_keeping_the_extension():
    cleaned = media_clean_name("x" * 300 + ".png")
    assert len(cleaned) == MAX_NAME_LENGTH == 150
    assert cleaned == "x" * 146 + ".png"
    assert inspect("x" * 300 + ".PNG", PNG_HEAD).extension == ".png"


def test_truncation_leaves_no_dangling_space_or_dot():
    cleaned = media_clean_name("x" * 144 + " a.b" + "y" * 100 + ".pdf")
    assert cleaned == "x" * 144 + " a.pdf"
    cleaned = media_clean_name("x" * 145 + " .pdf" + "y" * 100 + ".pdf")
    assert cleaned == "x" * 145 + ".pdf"


def test_cleaning_twice_changes_nothing():
    for name in ("  a\tb .PNG", "x" * 300 + ".png", "\uff33can.pdf"):
        once = media_clean_name(name)
        assert media_clean_name(once) == once


def test_sha256_of_matches_hashlib():
    data = (DEMO_MEDIA / "sample.webm").read_bytes()
    chunks = [data[i : i + 100] for i in range(0, len(data), 100)]
    assert sha256_of(chunks) == hashlib.sha256(data).hexdigest()
    assert sha256_of([]) == hashlib.sha256(b"").hexdigest()


def test_media_info_is_immutable():
    info = inspect("photo.png", PNG_HEAD)
    with pytest.raises(AttributeError):
        info.kind = "video"  # type: ignore[misc]


def test_kind_of_an_unlisted_type_is_a_programming_error():
    with pytest.raises(ValueError):
        media.media_kind("text/html")


@pytest.mark.parametrize("brand", [b"heic", b"mif1", b"avif"])
def test_still_image_brands_are_not_videos(brand):
    head = b"\x00\x00\x00\x18ftyp" + brand + b"\x00\x00\x00\x00" + b"\x00" * 40
    assert media.media_sniff(head) is None
