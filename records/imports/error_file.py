"""The error file of an import: the uploaded rows with an errors column, to fix
and upload again."""

import csv
import io

from django.core.files.storage import default_storage

from records.audit.models import Action
from records.audit.services import audit_object
from records.imports.error_column import ERROR_COLUMN, is_error_column
from records.imports.exports import escape_cell
from records.imports.job_lock import one_at_a_time
from records.imports.job_run import importer_for
from records.imports.models import ImportJob
from records.imports.parsing import ParseError, read_table


def import_error_report(*, acting_user, job: ImportJob) -> bytes:
    """The uploaded rows as CSV with an 'errors' column, to fix and upload again.

    The cells are escaped as exports escape them (a cell of the upload may be a
    formula), the file is read twice rather than held as rows, and the download
    is an audit event naming the job. Checking the file again is an import's
    work: it counts as the user's one import running."""
    with one_at_a_time(acting_user):
        data = _error_file(job)
    audit_object(
        action=Action.DOWNLOAD,
        actor=acting_user,
        obj=job,
        summary=f"download error file of import #{job.pk}",
    )
    return data


def _error_file(job: ImportJob) -> bytes:
    with default_storage.open(job.stored_as, "rb") as handle:
        data = handle.read()
    importer = importer_for(job)
    out = io.StringIO()
    writer = csv.writer(out)
    try:
        importer.run(read_table(data=data, file_name=job.file_name))
        table = read_table(data=data, file_name=job.file_name)
        by_row = importer.outcome.error_rows
        # An error file uploaded again: its old error column gives way to the new.
        kept = [i for i, text in enumerate(table.header) if not is_error_column(text)]
        header = [table.header[i] for i in kept]
        writer.writerow([*map(escape_cell, header), ERROR_COLUMN])
        header_errors = by_row.get(1)
        if header_errors:
            writer.writerow([""] * len(header) + [_joined(header_errors)])
        for number, cells in table.rows:
            if len(kept) < len(table.header):
                cells = _without_error_column(cells, kept, len(table.header))
            if any(cells):
                errors = _joined(by_row.get(number, []))
                writer.writerow([*map(escape_cell, cells), errors])
    except ParseError as error:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow([ERROR_COLUMN])
        writer.writerow([escape_cell(error.message)])
    return out.getvalue().encode("utf-8-sig")


def _without_error_column(cells: list[str], kept: list[int], width: int):
    """A row's cells but those of its (old) error column, in the header's places."""
    return [cells[i] if i < len(cells) else "" for i in kept] + cells[width:]


def _joined(errors: list[str]) -> str:
    return escape_cell("; ".join(errors))
