"""The importer: a file read chunk by chunk, each chunk's lookups asked for ahead,
its rows checked (RowChecks) and handed to `write` (a Writer's, when committing).
"""

from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from functools import partial
from itertools import islice
from operator import itemgetter
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from records.common.services import BOOKKEEPING_FIELDS
from records.imports.engine.lookups import KeyLog, Lookups, _at_once
from records.imports.engine.outcome import E_CELL_COUNT, Options, Outcome, map_header
from records.imports.engine.rows import (
    RowChecks,
    _NO_KEY,
    _key_value,
    _same_check,
    _unescaped_all,
)
from records.imports.engine.runtime import _collector_paused
from records.imports.engine.sql import TEXT_FIELDS, _array_literal, _quoted
from records.imports.entities import EntitySpec, header_key
from records.imports.parsing import Table
from records.patients.validators import today_fixed

CHUNK_ROWS = 5000
# Chunks read ahead: their lookups are asked for before they are checked.
READ_AHEAD = 2


class Importer(RowChecks):
    """Validates the rows of one file for one entity and hands the rows to write,
    chunk by chunk, to `write` (a Writer's, when committing)."""

    def __init__(self, *, spec: EntitySpec, options: Options, acting_user):
        self.spec = spec
        self.model = spec.model
        self.options = options
        self.acting_user = acting_user
        self.outcome = Outcome()
        self.lookups = Lookups()
        self.now = timezone.now()
        self.concrete = [
            f for f in self.model._meta.concrete_fields if not f.primary_key
        ]
        self.column_names = [f.column for f in self.concrete]
        # What the file decides; the bookkeeping (version, created and updated
        # when and by whom) is the writer's. A change is a difference in these.
        self.written = [f for f in self.concrete if f.attname not in BOOKKEEPING_FIELDS]
        self.compared = [f.attname for f in self.written]
        # The stored rows a chunk's keys name: their fields, and the statement.
        self.existing_names = ["id", *[f.attname for f in self.concrete]]
        self.key_positions = [self.existing_names.index(a) for a in spec.key]
        self.existing_statement = self._existing_statement()
        self.row_values = itemgetter(*self.compared)
        # What an unsaved model would hold: "" for text, None where NULL is allowed.
        self.defaults = {f.attname: f.get_default() for f in self.concrete}
        self.columns_by_attname = {c.attname: c for c in spec.columns}
        # Keys used by this chunk's rows (key -> row), and those of this chunk's
        # keys that earlier chunks' rows used (the file's keys are in a KeyLog).
        self.keys_seen: dict[tuple, int] = {}
        self.keys_before: dict[tuple, int] = {}
        # Values the model computes from others (ages; BMI and growth figures), as
        # its services would.
        self.derive = getattr(self.model, "compute_ages", None) or getattr(
            self.model, "compute_derived", None
        )
        # Fields whose change the caller must follow up (a patient's birth details:
        # their assessments' ages), and the ids of the rows where they changed.
        self.watched: frozenset[str] = frozenset()
        self.watched_changes: list[int] = []
        # Called with the new rows and the changed rows (pk first) of each chunk.
        self.write: Callable[[list[tuple], list[tuple]], None] | None = None
        # Runs a chunk's lookups (a function of a cursor) and gives their
        # Future: at once here; on its thread, between writes, for a Writer.
        self.lookup: Callable[[Callable[[Any], Any]], Future] = _at_once

    # --- reading -----------------------------------------------------------------

    def run(self, table: Table, progress: Callable[[int], None] | None = None):
        columns = map_header(self.spec, table.header, self.options.mode, self.outcome)
        if self.outcome.errors:
            return self.outcome
        positions = {c.attname: i for i, c in enumerate(columns) if c is not None}
        # The error file's column: a row with nothing else is not a row.
        self.ignored = {
            i
            for i, c in enumerate(columns)
            if c is None and header_key(table.header[i])
        }
        self.key_cells = [
            (positions[attname], self.columns_by_attname[attname])
            for attname in self.spec.key
        ]
        # Where the key names a patient (by MRN in the file, by id once looked up).
        self.patient_at = (
            self.spec.key.index("patient_id") if "patient_id" in self.spec.key else None
        )
        self.same_cells = [
            (position, column.attname, _same_check(column, self.lookups))
            for position, column in enumerate(columns)
            if column is not None and column.attname not in self.spec.key
        ]
        self.columns, self.width = columns, len(columns)
        # Columns a blank cell is refused in (required), with the error it gets.
        self.blank_refusals = []
        for column in columns:
            if column is not None:
                try:
                    column.clean("")
                except ValidationError as error:
                    refusal = (column.name, "", error.messages[0])
                    self.blank_refusals.append((column.attname, refusal))
        self.required = {attname for attname, _ in self.blank_refusals}
        # One "today" for every date rule of the file (and the model's clean()).
        # The log's table goes through the lookups' lane (the writer's, if any).
        with today_fixed(), _collector_paused(), KeyLog(self.lookup) as self.key_log:
            # The next chunks' lookups are asked for before they are needed:
            # committing, the writer thread runs them between its writes, and
            # this thread goes on checking instead of waiting for the database.
            ahead = deque(self._fetch(table) for _ in range(READ_AHEAD))
            # The keys of the chunks checked after the oldest of those lookups
            # was asked for: the log's table may not have them yet.
            recent: deque[dict] = deque(maxlen=READ_AHEAD - 1)
            while ahead[0] is not None:
                rows, malformed, lookup = ahead.popleft()
                self._count(rows, malformed)
                keys, existing, stored = lookup.result()
                # Which of this chunk's keys earlier rows have.
                self.keys_before = {**stored, **self.key_log.find(keys)}
                for seen in recent:
                    self.keys_before.update((k, seen[k]) for k in keys if k in seen)
                new, changed = self._check(rows, keys, existing)
                self.key_log.add(self.keys_seen)
                recent.append(self.keys_seen)
                self.keys_seen = {}
                ahead.append(self._fetch(table))
                writing = self.write is not None and not self.outcome.invalid
                if writing and (new or changed):
                    self.write(new, changed)
                if progress:
                    progress(self.outcome.rows)
        self.key_log = None  # its lane may be a Writer's, which holds this importer
        return self.outcome

    def _fetch(self, table: Table) -> tuple[list, list, Future] | None:
        """The next chunk's well-formed rows, its malformed ones (row number and
        cell count), and the Future of its lookups; None at the end of the file."""
        chunk = list(islice(table.rows, CHUNK_ROWS))
        if not chunk:
            return None
        rows, malformed = [], []
        width = self.width
        ignored = self.ignored
        for number, cells in chunk:
            if not any(cells):
                continue  # blank lines are not rows
            if ignored and not any(c for i, c in enumerate(cells) if i not in ignored):
                continue  # nor is a line of ignored cells (the error file's notes)
            if len(cells) != width:
                # Trailing empty cells (a ragged CSV, an XLSX column) are harmless.
                if len(cells) < width or any(cells[width:]):
                    malformed.append((number, len(cells)))
                    continue
            rows.append((number, cells))
        keys = self._raw_keys([cells for _, cells in rows])
        # Asked now, the log's table holds the keys of all chunks but the last
        # READ_AHEAD - 1 checked (see run).
        logged = self.key_log.spilled
        work = partial(self._lookup, keys=keys, logged=logged)
        return rows, malformed, self.lookup(work)

    def _count(self, rows, malformed) -> None:
        self.outcome.rows += len(rows) + len(malformed)
        for number, cells in malformed:
            message = E_CELL_COUNT.format(cells=cells, expected=self.width)
            self.outcome.error(number, "", "", message)

    def _lookup(
        self, cursor, keys: list[tuple | None], logged: bool
    ) -> tuple[list, dict, dict]:
        """The chunk's keys, patients' MRNs replaced by their ids (None: no such
        patient), the stored rows with those keys, and the rows of the file that
        used them before (those in the key log's table, when `logged`).

        Committing, this runs on the writer thread: it uses `cursor` only, never
        Django's connection (which belongs to the thread that opened it)."""
        if self.patient_at is not None:
            at = self.patient_at
            self.lookups.patients(cursor, {key[at] for key in keys if key})
            keys = [self._patient_key(key, at) for key in keys]
        existing = self._existing(cursor, {key for key in keys if key is not None})
        stored = self.key_log.find_stored(cursor, keys) if logged else {}
        return keys, existing, stored

    def _patient_key(self, key: tuple | None, at: int) -> tuple | None:
        patient = self.lookups.patient(key[at]) if key else None
        if patient is None:
            return None
        return key[:at] + (patient.pk,) + key[at + 1 :]

    def _raw_keys(self, rows: list[list[str]]) -> list[tuple | None]:
        """Each row's key, from its key cells alone, a patient named by MRN (None:
        a key cell is blank or invalid; cleaning the whole row names the problem).
        A key column is cleaned for all the rows at once, as in _clean_rows."""
        columns = []
        for position, column in self.key_cells:
            raws = _unescaped_all([cells[position] for cells in rows])
            values = column.clean_many(raws) if "" not in raws else None
            if values is None:
                values = [_key_value(column, raw) for raw in raws]
            columns.append(values)
        return [None if _NO_KEY in key else key for key in zip(*columns)]

    def _existing_statement(self) -> str:
        """The SELECT of stored rows by the first key column (made here, on the
        checking thread: the column's type comes from Django's connection)."""
        meta = self.model._meta
        first = meta.get_field(self.spec.key[0])
        text = first.get_internal_type() in TEXT_FIELDS
        kind = "text" if text else first.db_type(connection)
        return (
            f"SELECT {_quoted([meta.pk.column, *self.column_names])} "
            f'FROM "{meta.db_table}" WHERE "{first.column}" = ANY(%s::{kind}[])'
        )

    def _existing(self, cursor, keys: set[tuple]) -> dict[tuple, dict]:
        """The stored rows with these keys, as attname -> value dicts."""
        if not keys:
            return {}
        names, key_positions = self.existing_names, self.key_positions
        found = {}
        cursor.execute(
            self.existing_statement,
            # As text: psycopg would make the array value by value, in Python.
            [_array_literal({str(key[0]) for key in keys})],
        )
        for row in cursor.fetchall():
            key = tuple(row[i] for i in key_positions)
            if key in keys:
                found[key] = dict(zip(names, row))
        return found
