"""django-axes with two limits: per username and IP pair, and per username alone;
and the current-password check that counts with the sign-in failures."""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.signals import user_login_failed
from django.db.models import Sum
from django.http import HttpRequest
from django.utils import timezone

from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off, get_credentials
from axes.models import AccessAttempt
from axes.utils import reset as axes_reset


class NdasAxesHandler(AxesDatabaseHandler):
    """axes counts failures for each of AXES_LOCKOUT_PARAMETERS and compares the
    largest count with one limit. Here the pair keeps AXES_FAILURE_LIMIT, and the
    username alone locks only at NDAS_USERNAME_FAILURE_LIMIT."""

    def get_failures(self, request, credentials=None) -> int:
        pair, username = (
            attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        )
        if username >= settings.NDAS_USERNAME_FAILURE_LIMIT:
            return max(pair, settings.AXES_FAILURE_LIMIT)
        return pair

    def user_logged_in(self, sender, request, user, **kwargs):
        """The sign-in's access log; the failures are reset here only when no
        second factor is due (AXES_RESET_ON_SUCCESS is off): otherwise when it
        passes (failures_reset), so that a password does not wipe the wrong codes
        typed after it."""
        super().user_logged_in(sender, request, user, **kwargs)
        from records.users import mfa

        if not mfa.second_factor_due(user):
            failures_reset(request=request, user=user)


def failures_reset(*, request: HttpRequest, user) -> None:
    """Forget the failed sign-ins of `user` from this client, as a successful
    sign-in does."""
    AxesProxyHandler.update_request(request)
    AxesProxyHandler.get_implementation().reset_user_attempts(
        request, get_credentials(user.get_username())
    )


def password_confirm(*, request: HttpRequest, user, password: str) -> bool:
    """Check a signed-in user's current password (to change it) as the sign-in page
    checks one: a wrong password is a failed sign-in, counted by django-axes with the
    sign-in page's failures and recorded as a sign-in event; a locked user's password
    is not even checked. Once locked (before or by this failure), the user is signed
    out, and AxesMiddleware answers with the lockout page."""
    credentials = {"username": user.get_username()}
    if AxesProxyHandler.is_locked(request, credentials):
        # As the sign-in page does: a failure that axes does not count again, and
        # a lockout event.
        request.axes_locked_out = True
    elif user.check_password(password):
        return True
    user_login_failed.send(sender=__name__, credentials=credentials, request=request)
    if getattr(request, "axes_locked_out", False):
        logout(request)
    return False


@dataclass(frozen=True)
class LockoutStatus:
    """A username's sign-in lockout as an administrator is told it: locked since
    the first of the failures that locked it, until the cool-off after it ends."""

    since: datetime
    until: datetime
    failures: int


def lockout_status(username: str) -> LockoutStatus | None:
    """The lockout of `username` now (by either limit: AXES_FAILURE_LIMIT from one
    address, NDAS_USERNAME_FAILURE_LIMIT from anywhere), or None."""
    cool_off = get_cool_off()
    start = timezone.now() - cool_off
    attempts = list(
        AccessAttempt.objects.filter(username=username, attempt_time__gte=start)
    )
    locking = [
        a for a in attempts if a.failures_since_start >= settings.AXES_FAILURE_LIMIT
    ]
    total = sum(a.failures_since_start for a in attempts)
    if total >= settings.NDAS_USERNAME_FAILURE_LIMIT:
        locking = attempts
    if not locking:
        return None
    since = min(a.attempt_time for a in locking)
    return LockoutStatus(since=since, until=since + cool_off, failures=total)


def lockout_lift(*, actor, user) -> int:
    """Let `user` sign in again now: django-axes' own reset of every failure
    counted against the username (axes.utils.reset), audited as a grant.
    Returns how many counters went."""
    ids = list(
        AccessAttempt.objects.filter(username=user.get_username()).values_list(
            "pk", flat=True
        )
    )
    removed = axes_reset(username=user.get_username())
    if removed:
        from records.users import services

        services.lockout_lifted_audit(
            actor=actor, username=user.get_username(), attempt_id=min(ids)
        )
    return removed
