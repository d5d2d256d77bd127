"""The auditor's reports: a chart's trail, a user's trail, who could open a chart."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from records.audit.models import Action, AuditEvent
from records.audit.services import audit_record
from records.patients.models import Patient, PatientGroupObjectPermission
from records.patients.repositories import opens_every_chart, patients_visible_to

# Enough for any chart's period; past it the report says it is partial.
MAX_ACCESS_POINTS = 200
# Changes a report shows at the most (newest first): its page says when there are more.
CHANGE_ROWS = 500


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime

    @classmethod
    def of_days(cls, first: date, last: date) -> "Period":
        start = timezone.make_aware(datetime.combine(first, time.min))
        end = timezone.make_aware(datetime.combine(last + timedelta(days=1), time.min))
        return cls(start=start, end=end)


def patient_events(*, patient_id: int, period: Period) -> QuerySet[AuditEvent]:
    """Everything done to or with this chart: views, changes, downloads, exports."""
    return (
        AuditEvent.objects.filter(
            patient_id=patient_id, at__gte=period.start, at__lt=period.end
        )
        .select_related("actor")
        .order_by("at", "id")
    )


def user_events(*, username: str, period: Period) -> QuerySet[AuditEvent]:
    return (
        AuditEvent.objects.filter(
            actor_username=username, at__gte=period.start, at__lt=period.end
        )
        .select_related("actor")
        .order_by("at", "id")
    )


def who_could_open(*, patient: Patient, period: Period) -> dict[str, set[str]]:
    """Everyone who could open the chart at some moment of the period, and why:
    evaluated at its start and at each change of the chart's teams, of someone's
    groups or flags and of emergency grants within it, as patient_access_at
    decides at one moment (a test holds the two equal).

    Six queries, whatever the number of moments: the state at the period's start
    and every change within it are read once and replayed in order. (Asked of
    patient_access_at moment by moment, a month in which 200 accounts were made
    cost the chart's audit report a thousand queries and a second.)"""
    from django.contrib.auth.models import Group

    from records.patients.models import BreakGlassGrant
    from records.users.roles import ROLES_OPENING_EVERY_CHART

    users, user_changes = _user_states(period)
    teams, team_changes = _team_states(patient, period)
    emergencies = list(
        BreakGlassGrant.objects.filter(
            patient=patient, granted_at__lt=period.end, expires_at__gt=period.start
        ).values_list("user_id", "granted_at", "expires_at")
    )
    names = dict(Group.objects.values_list("pk", "name"))
    wide_roles = {pk for pk, name in names.items() if name in ROLES_OPENING_EVERY_CHART}
    changes = sorted(user_changes + team_changes, key=lambda change: change[0])
    moments = {period.start, *(at for at, *_ in changes if at >= period.start)}
    moments.update(at for _, at, _ in emergencies if at >= period.start)
    access: dict[str, set[str]] = {}
    applied = 0
    for moment in sorted(moments)[:MAX_ACCESS_POINTS]:
        while applied < len(changes) and changes[applied][0] <= moment:
            _, kind, key, state = changes[applied]
            (users if kind == "user" else teams)[key] = state
            applied += 1
        live = {user for user, since, until in emergencies if since <= moment < until}
        team_groups = {group for group, present in teams.items() if present}
        for user_id, (username, active, superuser, groups) in users.items():
            if not active:
                continue
            reasons = ["superuser"] if superuser else []
            reasons += [f"role: {names[pk]}" for pk in groups & wide_roles]
            reasons += [f"care team: {names[pk]}" for pk in groups & team_groups]
            if user_id in live:
                reasons.append("emergency access")
            if reasons:
                access.setdefault(username, set()).update(reasons)
    return access


def _user_states(period: Period) -> tuple[dict, list]:
    """Each user's state (username, active, superuser, groups) at the period's
    start, and the changes of access within it as (at, "user", id, state). A
    sign-in writes a history row too (the last sign-in), changing none of them:
    only rows that change someone's state are changes. Three queries."""
    from records.users.models import User

    history = User.history.model
    fields = ("history_id", "id", "history_date", "history_type", "username")
    fields += ("is_active", "is_superuser")
    before = (
        history.objects.filter(history_date__lt=period.start)
        .order_by("id", "-history_date", "-history_id")
        .distinct("id")
        .values(*fields)
    )
    during = history.objects.filter(
        history_date__gte=period.start, history_date__lt=period.end
    ).values(*fields)
    rows = [*before, *during]
    memberships = history._meta.get_field("historicaluser_groups").related_model
    groups: dict[int, set[int]] = {}
    for history_id, group_id in memberships.objects.filter(
        history_id__in=[row["history_id"] for row in rows]
    ).values_list("history_id", "group_id"):
        groups.setdefault(history_id, set()).add(group_id)
    states, changes, latest = {}, [], {}
    for row in sorted(rows, key=lambda r: (r["history_date"], r["history_id"])):
        state = (
            row["username"],
            row["is_active"] and row["history_type"] != "-",
            row["is_superuser"],
            frozenset(groups.get(row["history_id"], ())),
        )
        if row["history_date"] < period.start:
            states[row["id"]] = state
        elif latest.get(row["id"]) != state:
            changes.append((row["history_date"], "user", row["id"], state))
        latest[row["id"]] = state
    return states, changes


def _team_states(patient: Patient, period: Period) -> tuple[dict, list]:
    """Which teams' view grants the chart held at the period's start (group id:
    held), and each change within it as (at, "team", group id, held). The grant
    history of one chart is short: read whole, up to the period's end."""
    rows = (
        PatientGroupObjectPermission.history.filter(
            content_object_id=patient.pk,
            permission__codename="view_patient",
            history_date__lt=period.end,
        )
        .order_by("history_date", "history_id")
        .values_list("history_date", "group_id", "history_type")
    )
    states, changes = {}, []
    for at, group_id, kind in rows:
        if at < period.start:
            states[group_id] = kind != "-"
        else:
            changes.append((at, "team", group_id, kind != "-"))
    return states, changes


@dataclass(frozen=True)
class Opener:
    """One person who could open a chart in a period, for the auditor's pages."""

    username: str
    name: str  # full name and username
    reasons: tuple[str, ...]
    uses: int  # openings of the chart under an emergency grant in the period
    first_use: datetime | None
    last_use: datetime | None


def chart_openers(*, patient: Patient, period: Period) -> list[Opener]:
    """who_could_open, with each person's name and their emergency openings of
    the chart in the period (three queries whatever the number of people)."""
    from django.db.models import Count, Max, Min

    from records.patients.models import BreakGlassUse
    from records.users.models import User

    found = who_could_open(patient=patient, period=period)
    uses = {
        row["grant__user__username"]: row
        for row in BreakGlassUse.objects.filter(
            grant__patient=patient, at__gte=period.start, at__lt=period.end
        )
        .values("grant__user__username")
        .annotate(n=Count("id"), first=Min("at"), last=Max("at"))
    }
    for username in uses:  # used that day: could open it, whatever history says
        found.setdefault(username, set()).add("emergency access")
    names = {
        user.username: user.name_with_username
        for user in User.objects.filter(username__in=list(found))
    }
    return [
        Opener(
            username=username,
            name=names.get(username, username),
            reasons=tuple(sorted(reasons)),
            uses=uses.get(username, {}).get("n", 0),
            first_use=uses.get(username, {}).get("first"),
            last_use=uses.get(username, {}).get("last"),
        )
        for username, reasons in sorted(found.items())
    ]


@dataclass
class Changes:
    """Field-level changes, newest first; `partial` when the period held more
    than were read (the newest `limit` are shown)."""

    rows: list[dict]
    partial: bool


def history_changes(
    *,
    user,
    period: Period,
    patient_id: int | None = None,
    limit: int = CHANGE_ROWS,
) -> Changes:
    """Changes to the charts `user` may open (and, for the whole clinic, to users)
    in the period: one chart's when `patient_id` is given.

    Chart values are shown: each chart whose changes are read gets a "view" event
    in the audit trail, as opening its history in NDAS does. Charts deleted since
    keep their history for those who may open every chart.
    """
    from records.clinical_records.models import ClinicalRecord
    from records.patients.models import Assessment, MediaFile
    from records.users.models import User

    children = (Assessment, ClinicalRecord, MediaFile)
    sources = [(Patient, "id"), *[(model, "patient_id") for model in children]]
    if patient_id is None:
        sources.append((User, None))
    visible = (
        None if opens_every_chart(user) else patients_visible_to(user).values("pk")
    )
    rows, partial = [], False
    for model, chart in sources:
        # The history model's own manager: `model.history` builds a manager
        # class at each use (inspect.getmembers; milliseconds a report).
        history = model.history.model
        # The change's kind in words, looked up once rather than per row
        # (get_history_type_display rebuilds the choices for each call).
        kinds = dict(history._meta.get_field("history_type").flatchoices)
        records = history.objects.filter(
            history_date__gte=period.start, history_date__lt=period.end
        )
        if patient_id is not None:
            records = records.filter(**{chart: patient_id})
        if chart is not None and visible is not None:
            records = records.filter(**{f"{chart}__in": visible})
        records = list(
            records.select_related("history_user")
            .annotate(previous=_previous_version(history))
            .order_by("-history_date")[: limit + 1]
        )
        partial = partial or len(records) > limit
        records = records[:limit]
        previous = _previous_records(history, records)
        for record in records:
            fields, raw = [], []
            before = previous.get(record.history_id)
            if before is not None:
                delta = record.diff_against(before)
                raw = [(c.field, c.old, c.new) for c in delta.changes]
                fields = [(name, _text(old), _text(new)) for name, old, new in raw]
            rows.append(
                {
                    "chart": getattr(record, chart) if chart else None,
                    "model": model,
                    "record": record,
                    "at": record.history_date,
                    "what": f"{model._meta.verbose_name} #{record.id}",
                    "type": str(kinds.get(record.history_type, record.history_type)),
                    "user": str(record.history_user or ""),
                    "reason": record.history_change_reason or "",
                    "fields": fields,
                    "raw_fields": raw,  # the values themselves, for display
                }
            )
    rows.sort(key=lambda change: change["at"], reverse=True)
    partial = partial or len(rows) > limit
    rows = rows[:limit]
    for chart_id in sorted({row["chart"] for row in rows} - {None}):
        audit_record(
            action=Action.VIEW,
            actor=user,
            object_type="patients.patient",
            object_id=chart_id,
            patient_id=chart_id,
            summary=f"changes to chart #{chart_id} in the audit console",
            details={"from": period.start.isoformat(), "to": period.end.isoformat()},
        )
    return Changes(rows=rows, partial=partial)


def _previous_version(history) -> Subquery:
    """The history_id of the version before a row of the history model `history`
    (simple-history's prev_record, as a column of the query)."""
    return Subquery(
        history.objects.filter(
            id=OuterRef("id"), history_date__lt=OuterRef("history_date")
        )
        .order_by("-history_date", "-history_id")
        .values("history_id")[:1]
    )


def _previous_records(history, records) -> dict[int, object]:
    """The version before each changed record (history_id -> history row), read
    together in one query."""
    wanted = {r.history_id: r.previous for r in records if r.history_type == "~"}
    versions = history.objects.in_bulk([pk for pk in wanted.values() if pk])
    return {record: versions[pk] for record, pk in wanted.items() if pk}


def _text(value) -> str:
    return "" if value is None else str(value)
