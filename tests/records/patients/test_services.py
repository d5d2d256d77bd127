"""Chart services: history with user and reason, stale edits, final records, deletes
(visits: tests/records/clinical_records/test_services.py)."""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from records.clinical_records.models import ClinicalRecord
from records.common.errors import LockedRecordError, ServiceError, StaleEditError
from records.common.services import E_REASON_REQUIRED, E_UNKNOWN_FIELDS
from records.patients import services
from records.patients.models import Assessment, Patient
from records.patients.services import lifecycle
from records.patients.services.assessments import E_FINAL_NEEDS_OUTCOME
from tests import factories

pytestmark = pytest.mark.django_db
TODAY = date.today()


def latest_history(obj):
    return obj.history.order_by("-history_id").first()


# --- patients ----------------------------------------------------------------------


def test_create_records_who_and_why(doctor):
    patient = services.patient_create(
        acting_user=doctor,
        data=factories.patient_data(),
        care_teams=[factories.team("Neonatal", doctor)],
        reason="Referral",
    )
    entry = latest_history(patient)
    assert entry.history_type == "+"
    assert entry.history_user == doctor and entry.history_change_reason == "Referral"
    assert patient.created_by == doctor and patient.version == 1


def test_create_refuses_unknown_fields(doctor):
    with pytest.raises(ServiceError) as error:
        services.patient_create(
            acting_user=doctor, data={**factories.patient_data(), "version": 9}
        )
    assert error.value.messages == [E_UNKNOWN_FIELDS.format(fields="version")]
    assert not Patient.objects.exists()


def test_invalid_data_writes_nothing(doctor):
    with pytest.raises(ValidationError) as error:
        services.patient_create(
            acting_user=doctor,
            data=factories.patient_data(mrn="x"),
            care_teams=[factories.team("T", doctor)],
        )
    assert "mrn" in error.value.message_dict
    assert not Patient.objects.exists() and not Patient.history.exists()


def test_update_bumps_version_and_writes_one_history_row(doctor, patient):
    services.patient_update(
        acting_user=doctor,
        patient=patient,
        data={"preferred_name": "Tal"},
        expected_version=1,
        reason="Asked to be called Tal",
    )
    patient.refresh_from_db()
    assert patient.version == 2 and patient.preferred_name == "Tal"
    entry = latest_history(patient)
    assert entry.history_type == "~" and entry.history_user == doctor
    delta = entry.diff_against(entry.prev_record)
    assert delta.changed_fields == ["preferred_name"]


def test_saving_unchanged_data_writes_no_history(doctor, patient):
    rows = patient.history.count()
    services.patient_update(acting_user=doctor, patient=patient, expected_version=1)
    assert patient.history.count() == rows
    assert Patient.objects.get(pk=patient.pk).version == 1


def test_stale_edit_is_refused_and_nothing_is_overwritten(doctor, patient):
    first = Patient.objects.get(pk=patient.pk)
    second = Patient.objects.get(pk=patient.pk)
    services.patient_update(
        acting_user=doctor, patient=first, data={"city": "Arnsby"}, expected_version=1
    )
    with pytest.raises(StaleEditError):
        services.patient_update(
            acting_user=doctor,
            patient=second,
            data={"city": "Brelling"},
            expected_version=1,
        )
    assert Patient.objects.get(pk=patient.pk).city == "Arnsby"


def test_changing_birth_details_recomputes_assessment_ages(doctor, patient):
    exam = factories.assessment(acting_user=doctor, patient=patient)
    assert exam.corrected_age_days is None
    services.patient_update(
        acting_user=doctor,
        patient=patient,
        data={"gestational_age_weeks": 30, "gestational_age_days": 0},
        reason="Birth record received",
    )
    exam.refresh_from_db()
    assert exam.corrected_age_days == exam.chronological_age_days - 70
    assert latest_history(exam).history_change_reason.startswith("Ages recomputed")


def test_archive_needs_a_reason(doctor, patient):
    with pytest.raises(ServiceError) as error:
        services.patient_archive(acting_user=doctor, patient=patient, reason=" ")
    assert error.value.messages == [E_REASON_REQUIRED]
    services.patient_archive(acting_user=doctor, patient=patient, reason="Moved away")
    patient.refresh_from_db()
    assert patient.status == "archived"
    assert latest_history(patient).history_change_reason == "Moved away"


def test_only_administrators_delete_and_history_stays(doctor, boss, patient):
    exam = factories.assessment(acting_user=doctor, patient=patient)
    visit = factories.visit(acting_user=doctor, patient=patient)
    ids = ((Patient, patient.pk), (Assessment, exam.pk), (ClinicalRecord, visit.pk))
    with pytest.raises(PermissionDenied):
        services.patient_delete(acting_user=doctor, patient=patient, reason="Oops")
    assert Patient.objects.filter(pk=patient.pk).exists()
    with pytest.raises(ServiceError):
        services.patient_delete(acting_user=boss, patient=patient, reason="")
    services.patient_delete(
        acting_user=boss, patient=patient, reason="Registered twice in error"
    )
    for model, pk in ids:
        assert not model.objects.filter(pk=pk).exists()
        entry = model.history.filter(id=pk).order_by("-history_id").first()
        assert entry.history_type == "-"
        assert entry.history_user == boss
        assert entry.history_change_reason == "Registered twice in error"


# --- assessments: draft, final, amended ------------------------------------------


def test_assessment_ages_are_stored(doctor, patient):
    exam = factories.assessment(acting_user=doctor, patient=patient)
    assert (
        exam.chronological_age_days == (exam.performed_on - patient.date_of_birth).days
    )


def test_final_assessment_is_locked(doctor, patient):
    exam = factories.assessment(acting_user=doctor, patient=patient)
    services.assessment_finalize(acting_user=doctor, assessment=exam)
    with pytest.raises(LockedRecordError):
        services.assessment_update(
            acting_user=doctor, assessment=exam, data={"findings": "changed"}
        )
    assert Assessment.objects.get(pk=exam.pk).findings == ""


def test_amendment_needs_a_reason_and_keeps_the_previous_version(doctor, patient):
    exam = factories.assessment(acting_user=doctor, patient=patient, findings="v1")
    services.assessment_finalize(acting_user=doctor, assessment=exam)
    with pytest.raises(ServiceError):
        services.assessment_amend(
            acting_user=doctor, assessment=exam, data={"findings": "v2"}, reason=""
        )
    services.assessment_amend(
        acting_user=doctor,
        assessment=exam,
        data={"findings": "v2"},
        reason="Transcription error",
    )
    exam.refresh_from_db()
    assert exam.findings == "v2" and exam.status == "final"
    entry = latest_history(exam)
    assert entry.history_change_reason == "Amendment: Transcription error"
    assert entry.prev_record.findings == "v1"
    # Saved as it is (a form nobody changed): nothing to amend, no reason asked.
    versions = exam.history.count()
    services.assessment_amend(acting_user=doctor, assessment=exam, reason="")
    assert exam.history.count() == versions
    # Changed on the instance (as a form does) without a reason: refused, and
    # nothing is stored.
    exam.findings = "v3"
    with pytest.raises(ServiceError):
        services.assessment_amend(acting_user=doctor, assessment=exam, reason="")
    exam.refresh_from_db()
    assert exam.findings == "v2" and exam.history.count() == versions


def test_a_long_reason_is_kept_whole_with_its_prefix(doctor, patient):
    exam = factories.assessment(acting_user=doctor, patient=patient, findings="v1")
    services.assessment_finalize(acting_user=doctor, assessment=exam)
    reason = "Corrected after review with the family; " * 5  # 200 characters
    services.assessment_amend(
        acting_user=doctor, assessment=exam, data={"findings": "v2"}, reason=reason
    )
    entry = latest_history(exam)
    assert entry.history_change_reason == f"Amendment: {reason.strip()}"


def test_an_amendment_cannot_take_a_final_assessments_outcome_away(doctor, patient):
    exam = factories.assessment(acting_user=doctor, patient=patient)
    services.assessment_finalize(acting_user=doctor, assessment=exam)
    with pytest.raises(ValidationError) as error:
        services.assessment_amend(
            acting_user=doctor, assessment=exam, data={"outcome": ""}, reason="Typo"
        )
    assert error.value.message_dict == {"outcome": [E_FINAL_NEEDS_OUTCOME]}
    exam.refresh_from_db()
    assert exam.outcome == "typical"


def test_only_final_records_are_amended(doctor, patient):
    exam = factories.assessment(acting_user=doctor, patient=patient)
    with pytest.raises(ServiceError) as error:
        services.assessment_amend(acting_user=doctor, assessment=exam, reason="x")
    assert error.value.messages == [lifecycle.E_NOT_FINAL.format(name="assessment")]


def test_finalising_needs_an_outcome_and_happens_once(doctor, patient):
    exam = factories.assessment(acting_user=doctor, patient=patient, outcome="")
    with pytest.raises(ServiceError) as error:
        services.assessment_finalize(acting_user=doctor, assessment=exam)
    assert error.value.message_dict == {"outcome": [E_FINAL_NEEDS_OUTCOME]}
    services.assessment_update(
        acting_user=doctor, assessment=exam, data={"outcome": "atypical"}
    )
    services.assessment_finalize(acting_user=doctor, assessment=exam)
    with pytest.raises(ServiceError):
        services.assessment_finalize(acting_user=doctor, assessment=exam)


def test_assessment_deletion_is_for_administrators(doctor, boss, patient):
    exam = factories.assessment(acting_user=doctor, patient=patient)
    with pytest.raises(PermissionDenied):
        services.assessment_delete(acting_user=doctor, assessment=exam, reason="x")
    services.assessment_delete(acting_user=boss, assessment=exam, reason="Wrong chart")
    assert not Assessment.objects.filter(pk=exam.pk).exists()
