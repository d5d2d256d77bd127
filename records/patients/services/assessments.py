"""Neurodevelopmental assessments: drafted, finalised, then amended with a reason."""

from collections.abc import Mapping
from typing import Any

from records.patients import validators
from records.patients.models import Assessment
from records.patients.services import lifecycle

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


def assessment_finalize_check(assessment: Assessment) -> None:
    """What a final assessment needs; forms call this too, to warn before saving."""
    if not assessment.outcome:
        raise lifecycle.ServiceError(
            {"outcome": E_FINAL_NEEDS_OUTCOME}, code="outcome_required"
        )


ASSESSMENT = lifecycle.RecordKind(
    model=Assessment,
    fields=ASSESSMENT_FIELDS,
    derive=_derive,
    finalize_check=assessment_finalize_check,
)


# The public names, each a thin function over the one lifecycle.


def assessment_register(
    *, acting_user, assessment: Assessment, reason: str = ""
) -> Assessment:
    """Save a new assessment built by a form (or by assessment_create)."""
    return lifecycle.record_register(
        ASSESSMENT, acting_user=acting_user, instance=assessment, reason=reason
    )


def assessment_create(
    *, acting_user, data: Mapping[str, Any], reason: str = ""
) -> Assessment:
    return lifecycle.record_create(
        ASSESSMENT, acting_user=acting_user, data=data, reason=reason
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
    return lifecycle.record_edit(
        ASSESSMENT,
        instance=assessment,
        acting_user=acting_user,
        data=data,
        expected_version=expected_version,
        reason=reason,
    )


def assessment_finalize(
    *, acting_user, assessment: Assessment, expected_version: int | None = None
) -> Assessment:
    return lifecycle.record_finalize(
        ASSESSMENT,
        instance=assessment,
        acting_user=acting_user,
        expected_version=expected_version,
    )


def assessment_amend(
    *,
    acting_user,
    assessment: Assessment,
    reason: str,
    data: Mapping[str, Any] | None = None,
    expected_version: int | None = None,
) -> Assessment:
    return lifecycle.record_amend(
        ASSESSMENT,
        instance=assessment,
        acting_user=acting_user,
        reason=reason,
        data=data,
        expected_version=expected_version,
    )


def assessment_delete(*, acting_user, assessment: Assessment, reason: str) -> None:
    lifecycle.record_delete(
        ASSESSMENT, instance=assessment, acting_user=acting_user, reason=reason
    )
