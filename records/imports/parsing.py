"""Reading uploaded spreadsheets (CSV or XLSX) into a header and rows of text cells."""

import codecs
import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import PurePosixPath

E_EMPTY = "The file is empty."
E_NO_HEADER = "The first row must name the columns."
E_FORMAT = "Upload a .csv or .xlsx file."
E_ENCODING = (
    "The file is not UTF-8 text (a problem near byte {position}). In Excel, save it "
    "as 'CSV UTF-8 (Comma delimited)'."
)
E_CSV = "The file cannot be read as CSV near line {line}: {problem}."
E_CELL_TOO_LARGE = (
    "A cell near line {line} is larger than {limit:,} characters; no column holds "
    "that much."
)
E_NOT_XLSX = "This is not an Excel workbook (.xlsx), although its name says so."

# No column holds more; a larger cell is a broken file, not data (csv's default).
CELL_LIMIT = 131_072
CSV_DELIMITERS = ",;"
# Bytes decoded at a time when checking a file's encoding.
DECODE_SLICE = 1 << 20


class ParseError(Exception):
    """The file as a whole cannot be read: one message for the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class Table:
    header: list[str]
    rows: Iterator[tuple[int, list[str]]]  # (line number, cells)


def read_table(*, data: bytes, file_name: str) -> Table:
    suffix = PurePosixPath(file_name or "").suffix.lower()
    if not data:
        raise ParseError(E_EMPTY)
    if suffix == ".xlsx":
        return _read_xlsx(data)
    if suffix in (".csv", ".txt"):
        return _read_csv(data)
    raise ParseError(E_FORMAT)


def _check_utf8(data: bytes) -> None:
    """The file is UTF-8 throughout, or a ParseError naming the first bad byte.

    Checked slice by slice, so that no decoded copy of the whole file is kept:
    the rows are decoded as they are read.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    for start in range(0, len(data) + 1, DECODE_SLICE):
        # Up to 3 bytes of a character begun in the slice before wait in the
        # decoder; a problem's position counts from the first of them.
        held = len(decoder.getstate()[0])
        try:
            decoder.decode(view[start : start + DECODE_SLICE], final=False)
        except UnicodeDecodeError as error:
            position = start - held + error.start
            raise ParseError(E_ENCODING.format(position=position)) from None
    if decoder.getstate()[0]:  # the file ends inside a character
        held = len(decoder.getstate()[0])
        raise ParseError(E_ENCODING.format(position=len(data) - held))


def _delimiter(first_line: str) -> str:
    """Comma or semicolon (Excel in many European locales), from the header line."""
    try:
        return csv.Sniffer().sniff(first_line, delimiters=CSV_DELIMITERS).delimiter
    except csv.Error:
        return ","


def _read_csv(data: bytes) -> Table:
    _check_utf8(data)
    # utf-8-sig: a BOM, which Excel writes, is dropped; none is fine too.
    first_line = data[:DECODE_SLICE].split(b"\n", 1)[0]
    first_line = first_line.decode("utf-8-sig", errors="replace")
    text = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="")
    csv.field_size_limit(CELL_LIMIT)
    reader = csv.reader(text, delimiter=_delimiter(first_line), strict=True)

    def rows() -> Iterator[tuple[int, list[str]]]:
        try:
            for cells in reader:
                yield reader.line_num, list(map(str.strip, cells))
        except csv.Error as error:
            problem = str(error)
            if "field larger than field limit" in problem:
                raise ParseError(
                    E_CELL_TOO_LARGE.format(line=reader.line_num, limit=CELL_LIMIT)
                ) from None
            raise ParseError(
                E_CSV.format(line=reader.line_num, problem=problem)
            ) from None

    iterator = rows()
    for _, header in iterator:
        if any(header):
            return Table(header=header, rows=iterator)
    # No row names a column: a file of blank lines and spaces is empty.
    if not data.decode("utf-8-sig").strip():
        raise ParseError(E_EMPTY)
    raise ParseError(E_NO_HEADER)


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        # Excel stores dates as midnight datetimes.
        if value.time() == datetime.min.time():
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _read_xlsx(data: bytes) -> Table:
    from openpyxl import load_workbook

    buffer = io.BytesIO(data)
    try:
        with zipfile.ZipFile(buffer) as archive:
            names = set(archive.namelist())
    except zipfile.BadZipFile:
        raise ParseError(E_NOT_XLSX) from None
    if "xl/workbook.xml" not in names or "[Content_Types].xml" not in names:
        raise ParseError(E_NOT_XLSX)
    try:
        workbook = load_workbook(buffer, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a damaged workbook
        raise ParseError(E_NOT_XLSX) from None
    # Templates carry a "data" sheet and a "columns" sheet describing it.
    sheet = (
        workbook["data"] if "data" in workbook.sheetnames else workbook.worksheets[0]
    )
    values = sheet.iter_rows(values_only=True)

    def rows() -> Iterator[tuple[int, list[str]]]:
        for number, row in enumerate(values, start=2):
            yield number, [_cell_text(value) for value in row]
        workbook.close()

    for header in values:
        cells = [_cell_text(value) for value in header]
        if any(cells):
            return Table(header=cells, rows=rows())
    raise ParseError(E_NO_HEADER)
