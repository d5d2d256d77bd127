"""Clinic letters (a final visit or assessment) and the printable chart summary: what
they say, read only through the permission-aware repositories, and their audit.

A record or chart the user may not open is its model's DoesNotExist (a 404 to the
browser, as for any chart out of reach); a draft is refused with DraftLetterError.
Rendering them as PDF is the interface's job (admin_ext/pdf.py).
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from records.audit.models import Action
from records.audit.services import audit_object
from records.charts import letter_parts
from records.charts.summary import ChartSummary, chart_summary
from records.clinical_records import growth
from records.clinical_records import validators as visit_rules
from records.clinical_records.models import ClinicalRecord
from records.clinical_records.repositories import clinical_records_visible_to
from records.common.errors import ServiceError
from records.patients import ages, repositories
from records.patients.models import Assessment, Patient, RecordStatus
from records.patients.services.access import break_glass_use_record

E_DRAFT_LETTER = (
    "This {kind} is still a draft: only a final record can be sent as a letter. "
    "Make it final first, then download its letter."
)
# The printed summary shows the newest entries that fit a page; it says how many more.
PRINT_TIMELINE_ROWS = 15
PRINT_GROWTH_ROWS = 8
PRINT_SCORES = 6  # of each instrument
LOGO_SUFFIXES = {".png", ".jpg", ".jpeg", ".svg"}


class DraftLetterError(ServiceError):
    """A letter was asked of a record that is not final."""


@dataclass(frozen=True)
class Letterhead:
    name: str
    address_lines: list[str]
    logo_path: str  # an existing image file, or "" for none


def letterhead() -> Letterhead:
    """The clinic's name, address and logo, from the settings (CLINIC_*)."""
    logo = Path(settings.CLINIC_LOGO) if settings.CLINIC_LOGO else None
    usable = logo is not None and logo.suffix.lower() in LOGO_SUFFIXES
    return Letterhead(
        name=settings.CLINIC_NAME,
        address_lines=[
            line.strip() for line in settings.CLINIC_ADDRESS.split(";") if line.strip()
        ],
        logo_path=str(logo.resolve()) if usable and logo.is_file() else "",
    )


@dataclass(frozen=True)
class Line:
    """One labelled line of a letter: 'Weight', '17.4 kg, 53rd centile, SDS +0.07'."""

    label: str
    text: str


@dataclass
class Letter:
    kind: str  # "visit" or "assessment"
    record: ClinicalRecord | Assessment
    patient: Patient
    letterhead: Letterhead
    title: str
    record_date: date
    age: str
    corrected_age: str
    findings: list[Line]
    measurements: list[Line] = field(default_factory=list)
    growth_reference: str = ""
    diagnoses: list[tuple[str, str]] = field(default_factory=list)
    plan: str = ""
    follow_up: date | None = None
    clinician: str = ""
    clinician_title: str = ""
    written_on: date | None = None
    addressee: list[str] = field(default_factory=list)
    amended: letter_parts.Amendment | None = None

    @property
    def filename(self) -> str:
        """The download's name: the record's id alone, never a name or MRN."""
        return f"ndas-letter-{self.kind}-{self.record.pk}.pdf"


def _draft_check(record, kind: str) -> None:
    if record.status != RecordStatus.FINAL:
        raise DraftLetterError(E_DRAFT_LETTER.format(kind=kind))


def _ages(patient: Patient, on: date) -> tuple[str, str]:
    corrected = ages.corrected_age_in_days(
        born=patient.date_of_birth,
        on=on,
        gestation_weeks=patient.gestational_age_weeks,
        gestation_days=patient.gestational_age_days,
    )
    return ages.age_text(patient.date_of_birth, on), ages.age_text_from_days(corrected)


def _present(lines: list[Line]) -> list[Line]:
    return [line for line in lines if line.text]


def _growth_figures(record: ClinicalRecord) -> dict[str, str]:
    figures = {}
    for name, (field_name, _, _) in growth.MEASUREMENTS.items():
        unit = "kg/m²" if name == "bmi" else visit_rules.VITAL_RANGES[field_name][3]
        figures[name] = growth.figure_text(
            getattr(record, field_name),
            unit,
            getattr(record, f"{name}_sds"),
            getattr(record, f"{name}_centile"),
        )
    return figures


def visit_measurements(record: ClinicalRecord) -> list[Line]:
    """Growth measurements with their centiles and SDS, as the visit page words
    them ('17.4 kg, 53rd centile, SDS +0.07'), then the other vital signs."""
    figures = _growth_figures(record)
    lines = [
        Line(label, figures[name])
        for name, (_, _, label) in growth.MEASUREMENTS.items()
    ]
    for field_name in ("temperature_c", "heart_rate", "respiratory_rate", "spo2"):
        label, _, _, unit = visit_rules.VITAL_RANGES[field_name]
        value = getattr(record, field_name)
        lines.append(Line(label, "" if value is None else f"{value} {unit}"))
    return _present(lines)


def _final(records, *, pk, signer: str):
    """The record `pk` among those the user may open (else DoesNotExist), with
    its chart and signer; a draft is refused."""
    record = records.select_related("patient", signer).get(pk=pk)
    _draft_check(record, record._meta.verbose_name)
    return record


def _letter(
    *, kind: str, record, record_date: date, signer, findings: list[Line], **parts
) -> Letter:
    """What every letter of a final record says: its chart, the child's age on
    the record's date, who signed it, to whom it goes, its latest amendment."""
    patient = record.patient
    age, corrected = _ages(patient, record_date)
    return Letter(
        kind=kind,
        record=record,
        patient=patient,
        letterhead=letterhead(),
        title=str(record),
        record_date=record_date,
        age=age,
        corrected_age=corrected,
        findings=_present(findings),
        clinician=str(signer),
        clinician_title=letter_parts.signer_title(signer),
        written_on=timezone.localdate(),
        addressee=letter_parts.addressee(patient),
        amended=letter_parts.latest_amendment(record),
        **parts,
    )


def visit_letter(*, user, pk) -> Letter:
    """The letter of a final visit the user may open (else DoesNotExist)."""
    record = _final(clinical_records_visible_to(user), pk=pk, signer="clinician")
    return _letter(
        kind="visit",
        record=record,
        record_date=record.visit_date,
        signer=record.clinician,
        findings=[
            Line("Presenting complaint", record.chief_complaint),
            Line("History", record.clinical_history),
            Line("Examination", record.examination),
        ],
        measurements=visit_measurements(record),
        growth_reference=record.patient.get_growth_reference_display(),
        diagnoses=record.diagnoses_with_titles,
        plan=record.assessment_and_plan,
        follow_up=record.follow_up_date,
    )


def assessment_letter(*, user, pk) -> Letter:
    """The letter of a final assessment the user may open (else DoesNotExist)."""
    record = _final(repositories.assessments_visible_to(user), pk=pk, signer="assessor")
    score = "" if record.total_score is None else f"{record.total_score:f}"
    return _letter(
        kind="assessment",
        record=record,
        record_date=record.performed_on,
        signer=record.assessor,
        findings=[
            Line("Assessment", record.get_instrument_display()),
            Line("Total score", score),
            Line("Outcome", record.get_outcome_display() if record.outcome else ""),
            Line("Findings", record.findings),
        ],
        plan=record.recommendations,
    )


LETTERS = {"visit": visit_letter, "assessment": assessment_letter}


# --- the printable summary ---------------------------------------------------------


@dataclass
class PrintableSummary:
    summary: ChartSummary
    letterhead: Letterhead
    growth_rows: list[dict]
    growth_rows_left: int
    trends: list[tuple[str, list[tuple[date, str]], int]]
    timeline: list
    timeline_left: int
    printed_on: date

    @property
    def filename(self) -> str:
        return f"ndas-summary-{self.summary.patient.pk}.pdf"


def growth_rows(patient: Patient) -> list[dict]:
    """The chart's growth figures by visit, newest first: one row a visit with a
    measurement, one column a measurement, as the visit page words them. Reads the
    visits chart_summary loaded (no query)."""
    rows = []
    for visit in sorted(
        patient.clinical_records.all(), key=lambda v: (v.visit_date, v.pk), reverse=True
    ):
        figures = _growth_figures(visit)
        if any(figures.values()):
            rows.append({"on": visit.visit_date, **figures})
    return rows


def score_rows(patient: Patient) -> list[tuple[str, list[tuple[date, str]], int]]:
    """Each instrument's latest scores by date, oldest first (the summary's trends),
    and how many earlier ones are left out; from the assessments chart_summary
    loaded (no query)."""
    by_instrument: dict[str, list] = defaultdict(list)
    for a in sorted(patient.assessments.all(), key=lambda a: (a.performed_on, a.pk)):
        if a.total_score is not None:
            by_instrument[a.get_instrument_display()].append(
                (a.performed_on, f"{a.total_score:f}")
            )
    return [
        (label, scores[-PRINT_SCORES:], max(len(scores) - PRINT_SCORES, 0))
        for label, scores in sorted(by_instrument.items())
    ]


def summary_print(*, user, pk) -> PrintableSummary:
    """The chart summary of a chart the user may open (else Patient.DoesNotExist),
    cut to what a printed page holds."""
    summary = chart_summary(user=user, pk=pk)
    rows = growth_rows(summary.patient)
    entries = summary.timeline.paginator.object_list  # written as read
    return PrintableSummary(
        summary=summary,
        letterhead=letterhead(),
        growth_rows=rows[:PRINT_GROWTH_ROWS],
        growth_rows_left=max(len(rows) - PRINT_GROWTH_ROWS, 0),
        trends=score_rows(summary.patient),
        timeline=entries[:PRINT_TIMELINE_ROWS],
        timeline_left=max(len(entries) - PRINT_TIMELINE_ROWS, 0),
        printed_on=timezone.localdate(),
    )


# --- audit -------------------------------------------------------------------------


def letter_download_record(*, user, obj, document: str) -> None:
    """Each download of a letter or printed summary: an audit event (a download of
    the record or chart), and a use of an emergency grant when that is the reach."""
    patient_id = obj.pk if isinstance(obj, Patient) else obj.patient_id
    name = obj._meta.verbose_name
    break_glass_use_record(
        user=user, patient_id=patient_id, action=f"{obj._meta.model_name} {document}"
    )
    audit_object(
        action=Action.DOWNLOAD,
        actor=user,
        obj=obj,
        summary=f"{document} (PDF) of {name} #{obj.pk}",
        details={"document": document.replace(" ", "_")},
    )
