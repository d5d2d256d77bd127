"""The error file's own column: written by the error file, ignored when the fixed
file comes back (and only that column: any other unknown column is an error)."""

from records.imports.entities import header_key

# The header the error file gives its last column (records.imports.services).
ERROR_COLUMN = "errors"
N_ERROR_COLUMN_IGNORED = (
    "The column “errors” (from NDAS's file with an error column) was ignored: "
    "its cells are not imported."
)


def is_error_column(text: str) -> bool:
    """Whether a header cell is the error file's column (in any case or spacing,
    as every header is matched)."""
    return header_key(text) == ERROR_COLUMN


def ignored_column(key: str, seen: set[str], outcome) -> bool:
    """Whether the header `key` is the error file's column, seen for the first
    time: it is then ignored, and the report says so (in `outcome.notes`)."""
    if key != ERROR_COLUMN or key in seen:
        return False
    seen.add(key)
    outcome.notes.append(N_ERROR_COLUMN_IGNORED)
    return True
