"""Plain words for what an import says: a column's choices by their labels, an
impossible date named as one, and the report's changes by field names and
values as the rest of NDAS shows them (not the database's code names)."""

import calendar
import re
from datetime import date

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.formats import date_format
from django.utils.text import capfirst

# A date written as the import reads them (entities.DATE_FORMATS and ISO):
# 2025-02-30, 30/02/2025, 30.02.2025, 30-02-2025.
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_DAY_FIRST = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")


def choice_list(model_field: models.Field) -> str:
    """'Mother (mother), Legal guardian (legal_guardian), ...': each choice by
    its label, with the code too where it is spelled otherwise (both are
    accepted, whatever their case)."""
    items = []
    for value, label in model_field.choices or ():
        label = str(label)
        same = label.lower() == str(value).lower()
        items.append(label if same else f"{label} ({value})")
    return ", ".join(items)


def impossible_date(raw: str) -> str | None:
    """'There is no 30 February 2025.' for a date written in an accepted way
    whose day or month does not exist; None for anything else."""
    match = _ISO.fullmatch(raw)
    if match:
        year, month, day = map(int, match.groups())
    else:
        match = _DAY_FIRST.fullmatch(raw)
        if not match:
            return None
        day, month, year = map(int, match.groups())
    if not 1 <= month <= 12:
        return f"There is no month {month}: write the day first (DD/MM/YYYY)."
    if day < 1 or day > calendar.monthrange(year, month)[1]:
        return f"There is no {day} {calendar.month_name[month]} {year}."
    return None


def field_label(model: type[models.Model], attname: str) -> str:
    """A field's name as its form shows it ('Date of birth'), from its attname
    (patient_id as the patient's)."""
    field = _field(model, attname)
    if field is None:
        return capfirst(attname.replace("_", " "))
    return capfirst(str(field.verbose_name))


def shown_value(model: type[models.Model], attname: str, text: str) -> str:
    """A stored value as the rest of NDAS shows it: a choice by its label, a
    date as 17 May 2023; anything else as it is."""
    field = _field(model, attname)
    if field is None or not text:
        return text
    if field.choices:
        labels = {str(value): str(label) for value, label in field.flatchoices}
        return labels.get(text, text)
    if isinstance(field, models.DateField) and not isinstance(
        field, models.DateTimeField
    ):
        try:
            return date_format(date.fromisoformat(text), "DATE_FORMAT")
        except ValueError:
            return text
    return text


def preview_shown(
    model: type[models.Model],
    preview: list[dict],
    key: tuple[str, ...] = (),
    related: dict[str, dict[str, str]] | None = None,
) -> list[dict]:
    """An import's preview (ImportJob.preview) with field names and values as
    people read them; `key` names the parts of each item's key (the entity's
    key attnames), `related` a related record's name by its id, per attname
    ({"patient_id": {"12": "NDA-0001"}})."""
    related = related or {}

    def shown(name: str, text: str) -> str:
        if name in related:
            return related[name].get(text, text)
        return shown_value(model, name, text)

    items = []
    for item in preview:
        parts = item["key"].split(" / ")
        if key and len(parts) == len(key):
            item = {**item, "key": " / ".join(map(shown, key, parts))}
        changes = [
            (field_label(model, name), shown(name, old), shown(name, new))
            for name, old, new in item["changes"]
        ]
        items.append({**item, "changes": changes})
    return items


def related_ids(
    model: type[models.Model], preview: list[dict], key: tuple[str, ...] = ()
) -> dict[str, set[int]]:
    """The ids of related records a preview holds, per foreign key attname."""
    fields = {f.attname: f for f in model._meta.concrete_fields if f.is_relation}
    found: dict[str, set[int]] = {}
    for item in preview:
        parts = item["key"].split(" / ")
        pairs = [(n, new) for n, _old, new in item["changes"]]
        pairs += [(n, _old) for n, _old, _new in item["changes"]]
        if key and len(parts) == len(key):
            pairs += list(zip(key, parts))
        for name, text in pairs:
            if name in fields and str(text).isdigit():
                found.setdefault(name, set()).add(int(text))
    return found


def _field(model, attname: str) -> models.Field | None:
    for field in model._meta.concrete_fields:
        if field.attname == attname:
            return field
    try:
        return model._meta.get_field(attname)
    except FieldDoesNotExist:
        return None


# A column naming a related record by one of its fields: patient_mrn.
_BY = {"mrn": "MRN", "username": "username"}


def column_labels(spec) -> dict[str, str]:
    """Each column of an entity (records.imports.entities.EntitySpec) by its
    plain name, for the export form: 'Gestation at birth (weeks)', 'Patient
    (MRN)'. The file's headers stay the column names."""
    labels = {}
    for column in spec.columns:
        label = field_label(spec.model, column.attname)
        by = column.name.rsplit("_", 1)[-1] if column.name != column.attname else ""
        if by in _BY and not label.lower().endswith(_BY[by].lower()):
            label = f"{label} ({_BY[by]})"
        labels[column.name] = label
    return labels
