"""An import's columns: each cell cleaned by the model field it fills (its
to_python, choices and validators: the rules the admin forms apply), compiled
once per import so that a row costs microseconds."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import (
    MaxLengthValidator,
    MaxValueValidator,
    MinValueValidator,
)
from django.db import models
from django.utils.text import capfirst

from records.imports.wording import choice_list, impossible_date
from records.patients import validators as patient_rules

E_REQUIRED = "This value is required."
E_DATE = "Enter a date as YYYY-MM-DD (or DD/MM/YYYY)."
E_INTEGER = "Enter a whole number."
E_NUMBER = "Enter a number."
E_CHOICE = "Not one of: {choices}."
E_UNKNOWN_PATIENT = "No patient has this MRN."
E_UNKNOWN_USER = "No user has this username."

DATE_FORMATS = ("%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y")


def _date(raw: str) -> date:
    """A date cell of an import file: ISO (the fast path), else DD/MM/YYYY with
    / . or -. Deliberately not records.patients.repositories._parse_date, the other
    date parser (the search box's): a file's formats stay fixed and locale-free
    whatever the forms accept (no month names), and a cell that fits none is
    refused with a reason rather than read as no date (issue #14)."""
    try:
        return date.fromisoformat(raw)
    except ValueError:
        pass
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
    # 2025-02-30: the day that does not exist named, not the format asked for.
    raise ValidationError(impossible_date(raw) or E_DATE, code="date")


def _integer(raw: str) -> int:
    try:
        return int(raw)  # most cells; int() takes no more than Decimal() does
    except ValueError:
        pass
    try:
        number = Decimal(raw)
    except InvalidOperation:
        raise ValidationError(E_INTEGER, code="integer") from None
    if not number.is_finite() or number != number.to_integral_value():
        raise ValidationError(E_INTEGER, code="integer")
    return int(number)


def _to_python(model_field: models.Field) -> Callable[[str], Any]:
    if isinstance(model_field, models.DateField):
        return _date
    if isinstance(model_field, models.IntegerField):
        return _integer
    if isinstance(model_field, models.DecimalField):

        def decimal(raw: str) -> Decimal:
            try:
                return model_field.to_python(raw)
            except ValidationError:
                raise ValidationError(E_NUMBER, code="number") from None

        return decimal
    if type(model_field) in (models.CharField, models.TextField):
        return str
    # Fields that normalise (MRN, phone, e-mail) keep their own conversion.
    return model_field.to_python


def _compiled(validator) -> Callable[[Any], None]:
    """A validator as a cheap test, calling the validator itself (for its exact
    message) only when the value fails: most cells pass, and there are millions."""
    if isinstance(validator, MaxLengthValidator):
        limit = validator.limit_value

        def max_length(value) -> None:
            if len(value) > limit:
                validator(value)

        return max_length
    if isinstance(validator, MinValueValidator):
        low = validator.limit_value

        def minimum(value) -> None:
            if value < low:
                validator(value)

        return minimum
    if isinstance(validator, MaxValueValidator):
        high = validator.limit_value

        def maximum(value) -> None:
            if value > high:
                validator(value)

        return maximum
    return validator


def _all_pass(validator) -> Callable[[list], bool]:
    """Whether every value of a column passes `validator`, asked of the whole
    column at once (in C, mostly). False means: ask each value, for its message."""
    if isinstance(validator, MaxLengthValidator):
        limit = validator.limit_value
        return lambda values: max(map(len, values)) <= limit
    if isinstance(validator, MinValueValidator):
        low = validator.limit_value
        return lambda values: min(values) >= low
    if isinstance(validator, MaxValueValidator):
        high = validator.limit_value
        return lambda values: max(values) <= high
    if validator is patient_rules.date_not_in_future:
        return lambda values: max(values) <= patient_rules.today()
    if validator is patient_rules.date_not_before_1900:
        return lambda values: min(values) >= patient_rules.MIN_DATE
    if validator is patient_rules.mrn_validate:
        return lambda values: all(map(patient_rules.mrn_pattern().fullmatch, values))

    def each(values) -> bool:
        for value in values:
            validator(value)  # a ValidationError: not all pass
        return True

    return each


def _to_python_many(to_python) -> Callable[[list[str]], list]:
    """A column's cells converted at once; raises where one cell would."""
    if to_python is str:
        return list
    # Both try these first, and return what they return.
    if to_python is _date:
        return lambda raws: list(map(date.fromisoformat, raws))
    if to_python is _integer:
        return lambda raws: list(map(int, raws))
    return lambda raws: list(map(to_python, raws))


@dataclass(frozen=True)
class Column:
    """One spreadsheet column: its header, the model field it fills, its help."""

    name: str
    attname: str
    required: bool
    help: str
    example: str
    clean: Callable[[str], Any] = field(repr=False)
    # The key of the exported value in a row of `values()`.
    source: str
    # clean() of many non-blank cells at once, or None when any of them would
    # fail (cleaning each then names the problems): a file's cells are cleaned a
    # column at a time, and nearly all of them pass.
    clean_many: Callable[[list[str]], list | None] = field(repr=False)


def model_column(
    model: type[models.Model], name: str, *, example: str, header: str | None = None
) -> Column:
    """A column cleaned exactly as the model field `name` cleans a form value."""
    model_field = model._meta.get_field(name)
    to_python = _to_python(model_field)
    choices = {}
    if model_field.choices:
        for value, label in model_field.choices:
            choices[str(value).lower()] = value
            choices[str(label).lower()] = value
    # Each choice by its label (and its code where spelled otherwise): both read.
    valid = choice_list(model_field)
    checks = [_compiled(validator) for validator in model_field.validators]
    # A blank cell: the field's default (status 'active'), else empty or NULL.
    if model_field.has_default():
        empty = model_field.get_default()
    else:
        empty = None if model_field.null else ""
    required = not model_field.blank and not model_field.has_default()

    def blank():
        if required:
            raise ValidationError(E_REQUIRED, code="required")
        return empty

    # The three shapes most cells take, each with no step it does not need.
    if choices:

        def clean(raw: str):
            if raw == "":
                return blank()
            try:
                value = choices[str(to_python(raw)).lower()]
            except KeyError:
                raise ValidationError(
                    E_CHOICE.format(choices=valid), code="choice"
                ) from None
            for check in checks:
                check(value)
            return value

    elif to_python is str and len(checks) == 1:
        (check,) = checks

        def clean(raw: str):
            if raw == "":
                return blank()
            check(raw)
            return raw

    else:

        def clean(raw: str):
            if raw == "":
                return blank()
            value = to_python(raw)
            for check in checks:
                check(value)
            return value

    convert_many = _to_python_many(to_python)
    all_pass = [_all_pass(validator) for validator in model_field.validators]

    def clean_many(raws: list[str]) -> list | None:
        try:
            if choices:
                lowered = (
                    map(str.lower, raws)
                    if to_python is str
                    else (str(value).lower() for value in map(to_python, raws))
                )
                values = list(map(choices.get, lowered))
            else:
                values = convert_many(raws)
            if None in values:
                return None  # not a choice, or a value cleaning would not give
            for passes in all_pass:
                if not passes(values):
                    return None
        except (ValidationError, ValueError):
            return None
        return values

    attname = model_field.attname
    # capfirst, not capitalize(): "MRN", "SpO2 (%)", "Temperature (°C)" kept.
    help_text = capfirst(str(model_field.help_text or model_field.verbose_name))
    if model_field.choices:
        help_text = f"{help_text.rstrip('.')}. One of: {valid}."
    return Column(
        name=header or name,
        attname=attname,
        required=required,
        help=help_text,
        example=example,
        clean=clean,
        source=attname,
        clean_many=clean_many,
    )


def lookup_column(
    name: str, attname: str, *, help_text: str, example: str, export_key: str
) -> Column:
    """A column naming another row (a patient by MRN, a user by username); the
    engine resolves the name to an id with one query for the whole file."""
    return Column(
        name=name,
        attname=attname,
        required=True,
        help=help_text,
        example=example,
        clean=lambda raw: raw.strip() if raw else _required(),
        source=export_key,
        clean_many=lambda raws: [raw.strip() for raw in raws],
    )


def _required():
    raise ValidationError(E_REQUIRED, code="required")
