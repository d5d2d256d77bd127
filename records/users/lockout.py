"""django-axes with two limits: per username and IP pair, and per username alone."""

from django.conf import settings
from django.db.models import Sum

from axes.handlers.database import AxesDatabaseHandler


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
