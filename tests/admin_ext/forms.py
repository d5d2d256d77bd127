"""Build the POST body of an admin form from the page that shows it."""

from datetime import date
from decimal import Decimal


def _value(value):
    if value is None:
        return ""
    if isinstance(value, (date, Decimal, int)):
        return str(value)
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    if hasattr(value, "pk"):
        return value.pk
    return value


def admin_form_data(response, **changes) -> dict:
    """The form as the browser would submit it untouched, with `changes` applied."""
    form = response.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        initial = form.initial.get(name, field.initial)
        if callable(initial):
            initial = initial()
        if field.disabled:
            continue
        if field.widget.__class__.__name__ in ("CheckboxInput",):
            if initial:
                data[name] = "on"
            continue
        data[name] = _value(initial)
    for inline in response.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        for name in ("TOTAL_FORMS", "INITIAL_FORMS", "MIN_NUM_FORMS", "MAX_NUM_FORMS"):
            data[f"{management.prefix}-{name}"] = management[name].value()
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}
