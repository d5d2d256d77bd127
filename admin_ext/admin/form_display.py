"""How the chart forms show what they hold and ask for: dates typed the way they
are shown, measurements without trailing zeros, today's date on a new record.

Called from ChartForm.__init__ for every chart form (patients, visits,
assessments, media)."""

from decimal import Decimal

from django import forms
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import timezone
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import capfirst

DATE_PLACEHOLDER = "DD/MM/YYYY"
E_DATE = "Enter a date as DD/MM/YYYY (or 17 May 2023), e.g. 17/05/2023."
# A new record's date starts on today: the day it is usually written.
DATED_TODAY = ("visit_date", "performed_on")
# Not shown on a new record's form: no version yet, no change to give a reason for.
NEW_RECORD_HIDDEN = frozenset({"version", "change_reason", "expected_version"})


def decimal_text(value) -> str:
    """7.600 -> '7.6', 10.0 -> '10', never '1E+1'."""
    if not isinstance(value, Decimal):
        return value
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def prepare_fields(form: forms.BaseForm) -> None:
    """Placeholders, date hints, plain decimals and today's date on `form`."""
    new = not form.instance.pk
    for name, field in form.fields.items():
        if isinstance(field, forms.DateField):
            field.error_messages["invalid"] = E_DATE
            field.widget.attrs.setdefault("placeholder", DATE_PLACEHOLDER)
            if new and name in DATED_TODAY and not form.initial.get(name):
                form.initial[name] = timezone.localdate()
        elif isinstance(field, forms.DecimalField):
            value = form.initial.get(name)
            if isinstance(value, Decimal):
                # Still a Decimal (an untouched field stays unchanged), without
                # the column's trailing zeros: Decimal("7.6"), shown 7.6.
                form.initial[name] = Decimal(decimal_text(value))


def fieldsets_without(fieldsets, drop) -> list:
    """`fieldsets` less the fields named in `drop`, and less any set left empty."""
    kept = []
    for name, options in fieldsets:
        fields = []
        for line in options.get("fields", ()):
            if isinstance(line, (list, tuple)):
                line = tuple(f for f in line if f not in drop)
                if line:
                    fields.append(line)
            elif line not in drop:
                fields.append(line)
        if fields:
            kept.append((name, {**options, "fields": tuple(fields)}))
    return kept


# A read-only page shows a decimal measurement through a display of its own
# ("shown_weight_kg"): Django's shows every decimal place the column has (7.600);
# and its patient as a link to the chart's summary, not to the details form.
SHOWN = "shown_"


def shown_names(model) -> list[str]:
    """The display names decimals_shown may swap in for `model`'s fields."""
    return [SHOWN + field.name for field in model._meta.fields if _swapped(field)]


def _swapped(field) -> bool:
    """A decimal (7.6, not 7.600), the patient (a link to the summary), or a
    member of staff (their name as text: the user pages are administrators')."""
    return (
        isinstance(field, models.DecimalField)
        or field.name == "patient"
        or _staff(field)
    )


def _staff(field) -> bool:
    related = getattr(field, "related_model", None)
    return related is not None and related._meta.label == settings.AUTH_USER_MODEL


def decimals_shown(model, fieldsets) -> list:
    """`fieldsets` with each decimal field swapped for its plain display."""

    def swap(name):
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            return name
        return SHOWN + name if _swapped(field) else name

    kept = []
    for name, options in fieldsets:
        fields = tuple(
            (
                tuple(swap(f) for f in line)
                if isinstance(line, (list, tuple))
                else swap(line)
            )
            for line in options.get("fields", ())
        )
        kept.append((name, {**options, "fields": fields}))
    return kept


class DecimalDisplayMixin:
    """For a ModelAdmin: the `shown_<field>` displays decimals_shown names."""

    def __getattr__(self, name):
        if not name.startswith(SHOWN):
            raise AttributeError(name)
        field_name = name[len(SHOWN) :]
        try:
            field = self.model._meta.get_field(field_name)
        except FieldDoesNotExist:
            raise AttributeError(name) from None

        def shown(obj):
            value = getattr(obj, field_name, None)
            if value is None:
                return "-"
            if _staff(field):
                return str(value)  # the name, without a link few may follow
            if field_name == "patient":  # the chart opens on its summary
                url = reverse("admin:patients_patient_summary", args=[value.pk])
                return format_html('<a class="text-link" href="{}">{}</a>', url, value)
            return decimal_text(value)

        shown.short_description = capfirst(field.verbose_name)
        return shown
