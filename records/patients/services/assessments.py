"""Neurodevelopmental assessments: drafted, finalised, then amended with a reason."""

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
(
    assessment_register,
    assessment_create,
    assessment_update,
    assessment_finalize,
    assessment_amend,
    assessment_delete,
) = lifecycle.named_services(
    ASSESSMENT, prefix="assessment", instance_name="assessment"
)
