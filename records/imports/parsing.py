"""Reading uploaded spreadsheets (CSV or XLSX) into a header and rows of text cells."""

import codecs
import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import PurePosixPath

from django.conf import settings

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
E_XLSX_DAMAGED = (
    "The workbook cannot be read: it is damaged or not made by a spreadsheet "
    "program. Open it in Excel and save it again, or save it as CSV."
)
E_XLSX_DAMAGED_ROW = (
    "The workbook cannot be read near row {line}: it is damaged or not made by a "
    "spreadsheet program. Open it in Excel and save it again, or save it as CSV."
)
E_XLSX_UNZIPPED = (
    "Unzipped, this workbook holds more than {limit:,} bytes: split it, or save it "
    "as CSV."
)
E_NUL = (
    "The file holds a NUL character (line {line}), which no cell may hold: it is "
    "not a spreadsheet saved as text. Save it again as CSV UTF-8 or XLSX."
)
E_TOO_MANY_ROWS = "The file has more than {limit:,} rows: split it into smaller files."
E_TOO_MANY_CELLS = (
    "The file has more than {limit:,} cells (at line {line}): split it, or remove "
    "empty columns."
)
E_ROW_TOO_LARGE = (
    "The row at line {line} is larger than {limit:,} characters; no row holds that "
    "much."
)

# No column holds more; a larger cell is a broken file, not data (csv's default).
CELL_LIMIT = 131_072
CSV_DELIMITERS = ",;"
# Bytes decoded at a time when checking a file's encoding.
DECODE_SLICE = 1 << 20
# A CSV row (its lines) longer than this is refused before it is split into cells.
ROW_LIMIT = 8 * CELL_LIMIT
# Workbook parts read as streams; every other part is read whole by openpyxl.
XLSX_SHEETS = "xl/worksheets/"


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
    """The header and an iterator of rows. Whatever the bytes, reading them (now,
    or later from the rows) gives rows or one ParseError: rows and cells are
    counted as they are read, and a file past a bound (settings IMPORT_MAX_ROWS,
    IMPORT_MAX_CELLS, IMPORT_MAX_UNZIPPED_BYTES) stops there."""
    suffix = PurePosixPath(file_name or "").suffix.lower()
    if not data:
        raise ParseError(E_EMPTY)
    if suffix == ".xlsx":
        return _read_xlsx(data, _Budget())
    if suffix in (".csv", ".txt"):
        return _read_csv(data, _Budget())
    raise ParseError(E_FORMAT)


class _Budget:
    """Rows and cells read so far, against the settings' bounds."""

    def __init__(self):
        self.rows_left = settings.IMPORT_MAX_ROWS
        self.cells_left = settings.IMPORT_MAX_CELLS

    def spend(self, line: int, cells: int) -> None:
        self.rows_left -= 1
        self.cells_left -= cells
        if self.rows_left < 0:
            raise ParseError(E_TOO_MANY_ROWS.format(limit=settings.IMPORT_MAX_ROWS))
        if self.cells_left < 0:
            raise ParseError(
                E_TOO_MANY_CELLS.format(limit=settings.IMPORT_MAX_CELLS, line=line)
            )


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


def _check_nul(data: bytes) -> None:
    """NUL is valid UTF-8 and the csv module passes it on, but PostgreSQL text
    cannot hold it: a file with one is refused here, naming its line."""
    at = data.find(b"\x00")
    if at >= 0:
        raise ParseError(E_NUL.format(line=data.count(b"\n", 0, at) + 1))


def _read_csv(data: bytes, budget: _Budget) -> Table:
    _check_utf8(data)
    _check_nul(data)
    # utf-8-sig: a BOM, which Excel writes, is dropped; none is fine too.
    first_line = data[:DECODE_SLICE].split(b"\n", 1)[0]
    first_line = first_line.decode("utf-8-sig", errors="replace")
    text = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="")
    csv.field_size_limit(CELL_LIMIT)
    # Characters handed to the reader since its last row: a line of a million
    # commas is refused before the reader makes a million cells of it.
    pending = [0]

    def lines() -> Iterator[str]:
        for number, line in enumerate(text, start=1):
            pending[0] += len(line)
            if pending[0] > ROW_LIMIT:
                raise ParseError(E_ROW_TOO_LARGE.format(line=number, limit=ROW_LIMIT))
            yield line

    reader = csv.reader(lines(), delimiter=_delimiter(first_line), strict=True)

    def rows() -> Iterator[tuple[int, list[str]]]:
        try:
            for cells in reader:
                pending[0] = 0
                budget.spend(reader.line_num, len(cells))
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


def _check_parts(archive: zipfile.ZipFile) -> None:
    """A few kilobytes of zip can unzip to gigabytes. The sizes a zip declares
    are the most zipfile reads of each part, so they bound what openpyxl reads:
    all parts together, and each part read whole (all but the sheets, which are
    read as streams and counted by rows and cells) at most the upload limit."""
    limit = settings.IMPORT_MAX_UNZIPPED_BYTES
    parts = archive.infolist()
    whole = [p for p in parts if not p.filename.startswith(XLSX_SHEETS)]
    if sum(p.file_size for p in parts) > limit or any(
        p.file_size > settings.IMPORT_MAX_BYTES for p in whole
    ):
        raise ParseError(E_XLSX_UNZIPPED.format(limit=limit))


def _read_xlsx(data: bytes, budget: _Budget) -> Table:
    from openpyxl import load_workbook

    buffer = io.BytesIO(data)
    try:
        with zipfile.ZipFile(buffer) as archive:
            names = set(archive.namelist())
            _check_parts(archive)
    except zipfile.BadZipFile:
        raise ParseError(E_NOT_XLSX) from None
    if "xl/workbook.xml" not in names or "[Content_Types].xml" not in names:
        raise ParseError(E_NOT_XLSX)
    try:
        workbook = load_workbook(buffer, read_only=True, data_only=True)
        # Templates carry a "data" sheet and a "columns" sheet describing it.
        sheet = (
            workbook["data"]
            if "data" in workbook.sheetnames
            else workbook.worksheets[0]
        )
    except Exception:  # openpyxl raises many kinds for a damaged workbook
        # Bad XML (a NUL, an undefined entity) in the parts read on opening.
        raise ParseError(E_XLSX_DAMAGED) from None
    # Read-only mode trusts the size a sheet declares: rows past it would be
    # dropped, and a sheet declaring a million rows and columns would be padded
    # to them. Without it, every row the sheet holds is read, as long as it is.
    sheet.reset_dimensions()
    values = sheet.iter_rows(values_only=True)
    line = 0

    def read() -> Iterator[tuple[int, list[str]]]:
        """Rows as text, counted, without their trailing empty cells; whatever
        breaks inside openpyxl (bad XML, an undefined entity, a bad cell
        reference) is one ParseError naming the row."""
        nonlocal line
        try:
            for row in values:
                line += 1
                budget.spend(line, len(row))
                cells = [_cell_text(value) for value in row]
                while cells and not cells[-1]:
                    cells.pop()
                yield line, cells
        except ParseError:
            raise
        except Exception:
            raise ParseError(E_XLSX_DAMAGED_ROW.format(line=line + 1)) from None
        finally:
            workbook.close()

    iterator = read()
    for _, header in iterator:
        if any(header):
            return Table(header=header, rows=_padded(iterator, len(header)))
    raise ParseError(E_NO_HEADER)


def _padded(rows, width: int) -> Iterator[tuple[int, list[str]]]:
    """Rows as wide as the header (an XLSX row ends at its last filled cell); a
    row with filled cells past the header stays longer, and is refused."""
    for number, cells in rows:
        if cells and len(cells) < width:
            cells += [""] * (width - len(cells))
        yield number, cells
