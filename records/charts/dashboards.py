"""What the dashboards of administrators and auditors list: lockouts, emergency
access not yet reviewed, scheduled jobs that failed. (The clinician's worklist is
records/charts/worklist.py; the data manager's imports and exports are read by
records/imports/recent.py, a floor charts does not import.)

Each list is bounded like the worklist's (LIST_SIZE rows, one more to know that
there are more) and read in one query on an indexed column, whatever the table's
size. Rows naming a chart come through records.patients.repositories.
"""

from datetime import timedelta

from django.utils import timezone

from records.charts.worklist import LIST_SIZE, Bounded
from records.common.schedule import failed_scheduled_jobs
from records.patients.models import BreakGlassGrant
from records.patients.repositories import records_visible_to
from records.users.models import LoginEvent

LOCKOUT_DAYS = 7


def _bounded(queryset) -> Bounded:
    return Bounded.of(list(queryset[: LIST_SIZE + 1]))


def lockouts_recent() -> Bounded:
    """Lockouts of the last LOCKOUT_DAYS, newest first."""
    since = timezone.now() - timedelta(days=LOCKOUT_DAYS)
    return _bounded(
        LoginEvent.objects.filter(kind=LoginEvent.Kind.LOCKOUT, at__gte=since)
        .select_related("user")
        .order_by("-at", "-pk")
    )


def emergency_access_to_review(user) -> Bounded:
    """Emergency grants nobody has acknowledged yet, newest first."""
    return _bounded(
        records_visible_to(BreakGlassGrant, user)
        .filter(acknowledged_at__isnull=True)
        .select_related("user", "patient")
        .order_by("-granted_at", "-pk")
    )


def scheduled_jobs_failed() -> Bounded:
    """Scheduled jobs whose last run (of the last week) failed, newest first."""
    return Bounded.of(list(failed_scheduled_jobs()))
