"""What can be imported and exported: each entity's columns, key and rules.

Its columns are built of records.imports.columns (a cell cleaned by the model
field it fills); cross-field rules are the models' own `clean()`.
"""

from dataclasses import dataclass, field

from django.db import models

from records.clinical_records.models import ClinicalRecord
from records.imports.columns import (  # noqa: F401
    DATE_FORMATS,
    E_CHOICE,
    E_DATE,
    E_INTEGER,
    E_NUMBER,
    E_REQUIRED,
    E_UNKNOWN_PATIENT,
    E_UNKNOWN_USER,
    Column,
    _date,
    lookup_column,
    model_column,
)
from records.imports.models import Entity
from records.patients.models import Assessment, Patient


@dataclass(frozen=True)
class EntitySpec:
    name: str
    model: type[models.Model]
    columns: tuple[Column, ...]
    # Model attnames forming the unique key of a row.
    key: tuple[str, ...]
    # Header names a user fills to identify a row.
    key_columns: tuple[str, ...]
    # Export: related names to follow, and extra values (name -> ORM path).
    export_paths: dict[str, str] = field(default_factory=dict)
    # A final record refuses changes: imports do not amend.
    lockable: bool = False

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _patient_columns() -> tuple[Column, ...]:
    examples = {
        "mrn": "NDA-00123",
        "given_name": "Talvi",
        "family_name": "Quennard",
        "preferred_name": "",
        "date_of_birth": "2025-03-14",
        "sex": "female",
        "gestational_age_weeks": "31",
        "gestational_age_days": "4",
        "birth_weight_grams": "1650",
        "guardian_name": "Orla Quennard",
        "guardian_relationship": "mother",
        "guardian_phone": "+44 20 7946 0123",
        "guardian_email": "orla@example.org",
        "address_line1": "12 Ardett Gardens",
        "address_line2": "",
        "city": "Quellhaven",
        "postcode": "QX26 6WH",
        "status": "active",
        "date_of_death": "",
    }
    return tuple(
        model_column(Patient, name, example=ex) for name, ex in examples.items()
    )


def _patient_mrn_column() -> Column:
    return lookup_column(
        "patient_mrn",
        "patient_id",
        help_text="MRN of the patient (who must exist).",
        example="NDA-00123",
        export_key="patient__mrn",
    )


def _assessment_columns() -> tuple[Column, ...]:
    return (
        _patient_mrn_column(),
        model_column(Assessment, "instrument", example="hine"),
        model_column(Assessment, "performed_on", example="2026-10-02"),
        lookup_column(
            "assessor_username",
            "assessor_id",
            help_text=(
                "Username of the assessor: an active clinician or administrator "
                "(a record keeps one who has left)."
            ),
            example="clinician",
            export_key="assessor__username",
        ),
        model_column(Assessment, "total_score", example="58"),
        model_column(Assessment, "outcome", example="borderline"),
        model_column(Assessment, "findings", example="Asymmetric tone."),
        model_column(Assessment, "recommendations", example="Review in 3 months."),
    )


def _codes(raw: str) -> list[str]:
    return [c for c in raw.replace(",", " ").split() if c]


def _visit_columns() -> tuple[Column, ...]:
    examples = {
        "visit_date": "2026-10-02",
        "visit_type": "follow_up",
        "chief_complaint": "Feeding difficulties",
        "clinical_history": "",
        "examination": "",
        "weight_kg": "7.45",
        "height_cm": "66.5",
        "head_circumference_cm": "42.0",
        "temperature_c": "36.8",
        "heart_rate": "128",
        "respiratory_rate": "32",
        "spo2": "98",
        "assessment_and_plan": "",
        "follow_up_date": "2026-12-02",
    }
    columns = [
        _patient_mrn_column(),
        lookup_column(
            "clinician_username",
            "clinician_id",
            help_text=(
                "Username of the clinician: an active clinician or administrator "
                "(a record keeps one who has left)."
            ),
            example="clinician",
            export_key="clinician__username",
        ),
    ]
    columns += [
        model_column(ClinicalRecord, name, example=ex) for name, ex in examples.items()
    ]
    columns.append(
        Column(
            name="diagnoses",
            attname="diagnoses",
            required=False,
            help="ICD-10 codes separated by spaces or commas, e.g. F84.0 R62.0.",
            example="F82 R62.0",
            clean=_codes,
            source="diagnoses",
            clean_many=lambda raws: list(map(_codes, raws)),
        )
    )
    return tuple(columns)


ENTITIES: dict[str, EntitySpec] = {
    Entity.PATIENTS: EntitySpec(
        name=Entity.PATIENTS,
        model=Patient,
        columns=_patient_columns(),
        key=("mrn",),
        key_columns=("mrn",),
    ),
    Entity.ASSESSMENTS: EntitySpec(
        name=Entity.ASSESSMENTS,
        model=Assessment,
        columns=_assessment_columns(),
        key=("patient_id", "instrument", "performed_on"),
        key_columns=("patient_mrn", "instrument", "performed_on"),
        export_paths={
            "patient__mrn": "patient__mrn",
            "assessor__username": "assessor__username",
        },
        lockable=True,
    ),
    Entity.CLINICAL_RECORDS: EntitySpec(
        name=Entity.CLINICAL_RECORDS,
        model=ClinicalRecord,
        columns=_visit_columns(),
        key=("patient_id", "visit_date", "visit_type"),
        key_columns=("patient_mrn", "visit_date", "visit_type"),
        export_paths={
            "patient__mrn": "patient__mrn",
            "clinician__username": "clinician__username",
        },
        lockable=True,
    ),
}


def header_key(text: str) -> str:
    """Headers match whatever their case and spacing: ' Date of Birth' is
    date_of_birth."""
    text = str(text or "").strip().lower().replace("-", " ").replace("_", " ")
    return "_".join(text.split())
