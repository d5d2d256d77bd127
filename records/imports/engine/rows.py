"""The row checker: one row's cells judged and cleaned, its names resolved, the
model's rules run, and the row found new, changed or unchanged (RowChecks, the
half of Importer that works on the rows of a chunk it has read).
"""

from collections.abc import Callable
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models.base import ModelState

from records.imports.engine.lookups import Lookups
from records.imports.engine.outcome import (
    E_DUPLICATE_KEY,
    E_EXISTS,
    E_FINAL,
    E_NOT_FOUND,
)
from records.imports.entities import E_UNKNOWN_PATIENT, E_UNKNOWN_USER, Column
from records.imports.exports import FORMULA_PREFIXES
from records.imports.models import ImportMode
from records.patients.models import RecordStatus
from records.patients.services.access import E_NOT_CLINICAL_STAFF, STAFF_FIELDS

PREVIEW_ROWS = 20
# Columns naming the clinician responsible for a record, and their fields.
STAFF_COLUMNS = tuple((f"{name}_id", f"{name}_username") for name in STAFF_FIELDS)
STAFF_ATTNAMES = frozenset(attname for attname, _ in STAFF_COLUMNS)


class RowChecks:
    """The checks of a chunk's rows, for Importer (which sets the state they
    read: its spec, options, outcome, lookups and the columns of the file)."""

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
