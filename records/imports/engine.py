"""The set-based import: validate every row in Python, COPY the good ones into a
staging table, then one INSERT ... ON CONFLICT and one history INSERT ... SELECT.

Rows are read, validated and staged in chunks, so memory does not grow with the
file. Everything a commit writes happens in one transaction: one invalid row, or
a failure anywhere, and nothing is written.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from itertools import islice
from operator import itemgetter
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models.base import ModelState
from django.utils import timezone

from records.common.services import BOOKKEEPING_FIELDS
from records.imports.entities import (
    E_REQUIRED,
    E_UNKNOWN_PATIENT,
    E_UNKNOWN_USER,
    Column,
    EntitySpec,
    header_key,
)
from records.imports.exports import FORMULA_PREFIXES
from records.imports.models import ImportMode
from records.imports.parsing import Table
from records.patients.models import Patient, RecordStatus

CHUNK_ROWS = 5000
MAX_ERRORS_KEPT = 1000
PREVIEW_ROWS = 20

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
    """The column of each cell position (None: an ignored, empty header)."""
    known = {header_key(column.name): column for column in spec.columns}
    columns: list[Column | None] = []
    seen: set[str] = set()
    for text in header:
        key = header_key(text)
        if not key:
            columns.append(None)
            continue
        column = known.get(key)
        if column is None:
            names = ", ".join(c.name for c in spec.columns)
            outcome.error(1, text, text, E_UNKNOWN_HEADER.format(columns=names))
        elif key in seen:
            outcome.error(1, text, text, E_DUPLICATE_HEADER)
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

    def patients(self, mrns: Iterable[str]) -> None:
        wanted = {m.strip().upper() for m in mrns} - self._patients.keys()
        if not wanted:
            return
        found = Patient.objects.filter(mrn__in=wanted).only(
            "pk",
            "mrn",
            "date_of_birth",
            "date_of_death",
            "gestational_age_weeks",
            "gestational_age_days",
        )
        for patient in found:
            self._patients[patient.mrn] = patient
            self._by_id[patient.pk] = patient
        for mrn in wanted:
            self._patients.setdefault(mrn, None)

    def patient(self, mrn: str) -> Patient | None:
        return self._patients.get(mrn.strip().upper())

    def patient_by_id(self, pk: int) -> Patient | None:
        return self._by_id.get(pk)

    def user_id(self, username: str) -> int | None:
        if self._users is None:
            from records.users.models import User

            self._users = dict(
                User.objects.filter(is_active=True).values_list("username", "pk")
            )
        return self._users.get(username)


class Importer:
    """Validates (and, when staging, stages) the rows of one file for one entity."""

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
        self.row_values = itemgetter(*[f.attname for f in self.concrete])
        # A change is a difference in these; other attributes are not columns.
        self.compared = [
            f.attname for f in self.concrete if f.attname not in BOOKKEEPING_FIELDS
        ]
        # What an unsaved model would hold: "" for text, None where NULL is allowed.
        self.defaults = {f.attname: f.get_default() for f in self.concrete}
        self.columns_by_attname = {c.attname: c for c in spec.columns}
        self.keys_seen: dict[tuple, int] = {}
        self.staged: list[tuple] = []
        self.stage: Callable[[list[tuple]], None] | None = None

    # --- reading -----------------------------------------------------------------

    def run(self, table: Table, progress: Callable[[int], None] | None = None):
        columns = map_header(self.spec, table.header, self.options.mode, self.outcome)
        if self.outcome.errors:
            return self.outcome
        width = len(columns)
        while True:
            chunk = list(islice(table.rows, CHUNK_ROWS))
            if not chunk:
                break
            self._chunk(chunk, columns, width)
            if progress:
                progress(self.outcome.rows)
        return self.outcome

    def _chunk(self, chunk, columns, width) -> None:
        parsed = []
        for number, cells in chunk:
            if not any(cells):
                continue  # blank lines are not rows
            self.outcome.rows += 1
            if len(cells) != width:
                # Trailing empty cells (a ragged CSV, an XLSX column) are harmless.
                extra = cells[width:]
                if len(cells) < width or any(extra):
                    self.outcome.error(
                        number,
                        "",
                        "",
                        E_CELL_COUNT.format(cells=len(cells), expected=width),
                    )
                    continue
            parsed.append(self._clean(number, cells, columns))
        self._resolve(parsed)
        existing = self._existing(parsed)
        rows = []
        for number, values, blanks in parsed:
            if values is None:
                continue
            row = self._merge(number, values, blanks, existing)
            if row is not None:
                rows.append(row)
        if self.stage is not None and not self.outcome.invalid and rows:
            self.stage(rows)

    def _clean(self, number: int, cells: list[str], columns):
        values: dict[str, Any] = {}
        blanks: set[str] = set()
        ok = True
        for column, raw in zip(columns, cells):
            if column is None:
                continue
            if raw == "":
                blanks.add(column.attname)
                continue
            if raw[0] == "'" and raw[1:2] in FORMULA_PREFIXES:
                # Our exports write '=... so spreadsheets show text, not formulas.
                raw = raw[1:]
            try:
                values[column.attname] = column.clean(raw)
            except ValidationError as error:
                ok = False
                for message in error.messages:
                    self.outcome.error(number, column.name, raw, message)
        return number, (values if ok else None), blanks

    def _resolve(self, parsed) -> None:
        """Replace names (patient MRN, usernames) by ids; unknown names are errors."""
        if "patient_id" not in {c.attname for c in self.spec.columns}:
            return
        self.lookups.patients(
            values["patient_id"]
            for _, values, _ in parsed
            if values and "patient_id" in values
        )
        for index, (number, values, blanks) in enumerate(parsed):
            if not values:
                continue
            for attname, column_name in (
                ("patient_id", "patient_mrn"),
                ("assessor_id", "assessor_username"),
                ("clinician_id", "clinician_username"),
            ):
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
                    parsed[index] = (number, None, blanks)
                    break
                values[attname] = resolved

    def _key(self, values: dict) -> tuple | None:
        try:
            return tuple(values[attname] for attname in self.spec.key)
        except KeyError:
            return None

    def _existing(self, parsed) -> dict[tuple, dict]:
        """The committed rows these rows would change, keyed like the file's rows."""
        keys = set()
        for _, values, _ in parsed:
            if values:
                key = values["__key__"] = self._key(values)
                if key is not None:
                    keys.add(key)
        if not keys:
            return {}
        first = self.spec.key[0]
        rows = self.model._default_manager.filter(
            **{f"{first}__in": {key[0] for key in keys}}
        ).values("pk", *[f.attname for f in self.concrete])
        found = {}
        for row in rows:
            key = tuple(row[attname] for attname in self.spec.key)
            if key in keys:
                found[key] = row
        return found

    # --- one row -----------------------------------------------------------------

    def _merge(self, number, values, blanks, existing):
        key = values.pop("__key__", None) or self._key(values)
        if key is None:
            # A blank key cell: name the (first) key column that is empty.
            missing = next(
                name
                for name, attname in zip(self.spec.key_columns, self.spec.key)
                if attname not in values
            )
            self.outcome.error(number, missing, "", E_REQUIRED)
            return None
        first = self.keys_seen.setdefault(key, number)
        if first != number:
            names = ", ".join(self.spec.key_columns)
            self.outcome.error(
                number, "", "", E_DUPLICATE_KEY.format(key=names, first=first)
            )
            return None
        current = existing.get(key)
        mode = self.options.mode
        if current is not None and mode == ImportMode.CREATE_ONLY:
            self.outcome.error(number, self.spec.key_columns[0], key[0], E_EXISTS)
            return None
        if current is None and mode == ImportMode.UPDATE_ONLY:
            self.outcome.error(number, self.spec.key_columns[0], key[0], E_NOT_FOUND)
            return None
        merged = dict(current) if current else dict(self.defaults)
        merged.update(values)
        for attname in blanks:
            if current is not None and self.options.blank_keeps_value:
                continue
            column = self.columns_by_attname[attname]
            try:
                merged[attname] = column.clean("")
            except ValidationError as error:
                self.outcome.error(number, column.name, "", error.messages[0])
                return None
        instance = self._checked_instance(number, merged)
        if instance is None:
            return None
        # The instance's attributes are the row, as clean() and derive() left it.
        merged = instance.__dict__
        del merged["_state"]
        return self._classify(number, key, merged, current)

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
        derive = getattr(instance, "compute_ages", None) or getattr(
            instance, "compute_bmi", None
        )
        if derive:
            derive()
        return instance

    def _classify(self, number, key, merged, current):
        if current is None:
            merged.update(
                created_at=self.now,
                updated_at=self.now,
                created_by_id=self.acting_user.pk,
                version=1,
            )
            self.outcome.new += 1
            self._preview(number, key, "new", merged, None)
            return self.row_values(merged)
        changes = [
            attname for attname in self.compared if merged[attname] != current[attname]
        ]
        if not changes:
            self.outcome.unchanged += 1
            return None
        if self.spec.lockable and current["status"] == RecordStatus.FINAL:
            self.outcome.error(number, "", "", E_FINAL)
            return None
        merged.update(updated_at=self.now, version=current["version"] + 1)
        self.outcome.changed += 1
        self._preview(number, key, "changed", merged, current, changes)
        return self.row_values(merged)

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


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return str(value)


# --- writing: staging, upsert, history -------------------------------------------


class Writer:
    """Stages rows with COPY and applies them with two statements, in the caller's
    transaction."""

    def __init__(self, importer: Importer):
        self.importer = importer
        model = importer.model
        self.table = model._meta.db_table
        self.columns = importer.column_names
        self.stage_table = f"import_stage_{self.table}"
        self.history_model = model.history.model

    def begin(self) -> None:
        quoted = ", ".join(f'"{c}"' for c in self.columns)
        with connection.cursor() as cursor:
            # Writers of this table wait until the import commits; readers do not.
            cursor.execute(f'LOCK TABLE "{self.table}" IN SHARE ROW EXCLUSIVE MODE')
            cursor.execute(
                f'CREATE TEMP TABLE "{self.stage_table}" ON COMMIT DROP AS '
                f'SELECT {quoted} FROM "{self.table}" WITH NO DATA'
            )
        self.importer.stage = self.copy

    def copy(self, rows: list[tuple]) -> None:
        quoted = ", ".join(f'"{c}"' for c in self.columns)
        with connection.cursor() as cursor:
            with cursor.cursor.copy(
                f'COPY "{self.stage_table}" ({quoted}) FROM STDIN'
            ) as copy:
                for row in rows:
                    copy.write_row(row)

    def apply(self, *, reason: str) -> list[int]:
        """Upsert the staged rows and write one history row for each; returns the
        ids of the rows inserted (not updated)."""
        spec = self.importer.spec
        key = [self.importer.model._meta.get_field(a).column for a in spec.key]
        keep = set(key) | {"created_at", "created_by_id"}
        quoted = ", ".join(f'"{c}"' for c in self.columns)
        updates = ", ".join(
            f'"{c}" = EXCLUDED."{c}"' for c in self.columns if c not in keep
        )
        history_columns, history_values = [], []
        for f in self.history_model._meta.concrete_fields:
            if f.attname == "history_id":
                continue
            history_columns.append(f'"{f.column}"')
            if f.attname == "history_date":
                history_values.append("%(now)s")
            elif f.attname == "history_change_reason":
                history_values.append("%(reason)s")
            elif f.attname == "history_type":
                history_values.append("CASE WHEN inserted THEN '+' ELSE '~' END")
            elif f.attname == "history_user_id":
                history_values.append("%(user)s")
            else:
                history_values.append(f'upserted."{f.column}"')
        sql = f"""
            WITH upserted AS (
                INSERT INTO "{self.table}" ({quoted})
                SELECT {quoted} FROM "{self.stage_table}"
                ON CONFLICT ({", ".join(f'"{c}"' for c in key)})
                DO UPDATE SET {updates}
                RETURNING "{self.table}".*, (xmax = 0) AS inserted
            )
            INSERT INTO "{self.history_model._meta.db_table}"
                ({", ".join(history_columns)})
            SELECT {", ".join(history_values)} FROM upserted
            RETURNING "id", "history_type"
        """
        with connection.cursor() as cursor:
            cursor.execute(
                sql,
                {
                    "now": self.importer.now,
                    "reason": reason,
                    "user": self.importer.acting_user.pk,
                },
            )
            inserted = [pk for pk, kind in cursor.fetchall() if kind == "+"]
            # ON COMMIT DROP waits for the outermost commit; the next import in the
            # same transaction (a test, a script) needs the name again.
            cursor.execute(f'DROP TABLE "{self.stage_table}"')
        return inserted
