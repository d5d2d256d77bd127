"""Writes to visit records: drafted, finalised, then only amended with a reason."""

from records.clinical_records import growth
from records.clinical_records.models import ClinicalRecord
from records.common.services import history_note
from records.patients.models import Patient
from records.patients.services import lifecycle

CLINICAL_RECORD_FIELDS = (
    "patient",
    "visit_date",
    "visit_type",
    "clinician",
    "chief_complaint",
    "clinical_history",
    "examination",
    "weight_kg",
    "height_cm",
    "head_circumference_cm",
    "temperature_c",
    "heart_rate",
    "respiratory_rate",
    "spo2",
    "diagnoses",
    "assessment_and_plan",
    "follow_up_date",
)


def _derive(record: ClinicalRecord) -> None:
    record.compute_derived()


GROWTH_RECOMPUTED_REASON = (
    "Growth figures recomputed: the patient's birth details, sex or growth "
    "reference changed"
)
GROWTH_FIELDS = tuple(
    f"{name}_{kind}" for name in growth.MEASUREMENTS for kind in ("sds", "centile")
)


def visit_growth_recompute(*, patient: Patient, acting_user) -> int:
    """The patient's birth details, sex or growth reference changed: their visits'
    growth figures follow, each changed visit with a history entry (final ones too:
    the figures are derived, not signed). Returns how many visits changed."""
    changed = 0
    for record in patient.clinical_records.select_for_update().order_by("pk"):
        record.patient = patient
        before = [getattr(record, f) for f in GROWTH_FIELDS]
        record.compute_growth()
        if before != [getattr(record, f) for f in GROWTH_FIELDS]:
            history_note(record, user=acting_user, reason=GROWTH_RECOMPUTED_REASON)
            record.save(update_fields=[*GROWTH_FIELDS, "updated_at"])
            changed += 1
    return changed


def patient_growth_details_changed(sender, *, patient, acting_user, **kwargs) -> None:
    visit_growth_recompute(patient=patient, acting_user=acting_user)


VISIT = lifecycle.RecordKind(
    model=ClinicalRecord, fields=CLINICAL_RECORD_FIELDS, derive=_derive
)


# The public names, each a thin function over the one lifecycle.
(
    clinical_record_register,
    clinical_record_create,
    clinical_record_update,
    clinical_record_finalize,
    clinical_record_amend,
    clinical_record_delete,
) = lifecycle.named_services(VISIT, prefix="clinical_record", instance_name="record")
