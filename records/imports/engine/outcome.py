"""What a run tells of a file: its Outcome (counts, errors, preview), the Options
it ran with, the header mapped to columns, and the messages of its errors.
"""

from dataclasses import dataclass, field
from typing import Any

from records.imports.entities import Column, EntitySpec, header_key
from records.imports.error_column import ignored_column
from records.imports.kind_guess import other_kind
from records.imports.models import ImportMode

MAX_ERRORS_KEPT = 1000

E_UNKNOWN_HEADER = "Unknown column. Columns are: {columns}."
E_DUPLICATE_HEADER = "This column appears twice."
E_MISSING_HEADER = "This column is missing."
E_CELL_COUNT = "This row has {cells} cells; the header has {expected}."
E_DUPLICATE_KEY = "Same {key} as row {first}: each row must be a different record."
E_EXISTS = "Already exists, and the mode is 'create only'."
E_NOT_FOUND = "Does not exist, and the mode is 'update only'."
E_FINAL = "This record is final; amend it in NDAS, with a reason."


@dataclass
class Outcome:
    rows: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    invalid: int = 0
    errors: list[dict] = field(default_factory=list)
    preview: list[dict] = field(default_factory=list)
    # Row numbers with errors, for the error report (kept whole: ints are small).
    error_rows: dict[int, list[str]] = field(default_factory=dict)
    # What the report says of how the file was read, not errors (a column ignored).
    notes: list[str] = field(default_factory=list)

    def error(self, row: int, column: str, value: Any, message: str) -> None:
        if row not in self.error_rows:
            self.invalid += 1
        self.error_rows.setdefault(row, []).append(
            f"{column}: {message}" if column else message
        )
        if len(self.errors) < MAX_ERRORS_KEPT:
            text = "" if value is None else str(value)
            self.errors.append(
                {"row": row, "column": column, "value": text[:100], "message": message}
            )


@dataclass
class Options:
    mode: str = ImportMode.CREATE_OR_UPDATE
    blank_keeps_value: bool = True


def map_header(spec: EntitySpec, header: list[str], mode: str, outcome: Outcome):
    """The column of each cell position (None: an ignored column: an empty
    header, or the error file's own column, once)."""
    wrong_kind = other_kind(spec, header)
    if wrong_kind:  # one message, not one for each column
        outcome.error(1, "", "", wrong_kind)
        return [None] * len(header)
    known = {header_key(column.name): column for column in spec.columns}
    columns: list[Column | None] = []
    seen: set[str] = set()
    for text in header:
        key = header_key(text)
        if not key or (key not in known and ignored_column(key, seen, outcome)):
            columns.append(None)
            continue
        column = known.get(key)
        if key in seen:
            outcome.error(1, text, text, E_DUPLICATE_HEADER)
        elif column is None:
            names = ", ".join(c.name for c in spec.columns)
            outcome.error(1, text, text, E_UNKNOWN_HEADER.format(columns=names))
        seen.add(key)
        columns.append(column)
    needed = set(spec.key_columns)
    if mode != ImportMode.UPDATE_ONLY:
        needed |= {c.name for c in spec.columns if c.required}
    for name in sorted(needed - seen):
        outcome.error(1, name, "", E_MISSING_HEADER)
    return columns
