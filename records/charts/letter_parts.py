"""Parts of a clinic letter beyond the record itself: who it is addressed to, who
signs it (name and title) and whether the record was amended since it was final."""

from dataclasses import dataclass
from datetime import date

from django.utils import timezone

from records.patients.models import Patient
from records.patients.services.lifecycle import AMENDMENT_REASON
from records.users import roles

AMENDMENT_PREFIX = AMENDMENT_REASON.split("{", 1)[0]  # "Amendment: "
TO_PARENTS = "the parents or guardians of {child}"
TO_GUARDIAN = "{name} ({relationship}), for {child}"


@dataclass(frozen=True)
class Amendment:
    on: date
    reason: str


def addressee(patient: Patient) -> list[str]:
    """The letter's 'To' block: the guardian named on the chart, else the child's
    parents or guardians; then the chart's address, when it has one."""
    child = f"{patient.given_name} {patient.family_name}".strip()
    if patient.guardian_name:
        relationship = (
            patient.get_guardian_relationship_display().lower()
            if patient.guardian_relationship
            else "parent or guardian"
        )
        first = TO_GUARDIAN.format(
            name=patient.guardian_name, relationship=relationship, child=child
        )
    else:
        first = TO_PARENTS.format(child=child)
    address = (
        patient.address_line1,
        patient.address_line2,
        patient.city,
        patient.postcode,
    )
    return [first] + [part for part in address if part]


def signer_title(user) -> str:
    """Under the signer's name: their job title where the account has one, else
    their role's name (Clinician, Administrator...)."""
    title = getattr(user, "job_title", "") or ""
    if title:
        return title
    names = set(user.groups.values_list("name", flat=True))
    return ", ".join(role for role in roles.ROLES if role in names)


def latest_amendment(record) -> Amendment | None:
    """When the final record was last amended and why (its history's reason)."""
    change = (
        record.history.filter(history_change_reason__startswith=AMENDMENT_PREFIX)
        .order_by("-history_date")
        .only("history_date", "history_change_reason")
        .first()
    )
    if change is None:
        return None
    return Amendment(
        on=timezone.localtime(change.history_date).date(),
        reason=change.history_change_reason[len(AMENDMENT_PREFIX) :].strip(),
    )
