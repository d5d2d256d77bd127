"""The demo clinician's worklist, made sure to show something: on charts of their
care teams, a draft visit of theirs six days ago whose weight fell two centile
spaces and more since the visit before it (a growth alert) and that asks for a
follow-up in a week (due), and on another chart a visit whose follow-up is nine
days overdue. The random charts of records.demo.charts may or may not have
such rows near today; these are placed on purpose, after them.
"""

from datetime import date, timedelta

from django.db.models import Max

from records.clinical_records import services as visit_services
from records.clinical_records.models import VisitType
from records.demo.growth import _measure, _reference_value
from records.patients.models import Patient, PatientStatus, Sex
from records.patients.repositories import patients_by_team
from records.users.models import User

BASELINE_DAYS_AGO = 45
FALTERING_DAYS_AGO = 6
FOLLOW_UP_IN_DAYS = 7
OVERDUE_VISIT_DAYS_AGO = 50
OVERDUE_BY_DAYS = 9
BASELINE_SDS = 0.0
FALLEN_SDS = -1.6  # 2.4 centile spaces below the visit before
YOUNGEST_DAYS = 365
OLDEST_DAYS = 10 * 365


def _candidates(clinician: User, today: date, prefix: str) -> list[Patient]:
    """Active charts of the clinician's teams, of a child one to ten years old
    with a growth reference (male or female), with their last visit's date."""
    return list(
        patients_by_team(clinician)
        .filter(
            mrn__startswith=prefix,
            status=PatientStatus.ACTIVE,
            sex__in=(Sex.MALE, Sex.FEMALE),
            date_of_birth__lte=today - timedelta(days=YOUNGEST_DAYS),
            date_of_birth__gte=today - timedelta(days=OLDEST_DAYS),
        )
        .annotate(last_visit=Max("clinical_records__visit_date"))
        .order_by("mrn")
    )


def _weight(patient: Patient, sds: float, on: date):
    value = _reference_value(patient, "weight", sds, on)
    return None if value is None else _measure("weight_kg", value, "0.01")


def demo_worklist_add(
    *, acting_user: User, clinician: User, today: date, prefix: str, reason: str
) -> int:
    """Add the worklist's visits; returns how many (0 with no chart to hold them)."""
    charts = _candidates(clinician, today, prefix)
    falter_on = today - timedelta(days=FALTERING_DAYS_AGO)
    overdue_due = today - timedelta(days=OVERDUE_BY_DAYS)

    def after_last(patient: Patient, days_ago: int) -> date:
        """`days_ago`, or the day after the chart's last visit if that is later:
        the worklist's visits come after every other."""
        on = today - timedelta(days=days_ago)
        if patient.last_visit is not None and patient.last_visit >= on:
            on = patient.last_visit + timedelta(days=1)
        return on

    falter = next(
        (
            p
            for p in charts
            if after_last(p, BASELINE_DAYS_AGO) < falter_on
            and _weight(p, FALLEN_SDS, falter_on) is not None
        ),
        None,
    )
    overdue = next(
        (
            p
            for p in charts
            if p != falter and after_last(p, OVERDUE_VISIT_DAYS_AGO) < overdue_due
        ),
        None,
    )
    added = 0

    def visit(patient: Patient, on: date, **data) -> None:
        nonlocal added
        visit_services.clinical_record_create(
            acting_user=acting_user,
            data={
                "patient": patient,
                "visit_date": on,
                "visit_type": VisitType.FOLLOW_UP,
                "clinician": clinician,
                "chief_complaint": "Growth and development review",
                **data,
            },
            reason=reason,
        )
        added += 1

    if falter is not None:
        base_on = after_last(falter, BASELINE_DAYS_AGO)
        visit(falter, base_on, weight_kg=_weight(falter, BASELINE_SDS, base_on))
        visit(
            falter,
            falter_on,
            weight_kg=_weight(falter, FALLEN_SDS, falter_on),
            assessment_and_plan="Weight has fallen: dietitian referral; review soon.",
            follow_up_date=today + timedelta(days=FOLLOW_UP_IN_DAYS),
        )
    if overdue is not None:
        visit(
            overdue,
            after_last(overdue, OVERDUE_VISIT_DAYS_AGO),
            follow_up_date=overdue_due,
            assessment_and_plan="Review in five to six weeks.",
        )
    return added
