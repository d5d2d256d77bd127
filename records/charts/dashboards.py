"""What the dashboards of administrators and auditors list: lockouts, emergency
access not yet reviewed, scheduled jobs that failed. (The clinician's worklist is
records/charts/worklist.py; the data manager's imports and exports are read by
records/imports/recent.py, a floor charts does not import.)

Each list is bounded like the worklist's (LIST_SIZE rows, one more to know that
there are more) and read in one query on an indexed column, whatever the table's
size. Rows naming a chart come through records.patients.repositories.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from records.charts.worklist import LIST_SIZE, Bounded
from records.common.schedule import failed_scheduled_jobs
from records.patients.models import BreakGlassGrant
from records.patients.repositories import records_visible_to
from records.users.models import LoginEvent

LOCKOUT_DAYS = 7
# Lockout events read at the most (newest): enough for far more than LIST_SIZE.
LOCKOUT_EVENTS = 500


def _bounded(queryset) -> Bounded:
    return Bounded.of(list(queryset[: LIST_SIZE + 1]))


@dataclass
class Lockout:
    """One lockout: the first "locked out" event of a user and the attempts made
    while it held (each is an event of its own), as one row."""

    username: str
    user: object
    ip: str | None
    at: datetime  # locked out
    last: datetime  # the last attempt while locked out
    attempts: int


def lockouts_recent() -> Bounded:
    """Lockouts of the last LOCKOUT_DAYS, newest first: the events of one user
    less than the cool-off apart are one lockout. One query, on the newest
    LOCKOUT_EVENTS events."""
    since = timezone.now() - timedelta(days=LOCKOUT_DAYS)
    events = (
        LoginEvent.objects.filter(kind=LoginEvent.Kind.LOCKOUT, at__gte=since)
        .select_related("user")
        .order_by("at", "pk")
    )
    events = list(
        events.filter(
            pk__in=LoginEvent.objects.filter(
                kind=LoginEvent.Kind.LOCKOUT, at__gte=since
            ).order_by("-at", "-pk")[:LOCKOUT_EVENTS]
        )
    )
    cool_off = timedelta(hours=settings.AXES_COOLOFF_TIME)
    open_lockouts: dict[str, Lockout] = {}
    lockouts: list[Lockout] = []
    for event in events:  # oldest first
        current = open_lockouts.get(event.username)
        if current is not None and event.at - current.last < cool_off:
            current.last = event.at
            current.attempts += 1
            continue
        current = Lockout(
            username=event.username,
            user=event.user,
            ip=event.ip,
            at=event.at,
            last=event.at,
            attempts=1,
        )
        open_lockouts[event.username] = current
        lockouts.append(current)
    lockouts.reverse()
    return Bounded.of(lockouts)


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
