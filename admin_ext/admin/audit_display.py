"""Audit events and chart changes as people read them (issue #17).

What is stored in an event (its summary, hashed into the chain) never changes:
only its display. "create patient #2" reads "DEMO-00002 QUENNARD, Lorai";
"view visit record #630" reads "Follow-up visit on 6 Dec 2026, for DEMO-00094
...". The objects a page names are read in bulk: one query for its charts and
one for each kind of object on it, whatever the number of rows.
"""

import re
from collections import defaultdict
from datetime import date, datetime, timedelta

from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Group
from django.core.exceptions import FieldDoesNotExist
from django.utils import timezone
from django.utils.text import capfirst

from records.audit.models import Action, AuditEvent
from records.audit.services import audit_record
from records.common.display import show_date, show_datetime
from records.patients import repositories

# An event's summary as audit_object writes it by default ("create patient #2"),
# or as chart_opened does ("summary patient #2"): a verb, the object, its id.
AUTO_SUMMARY = re.compile(r"^(?P<verb>\w+) (?P<noun>[\w' ]+?) #(?P<id>\d+)$")
# Verbs that name the page opened, not the act (the Action column says that).
PAGES = {
    "summary": "summary page",
    "access": "who could open it",
    "history": "history",
    "compare": "compared with a likely duplicate",
    "letter": "letter",
}
CHART_ID = re.compile(r"\b(?:chart|patient) #(\d+)")


def _chart_rows(model, user, ids):
    return repositories.records_visible_to(model, user).filter(pk__in=ids)


def _grants(user, ids):
    from records.patients.models import BreakGlassGrant

    return _chart_rows(BreakGlassGrant, user, ids).select_related("user")


def _team_grants(user, ids):
    from records.patients.models import PatientGroupObjectPermission

    return PatientGroupObjectPermission.objects.filter(
        pk__in=ids,
        content_object_id__in=repositories.patients_visible_to(user).values("pk"),
    ).select_related("group")


def _users(user, ids):
    from records.users.models import User

    return User.objects.filter(pk__in=ids)


# object_type -> (rows by id, the row's name); others by verbose name and id.
LOADERS = {
    "clinical_records.clinicalrecord": (
        lambda user, ids: _chart_rows(
            apps.get_model("clinical_records", "ClinicalRecord"), user, ids
        ),
        str,
    ),
    "patients.assessment": (
        lambda user, ids: _chart_rows(
            apps.get_model("patients", "Assessment"), user, ids
        ),
        str,
    ),
    "patients.mediafile": (
        lambda user, ids: _chart_rows(
            apps.get_model("patients", "MediaFile"), user, ids
        ),
        str,
    ),
    "patients.breakglassgrant": (
        _grants,
        lambda grant: f"Emergency access by {grant.user.name_with_username}",
    ),
    "patients.patientgroupobjectpermission": (
        _team_grants,
        lambda grant: f"Care team {grant.group.name}",
    ),
    "auth.group": (
        lambda user, ids: Group.objects.filter(pk__in=ids),
        lambda group: group.name,
    ),
    "users.user": (_users, lambda person: f"User {person.name_with_username}"),
}


def charts_named(user, ids) -> dict[int, str]:
    """MRN and name of each chart the user may open (one query)."""
    ids = {pk for pk in ids if pk}
    if not ids:
        return {}
    rows = repositories.patients_visible_to(user).filter(pk__in=ids)
    return {patient.pk: str(patient) for patient in rows}


def _ints(values) -> set[int]:
    return {int(value) for value in values if str(value).isdigit()}


def events_describe(events, user, *, where: str, already=()) -> None:
    """Set `what` on each event: the object in words, with its chart. Naming a
    chart is reading it: each chart named (but those in `already`, read by the
    page itself) gets a "view" event, as the change timeline's do."""
    events = list(events)
    wanted = defaultdict(set)
    for event in events:
        if event.object_type in LOADERS:
            wanted[event.object_type].add(event.object_id)
    names = {}
    for label, ids in wanted.items():
        load, name = LOADERS[label]
        for row in load(user, _ints(ids)):
            names[(label, str(row.pk))] = name(row)
    chart_ids = {event.patient_id for event in events}
    for event in events:
        chart_ids.update(int(pk) for pk in CHART_ID.findall(event.summary))
    charts = charts_named(user, chart_ids)
    for event in events:
        event.what = _describe(event, names, charts)
    named = set(charts) - set(already)
    if named:
        # Once a day per chart and screen is enough: an auditor paging back and
        # forth would otherwise fill the trail with their own readings.
        named -= set(
            AuditEvent.objects.filter(
                actor=user,
                at__gte=timezone.now() - timedelta(days=1),
                action=Action.VIEW,
                patient_id__in=named,
                summary__endswith=f"named in the {where}",
            ).values_list("patient_id", flat=True)
        )
    for chart_id in sorted(named):
        audit_record(
            action=Action.VIEW,
            actor=user,
            object_type="patients.patient",
            object_id=chart_id,
            patient_id=chart_id,
            summary=f"chart #{chart_id} named in the {where}",
        )


def _describe(event, names, charts) -> str:
    chart = charts.get(event.patient_id)
    match = AUTO_SUMMARY.match(event.summary)
    if match and match["id"] == event.object_id and event.object_type:
        if event.object_type == "patients.patient":
            thing = chart or f"A chart no longer open to you (#{event.object_id})"
        else:
            thing = names.get((event.object_type, event.object_id))
            if thing is None:
                thing = f"{capfirst(match['noun'])} #{event.object_id}"
            if chart:
                thing = f"{thing}, for {chart}"
        page = PAGES.get(match["verb"])
        return f"{thing} ({page})" if page else thing
    # Another summary: its words, with any chart it names by number named.
    text = CHART_ID.sub(
        lambda found: (
            f"the chart of {charts[int(found[1])]}"
            if int(found[1]) in charts
            else found[0]
        ),
        event.summary,
    )
    return capfirst(text.replace("_", " "))


# --- the change timeline ------------------------------------------------------------


def change_what(model, record, charts: dict[int, str]) -> str:
    """A changed record in words, from its history row (no query)."""
    instance = record.instance
    label = model._meta.label_lower
    if label == "patients.patient":
        return str(instance)
    if label == "users.user":
        return f"User {instance.name_with_username}"
    chart = charts.get(getattr(record, "patient_id", None))
    text = str(instance) if label in LOADERS else f"{model._meta.verbose_name}"
    return f"{capfirst(text)}, for {chart}" if chart else capfirst(text)


def field_change(model, name: str, old, new) -> tuple[str, str, str]:
    """A field's change in words: its verbose name, choice labels, dates."""
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return name, _value(None, old), _value(None, new)
    return capfirst(str(field.verbose_name)), _value(field, old), _value(field, new)


def _value(field, value) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(_value(getattr(field, "base_field", None), v) for v in value)
    if field is not None and field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, datetime):
        return show_datetime(value)
    if isinstance(value, date):
        return show_date(value)
    return str(value)


def changes_describe(rows: list[dict], user) -> None:
    """The timeline's rows in words: the record with its chart (one query for
    the charts), field names and values as the forms show them, a reference to
    a person or a record by its name (one query for each kind referred to)."""
    referred = defaultdict(set)
    for row in rows:
        for name, old, new in row["raw_fields"]:
            target = _related_model(row["model"], name)
            if target is not None:
                referred[target].update(v for v in (old, new) if v is not None)
    charts = charts_named(user, {row["chart"] for row in rows})
    named = {}
    for target, ids in referred.items():
        if target._meta.label_lower == "patients.patient":
            found = charts_named(user, ids)
        else:
            rows_found = target._default_manager.in_bulk(ids)
            found = {pk: _name(obj) for pk, obj in rows_found.items()}
        named.update({(target, pk): text for pk, text in found.items()})
    for row in rows:
        model, record = row["model"], row["record"]
        row["what"] = change_what(model, record, charts)
        fields = []
        for name, old, new in row["raw_fields"]:
            target = _related_model(model, name)
            if target is not None:
                old = named.get((target, old), old)
                new = named.get((target, new), new)
            fields.append(field_change(model, name, old, new))
        row["fields"] = fields


def _related_model(model, name):
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    return field.related_model if field.many_to_one else None


def _name(obj) -> str:
    return getattr(obj, "name_with_username", None) or str(obj)


class ScreenReadingsFilter(admin.SimpleListFilter):
    """The audit screens' own readings (a chart named on the trail is read, and
    recorded): hidden by default, so the trail shows what others did."""

    title = "readings of the audit screens"
    parameter_name = "screen_readings"

    def lookups(self, request, model_admin):
        return (("shown", "Shown"),)

    def queryset(self, request, queryset):
        if self.value() == "shown":
            return queryset
        return queryset.exclude(
            action=Action.VIEW, summary__regex=SCREEN_READING.pattern
        )


# What events_describe records ("chart #12 named in the audit trail").
SCREEN_READING = re.compile(r"named in the (audit trail|audit console)$")
