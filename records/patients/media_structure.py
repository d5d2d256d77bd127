"""Checks an uploaded media file's whole structure, not only its first bytes.

A file whose first bytes say PNG, PDF or MP4 may go on as HTML or script (a
polyglot a browser could be talked into running), or be cut short. Each allowed
type is walked to its end here, streaming from the file object (seek and read), so
that a 2 GiB video is never read into memory:

- PNG: every chunk's length and CRC, IHDR first, IEND last and nothing after it;
  then Pillow decodes the image.
- JPEG: Pillow verifies and decodes it (data after its end is allowed: phones put
  their own there).
- PDF: the last startxref points at a cross-reference table or stream, nothing
  but white space follows the last %%EOF, and pypdf finds and reads every page.
- MP4 and QuickTime: the top-level boxes (atoms) tile the file exactly, each of a
  known type, ftyp first when there is one, moov present; the boxes inside moov
  tile it too.
- WebM: the EBML header (DocType webm), then one Segment whose level-1 elements
  tile it. An element of unknown size (a live recording's Segment or Cluster)
  runs to the end of the file and is not walked further.

Whatever the type, image and PDF files must not hold HTML or script markup.

Why one module past 400 lines: one job (the walk of an upload to its end), whose
five walkers share its reading helpers (read exactly, size, the markup scan) and
its one error; each walker is short, and the list above is the map of it.
"""

import io
import re
import struct
import warnings
import zlib
from typing import BinaryIO

from django.core.exceptions import ValidationError
from PIL import Image
from pypdf import PdfReader

from records.patients import media as checks

E_DAMAGED = (
    "This file is damaged or is not a complete {description}: {reason}. "
    "Save or export it again and upload the new copy."
)
E_MARKUP = (
    "This file holds web page code (HTML or script) besides {description}, "
    "so it is refused. Save or export it again and upload the new copy."
)

# Said after "is not a complete ...:" in E_DAMAGED.
R_TRUNCATED = "it ends too early"
R_TRAILING = "something else follows its end"
R_BAD_CHUNK = "a part of it is corrupt"
R_UNREADABLE = "it cannot be read"
R_NO_MOVIE = "it has no movie header (moov)"
R_UNKNOWN_BOX = "it holds a part of an unknown kind"
R_NOT_WEBM = "it is not a WebM file"
R_TOO_MANY_PIXELS = "it has more than {megapixels} million pixels"

# An image is decoded whole to check it: this bounds the memory that takes (a PNG
# of 40 million pixels, RGBA, is 160 MB). JPEG is decoded at an eighth of its size.
MAX_IMAGE_PIXELS = 40_000_000

_CHUNK = 1024 * 1024
# The last "startxref <offset> %%EOF" of a PDF, and what must be at that offset.
_STARTXREF = re.compile(rb"startxref\s+(\d{1,15})\s+%%EOF\s*$")
_XREF_AT = re.compile(rb"\s*(xref\b|\d+\s+\d+\s+obj\b)")
# Markup a browser would run or show if it ever rendered the file as a page. Each
# marker is long enough (6 bytes or more) that compressed image data, which looks
# random, holds one by chance about once in 10^5 files of 25 MiB.
_MARKUP = (
    b"<script",
    b"<!doctype",
    b"<html>",
    b"<html ",
    b"<body>",
    b"<body ",
    b"<iframe",
    b"<object",
    b"<embed ",
    b"<form ",
    b"<meta ",
    b"javascript:",
)
_MARKUP_OVERLAP = max(len(marker) for marker in _MARKUP) - 1

# --- MP4 / QuickTime -----------------------------------------------------------------

_TOP_LEVEL_BOXES = frozenset(
    {
        b"ftyp",
        b"moov",
        b"mdat",
        b"free",
        b"skip",
        b"wide",
        b"uuid",
        b"meta",
        b"pdin",
        b"moof",
        b"mfra",
        b"sidx",
        b"styp",
        b"ssix",
        b"emsg",
        b"prft",
        b"pnot",
        b"udta",
        b"junk",
        b"sefd",  # Samsung's own data, after the movie
    }
)
# The moov box is read whole to walk its children: a header of this size would
# describe days of video.
_MAX_MOOV_BYTES = 64 * 1024 * 1024

# --- WebM (EBML) ---------------------------------------------------------------------

_EBML_HEADER = 0x1A45DFA3
_EBML_DOCTYPE = 0x4282
_SEGMENT = 0x18538067
_VOID = 0xEC
_CRC32 = 0xBF
_SEGMENT_CHILDREN = frozenset(
    {
        0x114D9B74,  # SeekHead
        0x1549A966,  # Info
        0x1654AE6B,  # Tracks
        0x1F43B675,  # Cluster
        0x1C53BB6B,  # Cues
        0x1254C367,  # Tags
        0x1043A770,  # Chapters
        0x1941A469,  # Attachments
        _VOID,
        _CRC32,
    }
)


class _Damaged(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def media_structure_check(file: BinaryIO, content_type: str) -> None:
    """Raise ValidationError unless `file` is a whole, well-formed file of
    `content_type` (one media_inspect accepted). The file is left at its start."""
    description = checks.media_description(content_type)
    check = _CHECKS[content_type]
    try:
        file.seek(0)
        check(file)
        if content_type in (checks.PNG, checks.JPEG, checks.PDF) and _has_markup(file):
            raise ValidationError(
                E_MARKUP.format(description=description), code="markup"
            )
    except _Damaged as damaged:
        raise ValidationError(
            E_DAMAGED.format(description=description, reason=damaged.reason),
            code="damaged",
        ) from None
    finally:
        file.seek(0)


def _read_exactly(file: BinaryIO, count: int) -> bytes:
    data = file.read(count)
    if len(data) != count:
        raise _Damaged(R_TRUNCATED)
    return data


def _size_of(file: BinaryIO) -> int:
    position = file.tell()
    file.seek(0, io.SEEK_END)
    size = file.tell()
    file.seek(position)
    return size


def _has_markup(file: BinaryIO) -> bool:
    """Scanned in chunks, lower-cased, with an overlap so that no marker is split."""
    file.seek(0)
    tail = b""
    while chunk := file.read(_CHUNK):
        window = tail + chunk.lower()
        if any(marker in window for marker in _MARKUP):
            return True
        tail = window[-_MARKUP_OVERLAP:]
    return False


# --- images --------------------------------------------------------------------------


def _png(file: BinaryIO) -> None:
    if _read_exactly(file, 8) != b"\x89PNG\r\n\x1a\n":
        raise _Damaged(R_UNREADABLE)
    first = True
    while True:
        length, kind = struct.unpack(">I4s", _read_exactly(file, 8))
        if length > 0x7FFFFFFF or (first and kind != b"IHDR"):
            raise _Damaged(R_BAD_CHUNK)
        crc = zlib.crc32(kind)
        remaining = length
        while remaining:
            data = _read_exactly(file, min(remaining, _CHUNK))
            crc = zlib.crc32(data, crc)
            remaining -= len(data)
        if struct.unpack(">I", _read_exactly(file, 4))[0] != crc:
            raise _Damaged(R_BAD_CHUNK)
        first = False
        if kind == b"IEND":
            break
    if file.read(1):
        raise _Damaged(R_TRAILING)
    _pillow(file, "PNG")


def _jpeg(file: BinaryIO) -> None:
    # What follows the image's end is not refused: phones append their own data
    # there (Samsung's trailer, a motion photo's video). The markup scan reads it.
    _pillow(file, "JPEG")


def _pillow(file: BinaryIO, expected: str) -> None:
    """Pillow's verify (structure, checksums) and then a full decode: verify
    leaves the image unusable, so it is opened twice."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            file.seek(0)
            with Image.open(file, formats=[expected]) as image:
                image.verify()
            file.seek(0)
            with Image.open(file, formats=[expected]) as image:
                if image.width * image.height > MAX_IMAGE_PIXELS:
                    raise Image.DecompressionBombError(image.size)
                if expected == "JPEG":  # every block still decoded, in 1/64 the memory
                    image.draft(image.mode, (image.width // 8, image.height // 8))
                image.load()
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as error:
        # Pillow's own limit (89 million pixels) is met when the file is opened.
        megapixels = MAX_IMAGE_PIXELS // 1_000_000
        raise _Damaged(R_TOO_MANY_PIXELS.format(megapixels=megapixels)) from error
    except Exception as error:  # Pillow raises many kinds on a broken file
        truncated = "truncated" in str(error).lower()
        raise _Damaged(R_TRUNCATED if truncated else R_UNREADABLE) from error


# --- PDF -----------------------------------------------------------------------------


def _pdf(file: BinaryIO) -> None:
    if _read_exactly(file, 5) != b"%PDF-":
        raise _Damaged(R_UNREADABLE)
    size = _size_of(file)
    file.seek(max(0, size - 4096))
    tail = file.read()
    end = tail.rfind(b"%%EOF")
    if end < 0 or b"startxref" not in tail[:end]:
        raise _Damaged(R_TRUNCATED)
    if tail[end + 5 :].strip(b"\x00\r\n\t\x0c ") != b"":
        raise _Damaged(R_TRAILING)
    # The last startxref must point at a cross-reference table or stream.
    pointer = _STARTXREF.search(tail[: end + 5])
    if pointer is None or int(pointer.group(1)) >= size:
        raise _Damaged(R_UNREADABLE)
    file.seek(int(pointer.group(1)))
    if not _XREF_AT.match(file.read(64)):
        raise _Damaged(R_UNREADABLE)
    file.seek(0)
    try:
        # Not pypdf's strict mode, which refuses the small slips of many scanners'
        # PDFs; every page must still be found and read.
        reader = PdfReader(file, strict=False)
        if reader.is_encrypted or not len(reader.pages):
            raise _Damaged(R_UNREADABLE)
        for page in reader.pages:
            page.mediabox  # each page object is resolved
    except _Damaged:
        raise
    except Exception as error:  # pypdf raises many kinds on a broken file
        raise _Damaged(R_UNREADABLE) from error


# --- MP4 / QuickTime -----------------------------------------------------------------


def _boxes(file: BinaryIO, start: int, end: int):
    """(type, payload start, box end) of each box between start and end, which
    the boxes must fill exactly."""
    position = start
    while position < end:
        if end - position < 8:
            raise _Damaged(R_TRUNCATED)
        file.seek(position)
        size, kind = struct.unpack(">I4s", _read_exactly(file, 8))
        header = 8
        if size == 1:
            (size,) = struct.unpack(">Q", _read_exactly(file, 8))
            header = 16
        elif size == 0:  # runs to the end
            size = end - position
        if size < header or position + size > end:
            raise _Damaged(R_TRUNCATED if position + size > end else R_BAD_CHUNK)
        yield kind, position + header, position + size
        position += size


def _iso_media(file: BinaryIO, *, ftyp_first: bool) -> None:
    size = _size_of(file)
    moov = None
    for index, (kind, payload, end) in enumerate(_boxes(file, 0, size)):
        if kind not in _TOP_LEVEL_BOXES:
            raise _Damaged(R_UNKNOWN_BOX)
        if index == 0 and ftyp_first and kind != b"ftyp":
            raise _Damaged(R_UNREADABLE)
        if kind == b"moov":
            moov = (payload, end)
    if moov is None:
        raise _Damaged(R_NO_MOVIE)
    payload, end = moov
    if end - payload > _MAX_MOOV_BYTES:
        raise _Damaged(R_BAD_CHUNK)
    file.seek(payload)
    inner = io.BytesIO(_read_exactly(file, end - payload))
    for _ in _boxes(inner, 0, end - payload):
        pass


def _mp4(file: BinaryIO) -> None:
    _iso_media(file, ftyp_first=True)


def _quicktime(file: BinaryIO) -> None:
    # Old QuickTime files open on moov, mdat, wide or free, with no ftyp.
    _iso_media(file, ftyp_first=False)


# --- WebM ----------------------------------------------------------------------------


def _vint(file: BinaryIO, *, keep_marker: bool) -> tuple[int, int, bool]:
    """An EBML variable-length integer: (value, its length, all value bits set)."""
    first = _read_exactly(file, 1)[0]
    if not first:
        raise _Damaged(R_BAD_CHUNK)
    length = 9 - first.bit_length()
    rest = _read_exactly(file, length - 1) if length > 1 else b""
    value = first if keep_marker else first & (0xFF >> length)
    for byte in rest:
        value = (value << 8) | byte
    unknown = not keep_marker and value == (1 << (7 * length)) - 1
    return value, length, unknown


def _element(file: BinaryIO) -> tuple[int, int, int | None]:
    """(id, payload start, payload size or None when unknown)."""
    element_id, _, _ = _vint(file, keep_marker=True)
    size, _, unknown = _vint(file, keep_marker=False)
    return element_id, file.tell(), None if unknown else size


def _webm(file: BinaryIO) -> None:
    size = _size_of(file)
    element_id, payload, length = _element(file)
    if element_id != _EBML_HEADER or length is None or payload + length > size:
        raise _Damaged(R_NOT_WEBM)
    doctype = None
    end = payload + length
    while file.tell() < end:
        child, child_payload, child_length = _element(file)
        if child_length is None or child_payload + child_length > end:
            raise _Damaged(R_BAD_CHUNK)
        if child == _EBML_DOCTYPE:
            doctype = _read_exactly(file, child_length).rstrip(b"\x00")
        file.seek(child_payload + child_length)
    if doctype != b"webm":
        raise _Damaged(R_NOT_WEBM)
    segment_id, segment_payload, segment_length = _element(file)
    if segment_id != _SEGMENT:
        raise _Damaged(R_NOT_WEBM)
    if segment_length is not None and segment_payload + segment_length != size:
        raise _Damaged(
            R_TRUNCATED if segment_payload + segment_length > size else R_TRAILING
        )
    position = segment_payload
    while position < size:
        file.seek(position)
        child, child_payload, child_length = _element(file)
        if child not in _SEGMENT_CHILDREN:
            raise _Damaged(R_UNKNOWN_BOX)
        if child_length is None:  # a live recording's cluster: to the end
            return
        position = child_payload + child_length
        if position > size:
            raise _Damaged(R_TRUNCATED)


_CHECKS = {
    checks.PNG: _png,
    checks.JPEG: _jpeg,
    checks.PDF: _pdf,
    checks.MP4: _mp4,
    checks.QUICKTIME: _quicktime,
    checks.WEBM: _webm,
}
