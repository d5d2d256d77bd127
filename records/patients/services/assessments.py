"""Neurodevelopmental assessments: drafted, finalised, then amended with a reason."""

from collections.abc import Mapping
from typing import Any

from records.common.services import data_check
from records.patients import validators
from records.patients.models import Assessment
from records.patients.services import lifecycle
from records.patients.services.access import chart_write_check, named_staff_check
from records.patients.services.lifecycle import versioned_create

ASSESSMENT_FIELDS = (
    "patient",
    "instrument",
    "performed_on",
    "assessor",
    "total_score",
    "outcome",
    "findings",
    "recommendations",
)

E_FINAL_NEEDS_OUTCOME = validators.E_FINAL_NEEDS_OUTCOME


def _derive(assessment: Assessment) -> None:
    assessment.compute_ages()


def assessment_register(
    *, acting_user, assessment: Assessment, reason: str = ""
) -> Assessment:
    """Save a new assessment built by a form (or by assessment_create)."""
    chart_write_check(acting_user=acting_user, instance=assessment)
    named_staff_check(instance=assessment)
    _derive(assessment)
    return versioned_create(instance=assessment, acting_user=acting_user, reason=reason)


def assessment_create(
    *, acting_user, data: Mapping[str, Any], reason: str = ""
) -> Assessment:
    data_check(data, ASSESSMENT_FIELDS)
    return assessment_register(
        acting_user=acting_user, assessment=Assessment(**data), reason=reason
    )


def assessment_update(
    *,
    acting_user,
    assessment: Assessment,
    data: Mapping[str, Any] | None = None,
    expected_version: int | None = None,
    reason: str = "",
) -> Assessment:
    """Edit a draft; a final assessment refuses (see assessment_amend)."""
    lifecycle.record_edit(
        instance=assessment,
        acting_user=acting_user,
        fields=ASSESSMENT_FIELDS,
        data=data,
        expected_version=expected_version,
        reason=reason,
        derive=_derive,
    )
    return assessment


def assessment_finalize_check(assessment: Assessment) -> None:
    """What a final assessment needs; forms call this too, to warn before saving."""
    if not assessment.outcome:
        raise lifecycle.ServiceError(
            {"outcome": E_FINAL_NEEDS_OUTCOME}, code="outcome_required"
        )


def assessment_finalize(
    *, acting_user, assessment: Assessment, expected_version: int | None = None
) -> Assessment:
    assessment_finalize_check(assessment)
    return lifecycle.record_finalize(
        instance=assessment, acting_user=acting_user, expected_version=expected_version
    )


def assessment_amend(
    *,
    acting_user,
    assessment: Assessment,
    reason: str,
    data: Mapping[str, Any] | None = None,
    expected_version: int | None = None,
) -> Assessment:
    lifecycle.record_amend(
        instance=assessment,
        acting_user=acting_user,
        fields=ASSESSMENT_FIELDS,
        data=data,
        expected_version=expected_version,
        reason=reason,
        derive=_derive,
    )
    return assessment


def assessment_delete(*, acting_user, assessment: Assessment, reason: str) -> None:
    lifecycle.record_delete(instance=assessment, acting_user=acting_user, reason=reason)
