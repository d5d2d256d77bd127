"""Downloadable templates: the header, an example row, and what each column means."""

import csv
import io

from records.imports.entities import ENTITIES
from records.imports.exports import escape_cell, xlsx_cell


def import_template(*, entity: str, file_format: str) -> bytes:
    """A CSV (header and example) or an XLSX (a "data" sheet, and a "columns"
    sheet describing each column) for this kind of record."""
    spec = ENTITIES[entity]
    header = [column.name for column in spec.columns]
    example = [column.example for column in spec.columns]
    if file_format == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(header)
        # Escaped as exports are: the phone example "+44 20 ..." would be a
        # formula to a spreadsheet opening the CSV (imports remove the ').
        writer.writerow([escape_cell(value) for value in example])
        return out.getvalue().encode("utf-8-sig")
    from openpyxl import Workbook

    workbook = Workbook()
    data = workbook.active
    data.title = "data"
    data.append(header)
    # XLSX cells are typed text: only what would run is escaped (a phone
    # number stays as it is; see escape_xlsx_text).
    data.append([xlsx_cell(data, value) for value in example])
    about = workbook.create_sheet("columns")
    about.append(["Column", "Required", "Key", "Description", "Example"])
    for column in spec.columns:
        about.append(
            [
                column.name,
                "Yes" if column.required else "No",
                "Yes" if column.name in spec.key_columns else "",
                xlsx_cell(about, column.help),
                xlsx_cell(about, column.example),
            ]
        )
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
