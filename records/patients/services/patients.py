"""Registering, editing, archiving and (for administrators) deleting patients."""

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.dispatch import Signal

from records.common.services import (
    data_apply,
    data_check,
    history_note,
    reason_required,
)
from records.patients.models import Patient, PatientStatus
from records.patients.services import access
from records.patients.services.lifecycle import (
    delete_permission_check,
    history_delete,
    versioned_create,
    versioned_save,
)
from records.patients.services.media import media_delete
from records.patients.services.pairs import patient_pairs_forget
from records.users.models import CareTeam

PATIENT_FIELDS = (
    "mrn",
    "given_name",
    "family_name",
    "preferred_name",
    "date_of_birth",
    "sex",
    "gestational_age_weeks",
    "gestational_age_days",
    "birth_weight_grams",
    "growth_reference",
    "guardian_name",
    "guardian_relationship",
    "guardian_phone",
    "guardian_email",
    "address_line1",
    "address_line2",
    "city",
    "postcode",
    "status",
    "date_of_death",
)
# A change to any of these changes every assessment's computed ages.
BIRTH_FIELDS = ("date_of_birth", "gestational_age_weeks", "gestational_age_days")
AGES_RECOMPUTED_REASON = "Ages recomputed: the patient's birth details changed"
# A change to any of these changes every visit's growth figures (SDS, centiles).
GROWTH_FIELDS = (*BIRTH_FIELDS, "sex", "growth_reference")
# Sent (patient=, acting_user=) inside the saving transaction when any of
# GROWTH_FIELDS changed; the visits' app (above this one) recomputes its figures.
growth_details_changed = Signal()


@transaction.atomic
def patient_register(
    *,
    acting_user,
    patient: Patient,
    care_teams: Iterable[CareTeam] = (),
    reason: str = "",
) -> Patient:
    """Save a new patient built by a form (or by patient_create) in its care teams.

    A clinician must name one of their own teams, or could not open the new chart.
    """
    care_teams = list(care_teams)
    access.registration_team_check(
        acting_user=acting_user, team=care_teams[0] if care_teams else None
    )
    versioned_create(instance=patient, acting_user=acting_user, reason=reason)
    access.care_teams_register(
        acting_user=acting_user, patient=patient, teams=care_teams, reason=reason
    )
    return patient


def patient_create(
    *,
    acting_user,
    data: Mapping[str, Any],
    care_teams: Iterable[CareTeam] = (),
    reason: str = "",
) -> Patient:
    data_check(data, PATIENT_FIELDS)
    return patient_register(
        acting_user=acting_user,
        patient=Patient(**data),
        care_teams=care_teams,
        reason=reason,
    )


@transaction.atomic
def patient_update(
    *,
    acting_user,
    patient: Patient,
    data: Mapping[str, Any] | None = None,
    expected_version: int | None = None,
    reason: str = "",
) -> Patient:
    """Save edits to a patient, refusing them if someone saved it in the meantime."""
    access.chart_write_check(acting_user=acting_user, instance=patient)
    if data:
        data_apply(instance=patient, fields=PATIENT_FIELDS, data=data)
    changed = versioned_save(
        instance=patient,
        acting_user=acting_user,
        expected_version=expected_version,
        reason=reason,
    )
    if set(changed) & set(BIRTH_FIELDS):
        assessment_ages_recompute(patient=patient, acting_user=acting_user)
    if set(changed) & set(GROWTH_FIELDS):
        growth_details_changed.send(
            sender=Patient, patient=patient, acting_user=acting_user
        )
    return patient


def assessment_ages_recompute(*, patient: Patient, acting_user) -> None:
    """The patient's birth details changed: their assessments' ages follow."""
    for assessment in patient.assessments.select_for_update().order_by("pk"):
        assessment.patient = patient
        before = (assessment.chronological_age_days, assessment.corrected_age_days)
        assessment.compute_ages()
        if before != (assessment.chronological_age_days, assessment.corrected_age_days):
            history_note(assessment, user=acting_user, reason=AGES_RECOMPUTED_REASON)
            assessment.save(
                update_fields=["chronological_age_days", "corrected_age_days"]
            )


def patient_archive(
    *, acting_user, patient: Patient, reason: str, expected_version: int | None = None
) -> Patient:
    """Archive a chart: it stays, with its history, but leaves the active lists."""
    return patient_update(
        acting_user=acting_user,
        patient=patient,
        data={"status": PatientStatus.ARCHIVED},
        expected_version=expected_version,
        reason=reason_required(reason),
    )


@transaction.atomic
def patient_delete(*, acting_user, patient: Patient, reason: str) -> None:
    """Administrators only. Each assessment, visit and media file of the chart is
    deleted first, so that each leaves its own history entry naming who and why."""
    delete_permission_check(instance=patient, acting_user=acting_user)
    reason = reason_required(reason)
    for media in patient.media_files.order_by("pk"):
        media_delete(acting_user=acting_user, media=media, reason=reason)
    for related in (patient.assessments, patient.clinical_records):
        for record in related.order_by("pk"):
            history_delete(instance=record, acting_user=acting_user, reason=reason)
    patient_pairs_forget(acting_user=acting_user, patient=patient, reason=reason)
    history_delete(instance=patient, acting_user=acting_user, reason=reason)
