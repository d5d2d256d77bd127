"""The set-based import: validate every row in Python, a column at a time; COPY
the good ones into a staging table; add and change rows, and write their history,
with one INSERT ... SELECT and one UPDATE ... FROM.

Why one module past 500 lines (1,100): the reader, checker and threaded writer share
the chunk protocol and the connection; the package of one-job modules it should
become is part of the restructure (issue #14).

Rows are read, validated and written in chunks, so memory does not grow with the
file. Committing, a writer thread stores one chunk while the next is validated,
and looks up the stored rows of the chunks ahead between its writes: the database
and Python work at once, on the two cores. Everything a commit writes happens in
one transaction: one invalid row, or a failure anywhere, and nothing is written.
"""

import csv
import gc
import io
import itertools
import queue
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from contextvars import copy_context
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from itertools import islice
from operator import itemgetter
from typing import Any

from django.contrib.postgres.fields import ArrayField
from psycopg.errors import InFailedSqlTransaction
from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, connection
from django.db.models.base import ModelState
from django.utils import timezone

from records.common.services import BOOKKEEPING_FIELDS
from records.imports.entities import (
    E_UNKNOWN_PATIENT,
    E_UNKNOWN_USER,
    Column,
    EntitySpec,
    header_key,
)
from records.imports.error_column import ignored_column
from records.imports.exports import FORMULA_PREFIXES
from records.imports.kind_guess import other_kind
from records.imports.models import ImportMode
from records.imports.parsing import Table
from records.patients.validators import mrn_normalize, today_fixed
from records.patients.models import Patient, RecordStatus
from records.patients.services.access import E_NOT_CLINICAL_STAFF, STAFF_FIELDS

CHUNK_ROWS = 5000
# Keys of a file's rows kept in memory (about 20 MB); a larger file's other keys
# go to a temporary table.
MEMORY_KEYS = 100_000
# Chunks read ahead: their lookups are asked for before they are checked.
READ_AHEAD = 2
# Chunks checked and waiting for the writer (their COPY text: about 0.7 MB each).
WRITES_WAITING = 2
MAX_ERRORS_KEPT = 1000
# What a row's rules read of its patient (ages, dates within life, growth figures).
PATIENT_FACTS = frozenset(
    {
        "id",
        "mrn",
        "date_of_birth",
        "date_of_death",
        "gestational_age_weeks",
        "gestational_age_days",
        "sex",
        "growth_reference",
    }
)
PREVIEW_ROWS = 20
_PATIENT_FACT_FIELDS = [
    f for f in Patient._meta.concrete_fields if f.attname in PATIENT_FACTS
]

E_UNKNOWN_HEADER = "Unknown column. Columns are: {columns}."
E_DUPLICATE_HEADER = "This column appears twice."
E_MISSING_HEADER = "This column is missing."
E_CELL_COUNT = "This row has {cells} cells; the header has {expected}."
E_DUPLICATE_KEY = "Same {key} as row {first}: each row must be a different record."
E_EXISTS = "Already exists, and the mode is 'create only'."
E_NOT_FOUND = "Does not exist, and the mode is 'update only'."
E_FINAL = "This record is final; amend it in NDAS, with a reason."
# Columns naming the clinician responsible for a record, and their fields.
STAFF_COLUMNS = tuple((f"{name}_id", f"{name}_username") for name in STAFF_FIELDS)
STAFF_ATTNAMES = frozenset(attname for attname, _ in STAFF_COLUMNS)


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


class Lookups:
    """Names in the file resolved to rows with one query per kind."""

    def __init__(self):
        self._patients: dict[str, Patient | None] = {}
        self._by_id: dict[int, Patient] = {}
        self._users: dict[str, int] | None = None
        self._staff: set[int] = set()
        self._names: dict[int, str] | None = None

    def patients(self, cursor, mrns: Iterable[str]) -> None:
        """Look these MRNs up, with `cursor` (the writer thread's, while
        committing: Django's connection belongs to the thread that opened it)."""
        wanted = set(map(mrn_normalize, mrns)) - self._patients.keys()
        if not wanted:
            return
        fields = _PATIENT_FACT_FIELDS
        cursor.execute(
            f"SELECT {_quoted([f.column for f in fields])} "
            f'FROM "{Patient._meta.db_table}" WHERE "mrn" = ANY(%s::text[])',
            [_array_literal(wanted)],
        )
        names = [f.attname for f in fields]
        for row in cursor.fetchall():
            patient = Patient.from_db(DEFAULT_DB_ALIAS, names, row)
            self._patients[patient.mrn] = patient
            self._by_id[patient.pk] = patient
        for mrn in wanted:
            self._patients.setdefault(mrn, None)

    def patient(self, mrn: str) -> Patient | None:
        return self._patients.get(mrn_normalize(mrn))

    def patient_by_id(self, pk: int) -> Patient | None:
        return self._by_id.get(pk)

    def user_id(self, username: str) -> int | None:
        """Anyone's id, by username: a record may keep naming staff who left."""
        if self._users is None:
            from records.users.models import User
            from records.users.repositories import clinical_staff

            self._users = dict(User.objects.values_list("username", "pk"))
            self._staff = set(clinical_staff().values_list("pk", flat=True))
        return self._users.get(username)

    def username(self, user_id: int) -> str:
        if self._names is None:
            self._names = {pk: name for name, pk in self._users.items()}
        return self._names[user_id]

    def is_clinical_staff(self, user_id: int) -> bool:
        """Whether a user looked up by user_id() may be named as assessor or
        clinician (see access.named_staff_check)."""
        return user_id in self._staff


class KeyLog:
    """The keys a file's rows have used so far, and the row of each: in memory
    for the first MEMORY_KEYS, in a temporary table after that. Any file is
    checked for duplicate keys, and memory stops growing with the file.

    The table is written and read through `lane` (the importer's lookups: the
    writer thread's, while committing), in order with the lookups, so that the
    checking thread never waits for it."""

    table = "import_key_log"

    def __init__(self, lane: Callable[[Callable[[Any], Any]], Future]):
        self.lane = lane
        self.memory: dict[tuple, int] = {}
        self.spilled = False

    def __enter__(self) -> "KeyLog":
        return self

    def __exit__(self, kind, error, traceback) -> None:
        if self.spilled and error is None:
            self.lane(self._drop).result()

    def add(self, keys: dict[tuple, int]) -> None:
        if not self.spilled and len(self.memory) + len(keys) <= MEMORY_KEYS:
            self.memory.update(keys)
            return
        if not keys:
            return
        first, self.spilled = not self.spilled, True
        texts = _array_literal(map(_key_text, keys))
        rows = "{" + ",".join(map(str, keys.values())) + "}"
        # Its failure is the writer's (raised by the next write or lookup).
        self.lane(partial(self._store, first=first, texts=texts, rows=rows))

    def find(self, keys: list[tuple | None]) -> dict[tuple, int]:
        """The rows of these keys that the log holds in memory (key -> row)."""
        memory = self.memory
        return {key: memory[key] for key in keys if key in memory}

    def find_stored(self, cursor, keys: list[tuple | None]) -> dict[tuple, int]:
        """The rows of these keys that the table holds (key -> row)."""
        texts = {_key_text(key): key for key in keys if key is not None}
        cursor.execute(
            f'SELECT "key", "row" FROM "{self.table}" WHERE "key" = ANY(%s::text[])',
            [_array_literal(texts)],
        )
        return {texts[text]: row for text, row in cursor.fetchall()}

    def _store(self, cursor, *, first: bool, texts: str, rows: str) -> None:
        if first:
            # A run that died in this session (outside a transaction) may have
            # left one.
            cursor.execute(f'DROP TABLE IF EXISTS "{self.table}"')
            cursor.execute(
                f'CREATE TEMP TABLE "{self.table}" '
                '("key" text PRIMARY KEY, "row" integer NOT NULL)'
            )
        cursor.execute(
            f'INSERT INTO "{self.table}" ("key", "row") '
            "SELECT * FROM unnest(%s::text[], %s::integer[])",
            [texts, rows],
        )

    def _drop(self, cursor) -> None:
        cursor.execute(f'DROP TABLE "{self.table}"')


def _key_text(key: tuple) -> str:
    return "\x1f".join(map(str, key))


class Importer:
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

    def _check(self, rows, keys, existing) -> tuple[list[tuple], list[tuple]]:
        """The chunk's new and changed rows, pk first; errors go to the outcome."""
        keeps_blanks = self.options.blank_keeps_value
        currents, unchanged, todo = [], [], []
        for (number, cells), key in zip(rows, keys):
            current = existing.get(key) if key is not None else None
            # A row whose cells say what is stored needs no cleaning, and no write.
            is_same = current is not None and all(
                same(cells[position], current[attname], keeps_blanks)
                for position, attname, same in self.same_cells
            )
            if not is_same:
                todo.append(cells)
            currents.append(current)
            unchanged.append(is_same)
        cleaned = iter(self._clean_rows(todo))
        new, changed = [], []
        for (number, cells), key, current, is_same in zip(
            rows, keys, currents, unchanged
        ):
            if is_same:
                if self._admitted(number, key, current):
                    self.outcome.unchanged += 1
                continue
            values, blanks, errors = next(cleaned)
            if blanks & self.required and (current is None or not keeps_blanks):
                errors += [e for a, e in self.blank_refusals if a in blanks]
            if errors:
                for column, raw, message in errors:
                    self.outcome.error(number, column, raw, message)
                continue
            row = self._row(number, values, blanks, existing)
            if row is not None:
                (new if row[0] is None else changed).append(row)
        return new, changed

    def _clean_rows(self, rows: list[list[str]]) -> list[tuple[dict, set, list]]:
        """Each row's cleaned values, blank columns and errors (column, value,
        message), cleaning a column of all the rows at a time."""
        values = [{} for _ in rows]
        blanks = [set() for _ in rows]
        errors = [[] for _ in rows]
        if not rows:
            return []
        for position, column in enumerate(self.columns):
            if column is None:
                continue
            attname = column.attname
            cells = [row[position] for row in rows]
            if "" in cells:
                filled = []
                for index, raw in enumerate(cells):
                    if raw == "":
                        blanks[index].add(attname)
                    else:
                        filled.append(index)
                raws = [cells[index] for index in filled]
            else:
                filled, raws = range(len(cells)), cells
            if not raws:
                continue
            raws = _unescaped_all(raws)
            cleaned = column.clean_many(raws)
            if cleaned is None:  # some cell fails: each on its own, for messages
                cleaned = []
                for index, raw in zip(filled, raws):
                    try:
                        cleaned.append(column.clean(raw))
                    except ValidationError as error:
                        cleaned.append(None)
                        for message in error.messages:
                            errors[index].append((column.name, raw, message))
            for index, value in zip(filled, cleaned):
                values[index][attname] = value
        return list(zip(values, blanks, errors))

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

    def _row(self, number, values, blanks, existing) -> tuple | None:
        """The row to write, pk first (None for a new row); None when the row is
        invalid (its errors are recorded) or unchanged."""
        if not self._resolve(number, values):
            return None
        # Key cells are required: a blank one was refused before this.
        key = tuple(values[attname] for attname in self.spec.key)
        current = existing.get(key)
        if not self._admitted(number, key, current):
            return None
        if not self._staff_named(number, values, current):
            return None
        merged = dict(current) if current else dict(self.defaults)
        merged.update(values)
        if current is None or not self.options.blank_keeps_value:
            for attname in blanks:  # none is required: see _check
                merged[attname] = self.columns_by_attname[attname].clean("")
        instance = self._checked_instance(number, merged)
        if instance is None:
            return None
        # The instance's attributes are the row, as clean() and derive() left it.
        merged = instance.__dict__
        del merged["_state"]
        return self._classify(number, key, merged, current)

    def _resolve(self, number, values) -> bool:
        """Replace names (patient MRN, usernames) by ids; unknown names are errors."""
        for attname, column_name in (("patient_id", "patient_mrn"), *STAFF_COLUMNS):
            if attname not in values:
                continue
            name = values[attname]
            if attname == "patient_id":
                patient = self.lookups.patient(name)
                resolved = patient.pk if patient else None
                message = E_UNKNOWN_PATIENT
            else:
                resolved = self.lookups.user_id(name)
                message = E_UNKNOWN_USER
            if resolved is None:
                self.outcome.error(number, column_name, name, message)
                return False
            values[attname] = resolved
        return True

    def _staff_named(self, number, values, current) -> bool:
        """The staff a row names are clinical staff, as the services require,
        unless the stored record already names them."""
        for attname, column_name in STAFF_COLUMNS:
            user_id = values.get(attname)
            if user_id is None or (current and current[attname] == user_id):
                continue
            if not self.lookups.is_clinical_staff(user_id):
                username = self.lookups.username(user_id)
                self.outcome.error(number, column_name, username, E_NOT_CLINICAL_STAFF)
                return False
        return True

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

    # --- one row -----------------------------------------------------------------

    def _admitted(self, number, key, current) -> bool:
        """A row's key is new in this file, and the mode lets it be written."""
        first = self.keys_before.get(key) or self.keys_seen.setdefault(key, number)
        if first != number:
            names = ", ".join(self.spec.key_columns)
            self.outcome.error(
                number, "", "", E_DUPLICATE_KEY.format(key=names, first=first)
            )
            return False
        mode = self.options.mode
        if current is not None and mode == ImportMode.CREATE_ONLY:
            self.outcome.error(number, self.spec.key_columns[0], key[0], E_EXISTS)
            return False
        if current is None and mode == ImportMode.UPDATE_ONLY:
            self.outcome.error(number, self.spec.key_columns[0], key[0], E_NOT_FOUND)
            return False
        return True

    def _checked_instance(self, number, merged):
        """The model's own cross-field rules (clean), on an unsaved instance.

        Built without Model.__init__, whose per-field work costs more than all of a
        row's validation: clean() only reads attributes, all of which are set here.
        """
        instance = self.model.__new__(self.model)
        instance.__dict__.update(merged)
        instance._state = ModelState()
        if "patient_id" in merged:
            # The patient as looked up: the rules read it without a query per row.
            instance._state.fields_cache["patient"] = self.lookups.patient_by_id(
                merged["patient_id"]
            )
        try:
            instance.clean()
        except ValidationError as error:
            for column, messages in error.message_dict.items():
                for message in messages:
                    self.outcome.error(number, column, merged.get(column), message)
            return None
        if self.derive is not None:
            self.derive(instance)
        return instance

    def _classify(self, number, key, merged, current):
        if current is None:
            self.outcome.new += 1
            self._preview(number, key, "new", merged, None)
            return (None, *self.row_values(merged))
        changes = [
            attname for attname in self.compared if merged[attname] != current[attname]
        ]
        if not changes:
            self.outcome.unchanged += 1
            return None
        if self.spec.lockable and current["status"] == RecordStatus.FINAL:
            self.outcome.error(number, "", "", E_FINAL)
            return None
        self.outcome.changed += 1
        if self.watched.intersection(changes):
            self.watched_changes.append(current["id"])
        self._preview(number, key, "changed", merged, current, changes)
        return (current["id"], *self.row_values(merged))

    def _preview(self, number, key, action, merged, current, changes=None) -> None:
        if len(self.outcome.preview) >= PREVIEW_ROWS:
            return
        fields = changes or [
            c.attname
            for c in self.spec.columns
            if merged.get(c.attname) not in ("", None)
        ]
        self.outcome.preview.append(
            {
                "row": number,
                "key": " / ".join(str(part) for part in key),
                "action": action,
                "changes": [
                    [
                        name,
                        _text(current[name]) if current else "",
                        _text(merged[name]),
                    ]
                    for name in fields
                ],
            }
        )


_REFUSED = object()

# The two process-wide tweaks below (the cycle collector paused, threads handing
# over sooner) touch every thread of the process: in a threaded web server, every
# other request. Only processes that do nothing but import turn them on: the Celery
# workers (records.imports.tasks) and the command line (import_records).
_tweaks = False


def process_tweaks_allow() -> None:
    """This process only imports: imports may pause the collector and lower the
    switch interval while they run."""
    global _tweaks
    _tweaks = True


@contextmanager
def process_tweaks_allowed() -> Iterator[None]:
    """As process_tweaks_allow, for one command's run (the command line's)."""
    global _tweaks
    before, _tweaks = _tweaks, True
    try:
        yield
    finally:
        _tweaks = before


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector off while a file is read (importing processes only).

    Reading a file makes millions of short-lived objects (cells, values, rows);
    reference counting frees them, none form cycles, yet they set off collections
    that walk every object of the process: a quarter of an import's time. Any
    cycles made meanwhile are collected after the pause, as usual.
    """
    if not _tweaks or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _at_once(work: Callable[[Any], Any]) -> Future:
    """Run a chunk's lookups now, on this thread's connection."""
    future: Future = Future()
    with connection.cursor() as cursor:
        future.set_result(work(cursor))
    return future


# A key cell that is blank or invalid (None could be a value).
_NO_KEY = object()


def _key_value(column: Column, raw: str) -> Any:
    """A key cell's value; _NO_KEY when it is blank or invalid."""
    if raw == "":
        return _NO_KEY
    try:
        return column.clean(raw)
    except ValidationError:
        return _NO_KEY


def _unescaped_all(raws: list[str]) -> list[str]:
    """The cells as the user meant them (see _unescaped): the same list when no
    cell needs it, as nearly always."""
    if "\n'" in "\n" + "\n".join(raws):
        return list(map(_unescaped, raws))
    return raws


def _unescaped(raw: str) -> str:
    """A cell as the user meant it: our exports write '=... so that spreadsheets
    show text, not formulas; the apostrophe is not part of the value."""
    if raw[:1] == "'" and raw[1:2] in FORMULA_PREFIXES:
        return raw[1:]
    return raw


def _same_check(column: Column, lookups: Lookups) -> Callable[[str, Any, bool], bool]:
    """Whether a cell says what is stored, judged on the text alone.

    A False only means "clean the row and compare properly": '07.4' and 7.40 are
    the same number. A True must be certain: the cell is exactly how an export
    writes the stored value (or blank, where blank cells keep values).
    """
    if column.attname in STAFF_ATTNAMES:

        def same_user(raw, stored, keeps_blanks):
            if raw == "":
                return keeps_blanks
            user_id = lookups.user_id(raw)  # None: no such user, never the same
            return user_id is not None and user_id == stored

        return same_user

    try:
        blank = column.clean("")
    except ValidationError:
        blank = _REFUSED  # a required column: the full check names the problem

    def same(raw, stored, keeps_blanks):
        if raw == "":
            return keeps_blanks or stored == blank
        return raw == stored or raw == _text(stored)

    return same


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return str(value)


# --- writing: COPY, update, history ------------------------------------------------

# The writer thread's work, in the order it takes it: lookups first (the checking
# thread waits for them), then writes (in the order they came), then the end.
_READ, _WRITE, _END = 0, 1, 2
TEXT_FIELDS = frozenset({"CharField", "TextField"})
# Fields whose values csv writes as PostgreSQL reads them (str(value)).
PLAIN_FIELDS = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "BigIntegerField",
        "BooleanField",
        "DateField",
        "DecimalField",
        "ForeignKey",
        "IntegerField",
        "PositiveIntegerField",
        "PositiveSmallIntegerField",
        "SmallIntegerField",
    }
)


class Writer:
    """Writes the checked chunks in the caller's transaction, on a thread of its
    own: PostgreSQL stores one chunk while Python checks the next.

    Each chunk is COPYed into a staging table; one INSERT ... SELECT adds the new
    rows and one UPDATE ... FROM applies the changed ones, each writing the history
    rows of what it wrote: PostgreSQL does the copying, not Python. The thread
    also runs the importer's lookups of the chunks ahead, before any write that
    waits, so that the checking thread does not wait for a statement to end.

        with Writer(importer, reason=..., on_insert=...):
            importer.run(table)

    Leaving the block waits for the thread, and raises what it raised; the
    caller's transaction then rolls back everything this import wrote.
    """

    def __init__(
        self,
        importer: Importer,
        *,
        reason: str,
        on_insert: Callable[[Any, list[int]], None] | None = None,
    ):
        self.importer = importer
        self.reason = reason
        # Called with the writer's cursor and the ids of each chunk's new rows.
        self.on_insert = on_insert
        model = importer.model
        meta = model._meta
        self.table = meta.db_table
        self.pk = meta.pk.column
        # Every column, and the ones a row of the file fills (staged, pk first).
        self.columns = [meta.pk.column, *importer.column_names]
        staged = [meta.pk, *importer.written]
        self.staged = [f.column for f in staged]
        self.stage_table = f"import_stage_{self.table}"
        self.copy_statement = self._copy_statement(staged)
        self.arrays = [i for i, f in enumerate(staged) if isinstance(f, ArrayField)]
        history = model.history.model._meta
        self.history_table = history.db_table
        history_columns = {f.column for f in history.concrete_fields}
        missing = set(self.columns) - history_columns
        if missing:  # a field left out of history: these statements would not do
            raise ValueError(f"{self.history_table} lacks {sorted(missing)}")
        self.history_tail = [
            "history_date",
            "history_change_reason",
            "history_type",
            "history_user_id",
        ]
        self.params = {
            "now": importer.now,
            "user": getattr(importer.acting_user, "pk", None),
            "reason": reason,
        }
        self.insert_statement, self.update_statement = self._write_statements()
        self._tasks: queue.PriorityQueue = queue.PriorityQueue()
        self._order = itertools.count()
        self._room = threading.Semaphore(WRITES_WAITING)
        self._error: BaseException | None = None
        self._abandoned = False
        self._thread: threading.Thread | None = None

    def _write_statements(self) -> tuple[str, str]:
        """The INSERT of a chunk's new rows and the UPDATE of its changed ones,
        each writing the history rows of what it wrote."""
        history_columns = _quoted(self.columns + self.history_tail)
        every = _quoted(self.columns)
        data = _quoted(self.staged[1:])
        # The new ids only when someone wants them (the care team's grants).
        returning = f'RETURNING "{self.pk}"' if self.on_insert else ""
        insert = f"""
            WITH inserted AS (
                INSERT INTO "{self.table}" ({data},
                    "created_at", "updated_at", "created_by_id", "version")
                SELECT {data}, %(now)s, %(now)s, %(user)s, 1
                FROM "{self.stage_table}" WHERE "{self.pk}" IS NULL
                RETURNING *
            )
            INSERT INTO "{self.history_table}" ({history_columns})
            SELECT {every}, %(now)s, %(reason)s, '+', %(user)s FROM inserted
            {returning}
        """
        meta = self.importer.model._meta
        keys = {meta.get_field(a).column for a in self.importer.spec.key}
        updates = ", ".join(
            f'"{c}" = stage."{c}"' for c in self.staged[1:] if c not in keys
        )
        updated = ", ".join(f'updated."{c}"' for c in self.columns)
        update = f"""
            WITH updated AS (
                UPDATE "{self.table}" AS target SET {updates},
                    "updated_at" = %(now)s, "version" = target."version" + 1
                FROM "{self.stage_table}" AS stage
                WHERE target."{self.pk}" = stage."{self.pk}"
                RETURNING target.*
            )
            INSERT INTO "{self.history_table}" ({history_columns})
            SELECT {updated}, %(now)s, %(reason)s, '~', %(user)s FROM updated
        """
        return insert, update

    def _copy_statement(self, staged) -> str:
        """COPY of the staged columns as CSV (see _csv): an empty quoted cell is
        NULL in every column but text, where it is the empty text."""
        nullable = []
        for model_field in staged:
            kind = model_field.get_internal_type()
            if kind in TEXT_FIELDS:
                if model_field.null:  # None and "" would both be "" in the CSV
                    raise ValueError(f"{model_field} allows NULL: COPY could not tell")
            elif kind in PLAIN_FIELDS or _text_array(model_field):
                nullable.append(model_field.column)
            else:
                raise ValueError(f"{model_field} ({kind}): no CSV form for COPY here")
        return (
            f'COPY "{self.stage_table}" ({_quoted(self.staged)}) FROM STDIN '
            f"WITH (FORMAT csv, FORCE_NULL ({_quoted(nullable)}))"
        )

    def __enter__(self) -> "Writer":
        quoted = _quoted(self.staged)
        with connection.cursor() as cursor:
            # Writers of this table wait until the import commits; readers do not.
            cursor.execute(f'LOCK TABLE "{self.table}" IN SHARE ROW EXCLUSIVE MODE')
            cursor.execute(
                f'CREATE TEMP TABLE "{self.stage_table}" ON COMMIT DROP AS '
                f'SELECT {quoted} FROM "{self.table}" WITH NO DATA'
            )
            # Foreign keys checked as each statement ends, on the writer thread
            # while the next chunk is checked; not all at COMMIT, alone.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        # The thread shares this connection (and so the transaction); psycopg
        # lets one thread at a time use it.
        self._pg = connection.connection
        self._thread = threading.Thread(
            target=self._work, name="import-writer", daemon=True
        )
        self._thread.start()
        self._handoffs = _quick_handoffs()
        self._handoffs.__enter__()
        self.importer.write = self._put
        self.importer.lookup = self._lookup
        return self

    def __exit__(self, kind, error, traceback) -> None:
        self.importer.write = None
        self.importer.lookup = _at_once
        self._abandoned = error is not None  # what is left to write is not needed
        self._tasks.put((_END, next(self._order), None))
        try:
            self._thread.join()
        finally:
            self._handoffs.__exit__(None, None, None)
        if self._error is not None and not _echo(self._error, of=error):
            # The database's own error, not what the main thread met after it
            # (a transaction already aborted).
            raise self._error
        if error is None:
            with connection.cursor() as cursor:
                # ON COMMIT DROP waits for the outermost commit; the next import
                # in the same transaction (a test, a script) needs the name again.
                cursor.execute(f'DROP TABLE "{self.stage_table}"')
                # Django's own: every foreign key here is checked at COMMIT.
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")

    # --- the checking thread's side ------------------------------------------------

    def _lookup(self, work: Callable[[Any], Any]) -> Future:
        if self._error is not None:
            raise self._error
        future: Future = Future()
        # In this thread's context: one "today" for every rule (today_fixed).
        self._tasks.put((_READ, next(self._order), (future, copy_context(), work)))
        return future

    def _put(self, new: list[tuple], changed: list[tuple]) -> None:
        if self._error is not None:
            raise self._error
        payload = self._csv(new + changed)
        self._room.acquire()  # at most WRITES_WAITING chunks wait: flat memory
        self._tasks.put(
            (_WRITE, next(self._order), (payload, bool(new), bool(changed)))
        )

    def _csv(self, rows: list[tuple]) -> bytes:
        """The rows as COPY reads them, made here rather than on the writer
        thread: PostgreSQL would wait while that thread waited for Python."""
        if self.arrays:
            rows = [list(row) for row in rows]
            for row in rows:
                for position in self.arrays:
                    row[position] = _array_literal(row[position])
        out = io.StringIO()
        # Every cell quoted: an empty cell is NULL only where FORCE_NULL says.
        csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(rows)
        return out.getvalue().encode()

    # --- the writer thread ---------------------------------------------------------

    def _work(self) -> None:
        cursor = None
        try:
            cursor = self._pg.cursor()
        except BaseException as error:  # noqa: B036 - every task now fails with it
            self._error = error
        try:
            while True:
                kind, _, job = self._tasks.get()
                if kind == _END:
                    return
                if kind == _READ:
                    self._run_lookup(cursor, *job)
                    continue
                try:
                    if self._error is None and not self._abandoned:
                        self._write(cursor, *job)
                except BaseException as error:  # noqa: B036 - handed to the caller
                    self._error = error
                finally:
                    self._room.release()
        finally:
            if cursor is not None:
                cursor.close()

    def _run_lookup(self, cursor, future: Future, context, work) -> None:
        if self._abandoned:
            future.cancel()
        elif self._error is not None:
            future.set_exception(self._error)
        else:
            try:
                future.set_result(context.run(work, cursor))
            except BaseException as error:  # noqa: B036 - handed to the caller
                self._error = error
                future.set_exception(error)

    def _write(self, cursor, payload: bytes, new: bool, changed: bool) -> None:
        """COPY the rows into the staging table; insert the new ones, update the
        changed ones, and write a history row for each, in two statements."""
        with cursor.copy(self.copy_statement) as copy:
            copy.write(payload)
        if new:
            cursor.execute(self.insert_statement, self.params)
            if self.on_insert is not None:
                self.on_insert(cursor, [pk for (pk,) in cursor.fetchall()])
        if changed:
            cursor.execute(self.update_statement, self.params)
        cursor.execute(f'TRUNCATE "{self.stage_table}"')


def _text_array(model_field) -> bool:
    """An array of text that is never NULL: what _array_literal writes."""
    return (
        isinstance(model_field, ArrayField)
        and not model_field.null
        and model_field.base_field.get_internal_type() in TEXT_FIELDS
    )


def _echo(error: BaseException, *, of: BaseException | None) -> bool:
    """Whether `error` only says that `of`, raised first, aborted the transaction."""
    if of is None or of is error:
        return False
    return isinstance(error, InFailedSqlTransaction) and not _aborted(of)


def _aborted(error: BaseException) -> bool:
    return isinstance(error, InFailedSqlTransaction) or isinstance(
        error.__cause__, InFailedSqlTransaction
    )


def _array_literal(values: Iterable[str]) -> str:
    """A PostgreSQL array of text, as COPY or a cast reads it: {"A00","B01.2"}."""
    values = list(values)
    joined = "".join(values)
    if '"' in joined or "\\" in joined:
        values = [v.replace("\\", "\\\\").replace('"', '\\"') for v in values]
    return '{"' + '","'.join(values) + '"}' if values else "{}"


_handoff_lock = threading.Lock()
_handoff_users = 0
_handoff_default: float | None = None  # the interval to restore, while lowered
HANDOFF_S = 0.0005


@contextmanager
def _quick_handoffs() -> Iterator[None]:
    """Threads (all of the process's) hand the interpreter over sooner while a
    writer runs (importing processes only, see _tweaks).

    The writer thread needs the interpreter for a moment after each database
    call; at Python's default switch interval (5 ms) it waits up to that long
    whenever the checking thread holds it, and PostgreSQL waits with it.
    """
    global _handoff_users, _handoff_default
    if not _tweaks:  # a web process: its other requests keep their interval
        yield
        return
    with _handoff_lock:
        if _handoff_users == 0:
            _handoff_default = sys.getswitchinterval()
            sys.setswitchinterval(HANDOFF_S)
        _handoff_users += 1
    try:
        yield
    finally:
        with _handoff_lock:
            _handoff_users -= 1
            if _handoff_users == 0:
                sys.setswitchinterval(_handoff_default)


def _quoted(columns: list[str]) -> str:
    return ", ".join(f'"{c}"' for c in columns)
