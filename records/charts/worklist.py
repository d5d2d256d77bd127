"""The clinician's worklist (the dashboard's first panel): drafts to sign off,
follow-ups due and overdue, charts opened lately, emergency access held, and growth
alerts on the charts they may open.

Every list is bounded (LIST_SIZE rows, and one more read only to know that there
are more) and costs the same few queries whatever the size of the tables; every
chart comes through records.patients.repositories, so a chart the user may no
longer open (a care team left, an emergency grant lapsed) drops out of every list.

What is whose:
- drafts, follow-ups: the user's own records (the visits they are the clinician
  of, the assessments they are the assessor of), on charts they may open now; a
  colleague's follow-ups show on each chart's summary, not on this worklist;
- charts opened lately: the user's own `view` events in the audit trail, newest
  first. The query walks a partial index of chart openings by (actor, at)
  backwards and stops after the RECENT_VIEWS_READ newest, so it costs the same at
  ten events or ten million: one chart opened again and again fills fewer places,
  never more reads;
- growth alerts: every chart the user may open (teams and emergency access).
  The rules are records.charts.growth_view.growth_alerts, on the figures each visit
  stores (rcpchgrowth is not called here). Running them over every reachable
  chart would read every visit of up to hundreds of thousands of charts on each
  dashboard, so only charts with a measured visit in the last GROWTH_ALERT_DAYS
  are read (the newest ALERT_VISITS_READ such visits, walked on a partial index of
  measured visits by date), each chart's visits in full (an alert compares a visit
  with the one before), and an alert counts when its visit falls in that window.
  An alert raised at an older visit stays on the chart's summary; it is news for
  the worklist only while recent. No stored flag to keep in step with amendments
  and recomputed figures: the figures are the single source.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from records.audit.models import Action, AuditEvent
from records.charts.growth_view import Alert, growth_alerts
from records.clinical_records.models import ClinicalRecord
from records.clinical_records.repositories import clinical_records_visible_to
from records.patients import repositories
from records.patients.models import Assessment, Patient, RecordStatus

LIST_SIZE = 10
FOLLOW_UP_DUE_DAYS = 14
# Overdue follow-ups older than this are a matter for the chart's review (its
# summary lists every one); the worklist keeps to what is still to act on.
FOLLOW_UP_OVERDUE_DAYS = 90
RECENT_VIEWS_READ = 200
GROWTH_ALERT_DAYS = 30
ALERT_VISITS_READ = 500
ALERT_CHARTS_READ = 100

# The visit fields the alert rules and the worklist's rows read.
ALERT_FIELDS = (
    "id",
    "patient_id",
    "visit_date",
    "weight_sds",
    "weight_centile",
    "head_circumference_sds",
    "head_circumference_centile",
)


@dataclass(frozen=True)
class Bounded:
    """The first LIST_SIZE rows of a list, and whether it holds more."""

    rows: list
    more: bool

    @classmethod
    def of(cls, rows: list, size: int = LIST_SIZE) -> "Bounded":
        return cls(rows[:size], len(rows) > size)


@dataclass(frozen=True)
class Draft:
    kind: str  # visit, assessment
    record: ClinicalRecord | Assessment
    patient: Patient
    on: date


@dataclass(frozen=True)
class FollowUp:
    visit: ClinicalRecord
    patient: Patient
    due: date
    overdue: bool


@dataclass(frozen=True)
class ChartOpened:
    patient: Patient
    at: datetime


@dataclass(frozen=True)
class ChartAlert:
    patient: Patient
    alert: Alert


@dataclass
class Worklist:
    drafts: Bounded
    follow_ups: Bounded
    recent_charts: Bounded
    emergency: Bounded
    alerts: Bounded
    today: date


# No row has this key (keys start at 1): asked for when a list of ids is empty,
# so that the query is made all the same (Django makes none for `__in=[]`) and
# the dashboard's queries do not change with what its panels hold (issue #15).
NO_ID = 0


def _ids(ids) -> list[int]:
    return list(ids) or [NO_ID]


def _patients(user, ids) -> dict[int, Patient]:
    """The charts among `ids` the user may open now, by id (one query, even for
    no ids)."""
    return {
        p.pk: p
        for p in repositories.patients_visible_to(user)
        .filter(pk__in=_ids(ids))
        .only("id", "mrn", "given_name", "family_name", "preferred_name")
    }


def drafts_awaiting_sign_off(user) -> Bounded:
    """The user's draft visits and assessments, newest first (two queries)."""
    visits = list(
        clinical_records_visible_to(user)
        .filter(clinician=user, status=RecordStatus.DRAFT)
        .select_related("patient")
        .order_by("-visit_date", "-pk")[: LIST_SIZE + 1]
    )
    assessments = list(
        repositories.assessments_visible_to(user)
        .filter(assessor=user, status=RecordStatus.DRAFT)
        .select_related("patient")
        .order_by("-performed_on", "-pk")[: LIST_SIZE + 1]
    )
    drafts = [Draft("visit", v, v.patient, v.visit_date) for v in visits] + [
        Draft("assessment", a, a.patient, a.performed_on) for a in assessments
    ]
    drafts.sort(key=lambda d: (d.on, d.record.pk), reverse=True)
    more = len(visits) > LIST_SIZE or len(assessments) > LIST_SIZE
    return Bounded(drafts[:LIST_SIZE], more or len(drafts) > LIST_SIZE)


def follow_ups_due(user, today: date) -> Bounded:
    """Follow-ups the user set that no visit has met yet (none on the chart on or
    after the date), due within FOLLOW_UP_DUE_DAYS or overdue by at most
    FOLLOW_UP_OVERDUE_DAYS, soonest first: the rule of the chart's summary."""
    met = ClinicalRecord.objects.filter(
        patient_id=OuterRef("patient_id"), visit_date__gte=OuterRef("follow_up_date")
    )
    visits = list(
        clinical_records_visible_to(user)
        .filter(
            clinician=user,
            follow_up_date__gte=today - timedelta(days=FOLLOW_UP_OVERDUE_DAYS),
            follow_up_date__lte=today + timedelta(days=FOLLOW_UP_DUE_DAYS),
        )
        .exclude(Exists(met))
        .select_related("patient")
        .order_by("follow_up_date", "pk")[: LIST_SIZE + 1]
    )
    return Bounded.of(
        [
            FollowUp(v, v.patient, v.follow_up_date, v.follow_up_date < today)
            for v in visits
        ]
    )


def recent_views(user) -> QuerySet:
    """(patient id, time) of the user's newest RECENT_VIEWS_READ chart openings:
    read backwards from the partial index audit_actor_views_idx alone."""
    return (
        AuditEvent.objects.filter(
            actor_id=user.pk, action=Action.VIEW, patient_id__isnull=False
        )
        .order_by("-at")
        .values_list("patient_id", "at")[:RECENT_VIEWS_READ]
    )


def charts_opened_recently(user) -> Bounded:
    """Charts the user opened, newest opening first, that they may still open."""
    latest: dict[int, datetime] = {}
    for patient_id, at in recent_views(user):
        if patient_id not in latest:
            latest[patient_id] = at
    charts = _patients(user, latest)
    opened = [ChartOpened(charts[pk], at) for pk, at in latest.items() if pk in charts]
    return Bounded.of(opened)


def emergency_access_held(user) -> Bounded:
    """The user's live emergency grants, the soonest to lapse first."""
    grants = list(
        repositories.live_emergency_grants(user)
        .select_related("patient")
        .order_by("expires_at", "pk")[: LIST_SIZE + 1]
    )
    return Bounded.of(grants)


def worklist_growth_alerts(user, today: date) -> Bounded:
    """Growth alerts raised at a visit of the last GROWTH_ALERT_DAYS on any chart
    the user may open, newest first (three queries; see the module's docstring)."""
    since = today - timedelta(days=GROWTH_ALERT_DAYS)
    measured = Q(weight_sds__isnull=False) | Q(head_circumference_sds__isnull=False)
    recent = (
        clinical_records_visible_to(user)
        .filter(measured, visit_date__gte=since)
        .order_by("-visit_date", "-id")
        .values_list("patient_id", flat=True)[:ALERT_VISITS_READ]
    )
    chart_ids = list(dict.fromkeys(recent))[:ALERT_CHARTS_READ]
    by_chart: dict[int, list[ClinicalRecord]] = {}
    for visit in (
        clinical_records_visible_to(user)
        .filter(measured, patient_id__in=_ids(chart_ids))
        .only(*ALERT_FIELDS)
    ):
        by_chart.setdefault(visit.patient_id, []).append(visit)
    found = [
        (chart_id, alert)
        for chart_id, visits in by_chart.items()
        for alert in growth_alerts(visits)
        if alert.on >= since
    ]
    found.sort(key=lambda item: (item[1].on, item[0]), reverse=True)
    found = found[: LIST_SIZE + 1]
    charts = _patients(user, {chart_id for chart_id, _ in found})
    return Bounded.of(
        [ChartAlert(charts[pk], alert) for pk, alert in found if pk in charts]
    )


def worklist(*, user, today: date | None = None) -> Worklist:
    """Everything the clinician's worklist shows, in a fixed number of queries."""
    today = today or timezone.localdate()
    return Worklist(
        drafts=drafts_awaiting_sign_off(user),
        follow_ups=follow_ups_due(user, today),
        recent_charts=charts_opened_recently(user),
        emergency=emergency_access_held(user),
        alerts=worklist_growth_alerts(user, today),
        today=today,
    )
