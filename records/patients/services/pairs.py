"""Marking two charts as not the same child: the duplicate warning stops for them."""

from django.db import IntegrityError, transaction
from django.db.models import Q

from records.audit.models import Action
from records.audit.services import audit_record
from records.common.errors import ServiceError
from records.common.services import history_note
from records.patients.models import NotSameChild, Patient
from records.patients.services.access import chart_write_check

E_SAME_CHART = "A chart cannot be marked as a different child from itself."
MARK_REASON = "Marked not the same child"


def patient_pair_mark_check(*, acting_user, patient: Patient, other: Patient) -> None:
    """Who may mark a pair: one who may change both charts (PermissionDenied)."""
    if patient.pk == other.pk:
        raise ServiceError(E_SAME_CHART, code="same_chart")
    for chart in (patient, other):
        chart_write_check(acting_user=acting_user, instance=chart)


@transaction.atomic
def patient_pair_mark_distinct(
    *, acting_user, patient: Patient, other: Patient
) -> NotSameChild:
    """Record that two charts are different children (twins, say), by whom and
    when. The user must be one who may change both charts (their care teams';
    emergency access is not enough): the mark silences a warning for everyone.
    Marking a pair again returns the first mark; (A, B) and (B, A) are one pair.
    """
    patient_pair_mark_check(acting_user=acting_user, patient=patient, other=other)
    first, second = sorted((patient.pk, other.pk))
    pair = NotSameChild(first_id=first, second_id=second, marked_by=acting_user)
    history_note(pair, user=acting_user, reason=MARK_REASON)
    try:
        with transaction.atomic():  # a savepoint: someone may have just marked it
            pair.save()
    except IntegrityError:
        return NotSameChild.objects.get(first_id=first, second_id=second)
    # One event on each chart's trail, so that either chart's report shows it.
    for chart_id, other_id in ((first, second), (second, first)):
        audit_record(
            action=Action.CREATE,
            actor=acting_user,
            object_type=NotSameChild._meta.label_lower,
            object_id=pair.pk,
            patient_id=chart_id,
            summary=f"marked chart #{chart_id} not the same child as #{other_id}",
            details={"other_patient_id": other_id},
        )
    return pair


def patient_pairs_forget(*, acting_user, patient: Patient, reason: str) -> None:
    """A chart being deleted takes its marks with it: each leaves a history
    entry and an audit event (on the deleted chart) saying who and why."""
    pairs = NotSameChild.objects.filter(Q(first=patient) | Q(second=patient))
    for pair in pairs.order_by("pk"):
        other_id = pair.second_id if pair.first_id == patient.pk else pair.first_id
        history_note(pair, user=acting_user, reason=reason)
        audit_record(
            action=Action.DELETE,
            actor=acting_user,
            object_type=NotSameChild._meta.label_lower,
            object_id=pair.pk,
            patient_id=patient.pk,
            summary=f"deleted the chart #{patient.pk} marked not the same child "
            f"as #{other_id}",
            details={"other_patient_id": other_id},
        )
        pair.delete()
