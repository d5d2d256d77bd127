"""Spreadsheet exports: the rows a user may see, streamed as CSV or built as XLSX."""

import csv
import hashlib
import io
import re
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal
from itertools import islice
from typing import Any

from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import F, Func, QuerySet, Value
from django.db.models.functions import Cast
from openpyxl import Workbook
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE, WriteOnlyCell

from records.clinical_records.repositories import clinical_records_visible_to
from records.audit.models import Action
from records.audit.services import audit_object
from records.imports.entities import ENTITIES, Column, EntitySpec
from records.imports.models import Entity, ExportJob
from records.patients.repositories import assessments_visible_to, patients_visible_to

EXPORT_PERMISSION = "imports.export_records"
# Rows per database fetch and per CSV chunk: memory stays flat whatever the total.
BATCH_ROWS = 2000
# A cell starting with one of these is a formula to Excel, LibreOffice and Sheets.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# XLSX only: a sign then digits and spaces (a phone number, +447700900123) is no
# formula a spreadsheet could run, even once someone edits the cell: no function,
# no reference, no operator after the sign ("-2+3" is one, and is escaped).
SIGNED_DIGITS = re.compile(r"[+-][0-9][0-9 ]*")
CSV_BOM = "\ufeff"
# Control characters no XLSX cell can hold (all but tab, line feed and carriage
# return): every export removes them from text before escaping it.
CONTROL_CHARACTERS = ILLEGAL_CHARACTERS_RE

E_NO_PERMISSION = "You may not export spreadsheets."
E_UNKNOWN_ENTITY = "Nothing called {entity!r} can be exported."
E_UNKNOWN_COLUMNS = "Unknown columns: {names}."
E_NO_COLUMNS = "Choose at least one column."
E_WRONG_QUERYSET = "The queryset holds {model} rows, not {entity}."

VISIBLE_TO = {
    Entity.PATIENTS: patients_visible_to,
    Entity.ASSESSMENTS: assessments_visible_to,
    Entity.CLINICAL_RECORDS: clinical_records_visible_to,
}


def escape_cell(value: Any) -> str:
    """A cell's text, safe to open in a spreadsheet.

    Numbers (int, float, Decimal) and dates come from numeric and date fields and
    are written as they are: a negative score stays -3. Everything else is text
    (str, phone numbers, ...) and gets a leading apostrophe when it starts like a
    formula (OWASP, CSV injection), so '=HYPERLINK(...)' is shown, never run.
    """
    if value.__class__ is str:  # most cells: decided at once
        return _formula_safe(value)
    if value is None:
        return ""
    if isinstance(value, list):  # ICD-10 codes: text once joined
        return _formula_safe(" ".join(value))
    if isinstance(value, Decimal):
        # "f" keeps 1E+2 from reaching the file as scientific notation.
        return format(value, "f")
    if isinstance(value, date):  # a datetime too
        return value.isoformat()
    if isinstance(value, (int, float)):
        return str(value)
    return _formula_safe(str(value))


def _formula_safe(text: str) -> str:
    text = _printable(text)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def _printable(text: str) -> str:
    # Stripped first, then escaped: a spreadsheet drops these characters (XML
    # cannot hold them), and "\x01=1+2" escaped before stripping became "=1+2".
    if not text.isprintable():  # most text is: one C loop, no regex
        text = CONTROL_CHARACTERS.sub("", text)
    return text


def escape_xlsx_text(text: str) -> str:
    """An XLSX cell's text. XLSX cells are typed: a text cell is shown, never run,
    when the file opens; it runs only if someone edits the cell and the text reads
    as a formula then. So only such text gets the apostrophe: text starting with
    = @ tab or CR, or with + or - followed by anything but digits and spaces.
    A phone number (+447700900123) stays as it is; CSV, untyped, escapes it."""
    text = _printable(text)
    if text.startswith(FORMULA_PREFIXES) and not SIGNED_DIGITS.fullmatch(text):
        return "'" + text
    return text


class FormulaEscaped(Func):
    """escape_cell's rule for text, run by PostgreSQL: the text without control
    characters, with a leading apostrophe when it then starts like a formula. The
    CSV export makes its cells in SQL so that Python only passes the rows on; a
    test holds the two rules equal.
    """

    output_field = models.TextField()
    PREFIXES = ", ".join(f"chr({ord(prefix)})" for prefix in FORMULA_PREFIXES)
    # What CONTROL_CHARACTERS matches (PostgreSQL text never holds NUL).
    CONTROLS = " || ".join(
        f"chr({code})" for code in range(1, 32) if CONTROL_CHARACTERS.match(chr(code))
    )

    def as_sql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])

        def escaped(text: str) -> str:
            # The apostrophe or nothing, then the text (NULL stays NULL).
            return (
                f"(CASE WHEN left({text}, 1) IN ({self.PREFIXES}) "
                f"THEN '''' ELSE '' END || {text})"
            )

        # translate() is dear (about a second a column of a million rows): only
        # text holding a control character goes through it, which a regular
        # expression tells at a seventh of the cost.
        cleaned = f"translate({sql}, {self.CONTROLS}, '')"
        return (
            f"(CASE WHEN {sql} ~ ('[' || {self.CONTROLS} || ']') "
            f"THEN {escaped(cleaned)} ELSE {escaped(sql)} END)",
            (*params, *params, *params, *params, *params),
        )


def export_queryset(*, user, entity: str) -> QuerySet:
    """The entity's rows this user may see (the repositories decide), by pk."""
    try:
        visible_to = VISIBLE_TO[entity]
    except KeyError:
        raise ValueError(E_UNKNOWN_ENTITY.format(entity=entity)) from None
    return visible_to(user).order_by("pk")


def export_csv(
    *,
    user,
    entity: str,
    columns: list[str] | None = None,
    filters: dict | None = None,
    queryset: QuerySet | None = None,
) -> "ExportStream":
    """UTF-8 CSV (with a BOM, for Excel) in chunks of BATCH_ROWS rows.

    Checks run now, before the first byte, and the ExportJob and its audit event
    (who asked for what) are recorded now. When the stream ends the job is
    completed (row count, SHA-256 of exactly the bytes yielded) or, cut off
    (closed early, the client gone, an error), marked interrupted with the rows
    handed over so far. `queryset` (an admin changelist's) narrows the export.
    """
    spec, selected = _export_check(user=user, entity=entity, columns=columns)
    rows = _csv_rows(user=user, spec=spec, selected=selected, queryset=queryset)
    job = _export_job_start(
        user=user, spec=spec, file_format="csv", selected=selected, filters=filters
    )
    return ExportStream(job, _csv_stream(job=job, rows=rows, selected=selected))


class ExportStream:
    """The CSV chunks, and close(): a WSGI server closes a response's iterator
    when the client goes away. Closing a generator that never started runs none
    of its code, so the job is ended here then."""

    def __init__(self, job: ExportJob, chunks: Iterator[bytes]):
        self.job = job
        self._chunks = chunks

    def __iter__(self) -> "ExportStream":
        return self

    def __next__(self) -> bytes:
        return next(self._chunks)

    def close(self) -> None:
        self._chunks.close()
        if self.job.status == ExportJob.Status.STARTED:
            _export_job_end(job=self.job, rows=0, sha256="")


def export_xlsx(
    *,
    user,
    entity: str,
    columns: list[str] | None = None,
    filters: dict | None = None,
    queryset: QuerySet | None = None,
) -> bytes:
    """One XLSX sheet: header, then the rows. Numbers and dates stay typed (Excel
    sorts and sums them); text is stored as text, escaped only where it would run
    (escape_xlsx_text: a phone number stays as it is). Recorded as export_csv does
    (a failure while building the file leaves the job interrupted)."""
    spec, selected = _export_check(user=user, entity=entity, columns=columns)
    rows = _export_rows(user=user, spec=spec, selected=selected, queryset=queryset)
    job = _export_job_start(
        user=user, spec=spec, file_format="xlsx", selected=selected, filters=filters
    )
    count, sha256 = 0, ""
    try:
        # Write-only: rows go to a temporary file, not to a tree of cells in memory.
        book = Workbook(write_only=True)
        sheet = book.create_sheet(title=spec.name)
        sheet.append([xlsx_cell(sheet, column.name) for column in selected])
        for row in rows.iterator(chunk_size=BATCH_ROWS):
            sheet.append(
                [xlsx_cell(sheet, row.get(column.source)) for column in selected]
            )
            count += 1
        buffer = io.BytesIO()
        book.save(buffer)
        data = buffer.getvalue()
        sha256 = hashlib.sha256(data).hexdigest()
    finally:
        # Nothing has left yet when building fails: no row was handed over.
        _export_job_end(job=job, rows=count if sha256 else 0, sha256=sha256)
    return data


# --- internals ----------------------------------------------------------------------


def _export_check(
    *, user, entity: str, columns: list[str] | None
) -> tuple[EntitySpec, list[Column]]:
    if not user.has_perm(EXPORT_PERMISSION):
        raise PermissionDenied(E_NO_PERMISSION)
    spec = ENTITIES.get(entity)
    if spec is None:
        raise ValueError(E_UNKNOWN_ENTITY.format(entity=entity))
    if columns is None:
        return spec, list(spec.columns)
    names = list(dict.fromkeys(columns))
    if not names:
        raise ValueError(E_NO_COLUMNS)
    known = {column.name: column for column in spec.columns}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(E_UNKNOWN_COLUMNS.format(names=", ".join(unknown)))
    return spec, [known[name] for name in names]


def _visible_rows(*, user, spec: EntitySpec, queryset: QuerySet | None) -> QuerySet:
    """The rows this user may see, narrowed to `queryset` when one is given."""
    rows = export_queryset(user=user, entity=spec.name)
    if queryset is None:
        return rows
    if queryset.model is not spec.model:
        raise ValueError(
            E_WRONG_QUERYSET.format(model=queryset.model.__name__, entity=spec.name)
        )
    # Whatever the caller filtered, only rows the repository shows leave.
    return queryset.filter(pk__in=rows.values("pk")).order_by("pk")


def _export_rows(
    *, user, spec: EntitySpec, selected: list[Column], queryset: QuerySet | None
) -> QuerySet:
    """Value dicts of the visible rows, with just what the chosen columns read."""
    rows = _visible_rows(user=user, spec=spec, queryset=queryset)
    concrete = {field.attname for field in spec.model._meta.concrete_fields}
    fields = [column.attname for column in selected if column.attname in concrete]
    renamed = {}
    for name, path in spec.export_paths.items():
        if name == path:
            fields.append(path)
        else:
            renamed[name] = F(path)
    return rows.values(*dict.fromkeys(fields), **renamed)


def _csv_rows(
    *, user, spec: EntitySpec, selected: list[Column], queryset: QuerySet | None
) -> QuerySet:
    """Tuples of the chosen columns' CSV cells, each made by PostgreSQL."""
    rows = _visible_rows(user=user, spec=spec, queryset=queryset)
    return rows.values_list(*(_csv_cell(spec, column) for column in selected))


def _csv_cell(spec: EntitySpec, column: Column) -> str | Func:
    """One column's CSV cell in SQL, as escape_cell writes it in Python."""
    path = spec.export_paths.get(column.source, column.source)
    model, *related, name = [spec.model, *path.split("__")]
    for step in related:
        model = model._meta.get_field(step).related_model
    model_field = model._meta.get_field(name)
    if isinstance(model_field, (models.CharField, models.TextField)):
        return FormulaEscaped(F(path))
    if isinstance(model_field, models.DecimalField):
        # numeric's text has no exponent: format(value, "f").
        return Cast(F(path), models.TextField())
    if isinstance(model_field, ArrayField):
        joined = Func(
            F(path),
            Value(" "),
            function="array_to_string",
            output_field=models.TextField(),
        )
        return FormulaEscaped(joined)
    plain = (models.IntegerField, models.FloatField, models.DateField)
    if isinstance(model_field, plain) and not isinstance(
        model_field, models.DateTimeField
    ):
        return path  # the csv module writes str(value): 42, 2025-03-14; None as ""
    raise ValueError(f"{path}: no CSV form for {type(model_field).__name__}")


def _export_job_start(
    *, user, spec: EntitySpec, file_format: str, selected: list[Column], filters
) -> ExportJob:
    """The job, and the audit event of what was asked and by whom: recorded
    before the first byte, so that an export cut off is on the trail too."""
    job = ExportJob.objects.create(
        user=user,
        entity=spec.name,
        file_format=file_format,
        columns=[column.name for column in selected],
        filters=filters or {},
    )
    audit_object(
        action=Action.EXPORT,
        actor=job.user,
        obj=job,
        details={
            "entity": job.entity,
            "format": job.file_format,
            "columns": job.columns,
            # Filter names only: their values (a searched name) stay in the job.
            "filters": sorted(job.filters),
        },
    )
    return job


def _export_job_end(*, job: ExportJob, rows: int, sha256: str) -> None:
    """Completed with the file's SHA-256, or (no hash: the file was not made
    whole) interrupted with the rows handed over before it stopped."""
    job.row_count, job.sha256 = rows, sha256
    job.status = ExportJob.Status.COMPLETED if sha256 else ExportJob.Status.INTERRUPTED
    job.save(update_fields=["row_count", "sha256", "status"])


def _csv_stream(
    *, job: ExportJob, rows: QuerySet, selected: list[Column]
) -> Iterator[bytes]:
    digest = hashlib.sha256()
    count = 0
    whole = False
    try:
        header = (CSV_BOM + _csv_text([[column.name for column in selected]])).encode()
        digest.update(header)
        yield header
        for batch in _batches(rows.iterator(chunk_size=BATCH_ROWS), BATCH_ROWS):
            chunk = _csv_text(batch).encode()
            digest.update(chunk)
            # Counted when handed over: part of it may have reached the client.
            count += len(batch)
            yield chunk
        whole = True
    finally:
        # Exhausted, closed early (GeneratorExit at a yield) or failed alike.
        _export_job_end(job=job, rows=count, sha256=digest.hexdigest() if whole else "")


def _csv_text(lines: list) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(lines)
    return buffer.getvalue()


def _batches(items: Iterable, size: int) -> Iterator[list]:
    # itertools.batched arrived in Python 3.12; 3.11 is supported.
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def xlsx_cell(sheet, value: Any) -> Any:
    """What an XLSX row holds for `value`: numbers and dates typed as they are,
    everything else text escaped by escape_xlsx_text."""
    if value is None or isinstance(value, (int, float, Decimal)):
        return value
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, list):  # ICD-10 codes: text once joined
        value = " ".join(value)
    elif not isinstance(value, str):
        value = escape_cell(value)  # a datetime, say: its text, as in CSV
    text = escape_xlsx_text(value)
    if text.startswith("=") or text in ERROR_CODES:
        # openpyxl would store these as a formula or an error value: typed as
        # text instead (escaped text never starts with "=": belt and braces).
        cell = WriteOnlyCell(sheet, value=text)
        cell.data_type = "s"
        return cell
    return text
