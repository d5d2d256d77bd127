"""What opening a patient shows: header, growth, alerts, trends, timeline, diagnoses.

One chart is read through records.clinical_records.repositories (so only a chart the
user may open, else Patient.DoesNotExist) in a fixed number of queries, whatever its
size; the rest is worked out here from what was read.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from django.core.paginator import Page, Paginator
from django.utils import timezone

from records.charts import age_axis
from records.charts.growth_view import (  # noqa: F401
    A_HEAD_CROSSING,
    A_HEAD_HIGH,
    A_HEAD_LOW,
    A_WEIGHT_FALTERING,
    CENTILE_SPACE_SDS,
    GROWTH_CHARTS,
    Alert,
    corrected_age_years,
    growth_alerts,
    growth_series,
)
from records.clinical_records.models import ClinicalRecord
from records.clinical_records.repositories import patient_chart
from records.clinical_records.validators import icd10_title
from records.common.display import show_date
from records.patients import ages, repositories
from records.patients.models import Assessment, MediaFile, Patient
from records.patients.services.access import patient_care_teams

TIMELINE_PAGE_SIZE = 20

# --- assessments, diagnoses, follow-ups, timeline ----------------------------------


def score_trends(assessments: list[Assessment]) -> list[dict]:
    """Scored assessments per instrument, by (corrected where it applies) age in
    months, each with its age axis."""
    by_instrument: dict[str, list] = defaultdict(list)
    labels = {}
    for a in sorted(assessments, key=lambda a: a.performed_on):
        days = (
            a.corrected_age_days
            if a.corrected_age_days is not None
            else a.chronological_age_days
        )
        if a.total_score is None or days is None:
            continue
        labels[a.instrument] = a.get_instrument_display()
        by_instrument[a.instrument].append(
            {
                "x": age_axis.months_from_days(days),
                "y": float(a.total_score),
                "date": show_date(a.performed_on),
            }
        )
    return [
        {
            "name": key,
            "label": labels[key],
            "points": points,
            "axis": age_axis.trend_axis([p["x"] for p in points]),
        }
        for key, points in sorted(by_instrument.items())
    ]


@dataclass(frozen=True)
class Diagnosis:
    code: str
    title: str
    first_seen: date
    last_seen: date
    visits: int


def diagnoses_seen(visits: list[ClinicalRecord]) -> list[Diagnosis]:
    """Each ICD-10 code recorded at any visit, most recently seen first."""
    seen: dict[str, list[date]] = defaultdict(list)
    for visit in visits:
        for code in visit.diagnoses:
            seen[code].append(visit.visit_date)
    found = [
        Diagnosis(code, icd10_title(code), min(days), max(days), len(days))
        for code, days in seen.items()
    ]
    return sorted(found, key=lambda d: (d.last_seen, d.code), reverse=True)


@dataclass(frozen=True)
class FollowUp:
    due: date
    visit: ClinicalRecord
    overdue: bool


def follow_ups_due(visits: list[ClinicalRecord], today: date) -> list[FollowUp]:
    """Follow-up dates no visit has met yet (none on or after the date), soonest
    first; those already past are overdue."""
    dates = [v.visit_date for v in visits]
    due = []
    for visit in visits:
        when = visit.follow_up_date
        if when is None or any(d >= when for d in dates):
            continue
        due.append(FollowUp(when, visit, when < today))
    return sorted(due, key=lambda f: f.due)


@dataclass(frozen=True)
class TimelineEntry:
    on: date
    kind: str  # visit, assessment, media
    title: str
    detail: str
    status: str
    obj: object


class Timeline(Sequence):
    """A chart's records, newest first (on a day: visits, then assessments, then
    media; then the newest record first), read as TimelineEntry. The order needs
    only each record's date; an entry's words are written when it is read, so a
    page of the summary writes its 20 entries, not the chart's hundreds."""

    KINDS = {"visit": 0, "assessment": 1, "media": 2}

    def __init__(self, records: list[tuple[date, str, object]]):
        self._records = sorted(
            records,
            key=lambda r: (r[0], -self.KINDS[r[1]], r[2].pk),
            reverse=True,
        )

    def __len__(self) -> int:
        return len(self._records)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [_entry(*record) for record in self._records[index]]
        return _entry(*self._records[index])


def _entry(on: date, kind: str, obj) -> TimelineEntry:
    if kind == "visit":
        detail = obj.chief_complaint or ", ".join(obj.diagnoses)
        return TimelineEntry(on, kind, str(obj), detail, obj.get_status_display(), obj)
    if kind == "assessment":
        detail = " · ".join(
            part
            for part in (
                f"score {obj.total_score}" if obj.total_score is not None else "",
                obj.get_outcome_display() if obj.outcome else "",
            )
            if part
        )
        return TimelineEntry(on, kind, str(obj), detail, obj.get_status_display(), obj)
    detail = f"{obj.get_kind_display()}" + (
        f" · {obj.description}" if obj.description else ""
    )
    return TimelineEntry(on, kind, obj.original_name, detail, "", obj)


def timeline(
    visits: list[ClinicalRecord],
    assessments: list[Assessment],
    media: list[MediaFile],
) -> Timeline:
    return Timeline(
        [(v.visit_date, "visit", v) for v in visits]
        + [(a.performed_on, "assessment", a) for a in assessments]
        + [(timezone.localtime(m.uploaded_at).date(), "media", m) for m in media]
    )


# --- the whole summary -------------------------------------------------------------


@dataclass
class ChartSummary:
    patient: Patient
    reach: str | None
    care_teams: list[str]
    age: str
    corrected_age: str
    alerts: list[Alert]
    growth: list[dict]
    trends: list[dict]
    diagnoses: list[Diagnosis]
    follow_ups: list[FollowUp]
    timeline: Page
    latest_visit: ClinicalRecord | None = None
    counts: dict = field(default_factory=dict)

    @property
    def emergency(self) -> bool:
        return self.reach == repositories.REACH_EMERGENCY


def chart_summary(*, user, pk, page: int | str = 1) -> ChartSummary:
    """The summary of one chart the user may open (else Patient.DoesNotExist)."""
    patient = patient_chart(user=user, pk=pk)
    visits = list(patient.clinical_records.all())
    assessments = list(patient.assessments.all())
    media = list(patient.media_files.all())
    today = timezone.localdate()
    on = patient.date_of_death or today
    corrected_days = ages.corrected_age_in_days(
        born=patient.date_of_birth,
        on=on,
        gestation_weeks=patient.gestational_age_weeks,
        gestation_days=patient.gestational_age_days,
    )
    entries = timeline(visits, assessments, media)
    return ChartSummary(
        patient=patient,
        reach=repositories.chart_reach(user, patient.pk),
        care_teams=[team.name for team in patient_care_teams(patient)],
        age=ages.age_text(patient.date_of_birth, on),
        corrected_age=ages.age_text_from_days(corrected_days),
        alerts=growth_alerts(visits),
        growth=growth_series(patient, visits),
        trends=score_trends(assessments),
        diagnoses=diagnoses_seen(visits),
        follow_ups=follow_ups_due(visits, today),
        timeline=Paginator(entries, TIMELINE_PAGE_SIZE).get_page(page),
        latest_visit=max(visits, key=lambda v: (v.visit_date, v.pk), default=None),
        counts={
            "visits": len(visits),
            "assessments": len(assessments),
            "media": len(media),
        },
    )
