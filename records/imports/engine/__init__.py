"""The set-based import: validate every row in Python, a column at a time; COPY
the good ones into a staging table; add and change rows, and write their history,
with one INSERT ... SELECT and one UPDATE ... FROM.

Rows are read, validated and written in chunks, so memory does not grow with the
file. Committing, a writer thread stores one chunk while the next is validated,
and looks up the stored rows of the chunks ahead between its writes: the database
and Python work at once, on the two cores. Everything a commit writes happens in
one transaction: one invalid row, or a failure anywhere, and nothing is written.

One job a module:
- outcome: the Outcome, the Options, the header's mapping, the error messages;
- lookups: names resolved to rows (Lookups), the file's keys (KeyLog);
- checker: the Importer, reading a file chunk by chunk;
- rows: the row checker (RowChecks, the Importer's checks of a chunk's rows);
- writer: the threaded COPY Writer;
- runtime: the process-wide tweaks of importing processes;
- sql: PostgreSQL literals.

This package re-exports the names callers used when it was one module; tests
that patch a tunable (CHUNK_ROWS, MEMORY_KEYS, _tweaks) patch the module that
reads it.
"""

from records.imports.engine.checker import CHUNK_ROWS, READ_AHEAD, Importer
from records.imports.engine.lookups import MEMORY_KEYS, KeyLog, Lookups
from records.imports.engine.outcome import (
    E_CELL_COUNT,
    E_DUPLICATE_HEADER,
    E_DUPLICATE_KEY,
    E_EXISTS,
    E_FINAL,
    E_MISSING_HEADER,
    E_NOT_FOUND,
    E_UNKNOWN_HEADER,
    MAX_ERRORS_KEPT,
    Options,
    Outcome,
    map_header,
)
from records.imports.engine.rows import PREVIEW_ROWS, STAFF_ATTNAMES, STAFF_COLUMNS
from records.imports.engine.runtime import (
    HANDOFF_S,
    process_tweaks_allow,
    process_tweaks_allowed,
)
from records.imports.engine.sql import (
    PLAIN_FIELDS,
    TEXT_FIELDS,
    _array_literal,
    _quoted,
)
from records.imports.engine.writer import WRITES_WAITING, Writer

__all__ = [
    "CHUNK_ROWS",
    "E_CELL_COUNT",
    "E_DUPLICATE_HEADER",
    "E_DUPLICATE_KEY",
    "E_EXISTS",
    "E_FINAL",
    "E_MISSING_HEADER",
    "E_NOT_FOUND",
    "E_UNKNOWN_HEADER",
    "HANDOFF_S",
    "Importer",
    "KeyLog",
    "Lookups",
    "MAX_ERRORS_KEPT",
    "MEMORY_KEYS",
    "Options",
    "Outcome",
    "PLAIN_FIELDS",
    "PREVIEW_ROWS",
    "READ_AHEAD",
    "STAFF_ATTNAMES",
    "STAFF_COLUMNS",
    "TEXT_FIELDS",
    "WRITES_WAITING",
    "Writer",
    "_array_literal",
    "_quoted",
    "map_header",
    "process_tweaks_allow",
    "process_tweaks_allowed",
]
