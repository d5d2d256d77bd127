"""Checks an uploaded clinical media file by its content, size and name."""

import hashlib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from types import MappingProxyType

from django.core.exceptions import ValidationError

# Every signature below is decided within this many leading bytes; callers read
# exactly this much before the rest of the upload is streamed to storage.
SNIFF_BYTES = 64
MAX_NAME_LENGTH = 150

MP4 = "video/mp4"
QUICKTIME = "video/quicktime"
WEBM = "video/webm"
JPEG = "image/jpeg"
PNG = "image/png"
PDF = "application/pdf"

# The browser's and the user's word for a type is never trusted; the name only has
# to agree with what the bytes say, so a renamed file cannot pass as another kind.
CONTENT_TYPE_BY_EXTENSION: MappingProxyType[str, str] = MappingProxyType(
    {
        ".mp4": MP4,
        ".m4v": MP4,
        ".mov": QUICKTIME,
        ".webm": WEBM,
        ".jpg": JPEG,
        ".jpeg": JPEG,
        ".png": PNG,
        ".pdf": PDF,
    }
)

# Wording for the messages below: what staff would call the file, and the
# extensions that would have been accepted for it.
_DESCRIPTION: MappingProxyType[str, str] = MappingProxyType(
    {
        MP4: "an MP4 video",
        QUICKTIME: "a QuickTime video",
        WEBM: "a WebM video",
        JPEG: "a JPEG image",
        PNG: "a PNG image",
        PDF: "a PDF document",
    }
)


def content_type_name(content_type: str) -> str:
    """What staff call a stored type: 'PDF document' for application/pdf."""
    text = _DESCRIPTION.get(content_type)
    return text.split(" ", 1)[1] if text else content_type


_KIND_PLURAL: MappingProxyType[str, str] = MappingProxyType(
    {"video": "videos", "image": "images", "document": "documents"}
)

E_NAME_EMPTY = "The file has no name. Give it a name and upload it again."
E_NAME_CHARACTER = (
    "The file name contains a hidden character that is not allowed. "
    "Rename the file and upload it again."
)
E_NAME_PATH = (
    'The file name must not contain "/", "\\" or "..". '
    "Rename the file and upload it again."
)
E_NAME_HIDDEN = (
    "The file name must not start with a dot. Rename the file and upload it again."
)
E_UNKNOWN_TYPE = (
    "This file is not an allowed type: MP4, QuickTime, WebM, JPEG, PNG or PDF."
)
E_EXTENSION_MISSING = (
    "The file name has no extension. The file is {description}, "
    "so rename it to end in {expected} and upload it again."
)
E_EXTENSION_MISMATCH = (
    "The file name ends in {extension}, but the file is {description}. "
    "Rename it to end in {expected} and upload it again."
)
E_EMPTY = "This file is empty (0 bytes). Check the original and upload it again."
E_TOO_LARGE = "This file is too large: {kinds} can be at most {limit}."

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_JPEG_MAGIC = b"\xff\xd8\xff"
_PDF_MAGIC = b"%PDF-"
_EBML_MAGIC = b"\x1a\x45\xdf\xa3"
# Old QuickTime files have no ftyp box and open straight on one of these atoms.
_QUICKTIME_FIRST_ATOMS = frozenset({b"moov", b"mdat", b"wide", b"free"})
# ISO still-image brands share the ftyp box with MP4: a HEIC or AVIF photo renamed
# to .mp4 is not a video.
_STILL_IMAGE_BRANDS = frozenset(
    {
        b"heic",
        b"heix",
        b"hevc",
        b"hevx",
        b"heim",
        b"heis",
        b"mif1",
        b"msf1",
        b"avif",
        b"avis",
    }
)
# Format characters (Cf) include the right-to-left override U+202E, which can make
# a name ending in ".exe" display as one ending in ".png"; surrogates (Cs) cannot
# be encoded to store the name.
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs"})

_KIB = 1024
_MIB = 1024 * _KIB
_GIB = 1024 * _MIB


@dataclass(frozen=True)
class MediaInfo:
    """What an accepted file is; `extension` is the user's own, lower-cased."""

    content_type: str
    kind: str
    extension: str


def media_sniff(head: bytes) -> str | None:
    """The content type the leading bytes of a file prove, or None if not allowed."""
    head = head[:SNIFF_BYTES]
    if head.startswith(_PNG_MAGIC):
        return PNG
    if head.startswith(_JPEG_MAGIC):
        return JPEG
    if head.startswith(_PDF_MAGIC):
        return PDF
    # EBML alone is also Matroska (.mkv), which browsers cannot be relied on to play.
    if head.startswith(_EBML_MAGIC) and b"webm" in head:
        return WEBM
    atom = head[4:8]
    if atom == b"ftyp" and len(head) >= 12:
        brand = head[8:12]
        if brand in _STILL_IMAGE_BRANDS:
            return None
        return QUICKTIME if brand == b"qt  " else MP4
    if atom in _QUICKTIME_FIRST_ATOMS:
        return QUICKTIME
    return None


def media_description(content_type: str) -> str:
    """What staff would call a file of this type, e.g. "a PNG image"."""
    return _DESCRIPTION[content_type]


def media_kind(content_type: str) -> str:
    """'video', 'image' or 'document': the key of the per-kind size limits."""
    if content_type == PDF:
        return "document"
    major, _, _ = content_type.partition("/")
    if major in ("video", "image"):
        return major
    raise ValueError(f"Not an allowed media type: {content_type!r}")


def _split_extension(name: str) -> tuple[str, str]:
    stem, dot, suffix = name.rpartition(".")
    # "scan." and "scan" have no extension; a leading dot never reaches this point.
    if not dot or not stem or not suffix:
        return name, ""
    return stem, dot + suffix


def media_clean_name(name: str) -> str:
    """The name safe to store and show, or ValidationError if it is a path trick.

    NFKC comes first because it folds look-alikes such as the full-width solidus
    and the two-dot leader into "/" and "..", which the checks must then see.
    """
    if "\x00" in name:
        # Some C libraries stop at NUL, so "x\x00.png" may be saved as "x".
        raise ValidationError(E_NAME_CHARACTER, code="name_character")
    text = unicodedata.normalize("NFKC", name)
    # Tabs and line breaks separate words, so they become spaces, not nothing.
    text = "".join(" " if char.isspace() else char for char in text)
    text = "".join(
        char for char in text if unicodedata.category(char) not in _DROPPED_CATEGORIES
    )
    text = " ".join(text.split())
    if not text:
        raise ValidationError(E_NAME_EMPTY, code="name_empty")
    # Checked after cleaning: dropping a control character can join "." and ".".
    if "/" in text or "\\" in text or ".." in text:
        raise ValidationError(E_NAME_PATH, code="name_path")
    if text.startswith("."):
        raise ValidationError(E_NAME_HIDDEN, code="name_hidden")
    if len(text) <= MAX_NAME_LENGTH:
        return text
    stem, extension = _split_extension(text)
    if len(extension) >= MAX_NAME_LENGTH:
        return text[:MAX_NAME_LENGTH].rstrip(" .")
    # The stem loses its tail, not the extension, which the type check relies on;
    # stripping keeps a cut from leaving "name .png" or "name..png".
    stem = stem[: MAX_NAME_LENGTH - len(extension)].rstrip(" .")
    return stem + extension


def _expected_extensions(content_type: str) -> str:
    extensions = [
        extension
        for extension, mapped in CONTENT_TYPE_BY_EXTENSION.items()
        if mapped == content_type
    ]
    return " or ".join(extensions)


def _format_limit(limit: int) -> str:
    """A byte count in GiB, MiB or KiB, rounded down so a file shown as under it is."""
    for unit, name in ((_GIB, "GiB"), (_MIB, "MiB"), (_KIB, "KiB")):
        if limit >= unit:
            tenths = limit * 10 // unit
            whole, fraction = divmod(tenths, 10)
            return f"{whole} {name}" if not fraction else f"{whole}.{fraction} {name}"
    return f"{limit} bytes"


def media_inspect(
    *, name: str, head: bytes, size: int, max_bytes: dict[str, int]
) -> MediaInfo:
    """Accept a file only if its bytes, name and size agree with the allowed types.

    `head` is the first SNIFF_BYTES of the file; `max_bytes` maps each kind
    ("video", "image", "document") to its largest allowed size in bytes.
    """
    name = media_clean_name(name)
    # Checked before the type: an empty file has no signature, and "empty" is the
    # message that tells staff what actually went wrong.
    if size <= 0:
        raise ValidationError(E_EMPTY, code="empty")
    content_type = media_sniff(head)
    if content_type is None:
        raise ValidationError(E_UNKNOWN_TYPE, code="unknown_type")
    _, extension = _split_extension(name)
    extension = extension.lower()
    description = _DESCRIPTION[content_type]
    expected = _expected_extensions(content_type)
    if not extension:
        raise ValidationError(
            E_EXTENSION_MISSING.format(description=description, expected=expected),
            code="extension_missing",
        )
    if CONTENT_TYPE_BY_EXTENSION.get(extension) != content_type:
        raise ValidationError(
            E_EXTENSION_MISMATCH.format(
                extension=extension, description=description, expected=expected
            ),
            code="extension_mismatch",
        )
    kind = media_kind(content_type)
    limit = max_bytes[kind]
    if size > limit:
        raise ValidationError(
            E_TOO_LARGE.format(kinds=_KIND_PLURAL[kind], limit=_format_limit(limit)),
            code="too_large",
        )
    return MediaInfo(content_type=content_type, kind=kind, extension=extension)


def sha256_of(chunks: Iterable[bytes]) -> str:
    """Hex SHA-256 of a file read in chunks, so a large video never sits in memory."""
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()
