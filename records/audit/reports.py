"""The auditor's reports: a chart's trail, a user's trail, who could open a chart."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from records.audit.models import AuditEvent
from records.patients.models import Patient, PatientGroupObjectPermission
from records.patients.repositories import patient_access_at

# Enough for any chart's period; past it the report says it is partial.
MAX_ACCESS_POINTS = 200


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime

    @classmethod
    def of_days(cls, first: date, last: date) -> "Period":
        start = timezone.make_aware(datetime.combine(first, time.min))
        end = timezone.make_aware(datetime.combine(last + timedelta(days=1), time.min))
        return cls(start=start, end=end)


def patient_events(*, patient_id: int, period: Period) -> QuerySet[AuditEvent]:
    """Everything done to or with this chart: views, changes, downloads, exports."""
    return AuditEvent.objects.filter(
        patient_id=patient_id, at__gte=period.start, at__lt=period.end
    ).order_by("at", "id")


def user_events(*, username: str, period: Period) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(
        actor_username=username, at__gte=period.start, at__lt=period.end
    ).order_by("at", "id")


def who_could_open(*, patient: Patient, period: Period) -> dict[str, set[str]]:
    """Everyone who could open the chart at some moment of the period, and why:
    evaluated at its start and at each change of the chart's teams, of group
    memberships and of emergency grants within it."""
    from records.users.models import User

    moments = {period.start}
    moments.update(
        PatientGroupObjectPermission.history.filter(
            content_object_id=patient.pk,
            history_date__gte=period.start,
            history_date__lt=period.end,
        ).values_list("history_date", flat=True)
    )
    moments.update(
        User.history.filter(
            history_date__gte=period.start, history_date__lt=period.end
        ).values_list("history_date", flat=True)
    )
    moments.update(
        patient.break_glass_grants.filter(
            granted_at__gte=period.start, granted_at__lt=period.end
        ).values_list("granted_at", flat=True)
    )
    access: dict[str, set[str]] = {}
    for moment in sorted(moments)[:MAX_ACCESS_POINTS]:
        for entry in patient_access_at(patient=patient, at=moment):
            access.setdefault(entry.username, set()).update(entry.reasons)
    return access


def history_changes(
    *, period: Period, patient_id: int | None = None, limit: int = 500
) -> list[dict]:
    """Field-level changes to charts (and, for the whole clinic, to users) in the
    period, newest first: one chart's when `patient_id` is given."""
    from records.clinical_records.models import ClinicalRecord
    from records.patients.models import Assessment, MediaFile
    from records.users.models import User

    if patient_id is None:
        sources = [(m, {}) for m in (Patient, Assessment, ClinicalRecord, MediaFile)]
        sources.append((User, {}))
    else:
        sources = [(Patient, {"id": patient_id})] + [
            (m, {"patient_id": patient_id})
            for m in (Assessment, ClinicalRecord, MediaFile)
        ]
    changes = []
    for model, filters in sources:
        records = (
            model.history.filter(
                history_date__gte=period.start, history_date__lt=period.end, **filters
            )
            .select_related("history_user")
            .order_by("-history_date")[:limit]
        )
        for record in records:
            fields = []
            previous = record.prev_record if record.history_type == "~" else None
            if previous is not None:
                delta = record.diff_against(previous)
                fields = [(c.field, _text(c.old), _text(c.new)) for c in delta.changes]
            changes.append(
                {
                    "at": record.history_date,
                    "what": f"{model._meta.verbose_name} #{record.id}",
                    "type": record.get_history_type_display(),
                    "user": str(record.history_user or ""),
                    "reason": record.history_change_reason or "",
                    "fields": fields,
                }
            )
    changes.sort(key=lambda change: change["at"], reverse=True)
    return changes[:limit]


def _text(value) -> str:
    return "" if value is None else str(value)
