"""Reads of the import and export logs for the dashboards: a user's imports waiting
for their commit or that failed, and the newest exports. Each is one query on an
indexed column, at most `limit` rows (the dashboard asks one more than it shows,
to know whether there are more)."""

from datetime import timedelta

from django.utils import timezone

from records.imports.models import ExportJob, ImportJob

FAILED_IMPORT_DAYS = 30


def imports_awaiting_commit(user, *, limit: int) -> list[ImportJob]:
    """The user's imports checked without errors, their upload still kept: only
    whoever uploaded a file commits it."""
    return list(
        ImportJob.objects.filter(user=user, status=ImportJob.Status.VALIDATED)
        .exclude(stored_as="")
        .order_by("-created_at", "-pk")[:limit]
    )


def imports_failed(user, *, limit: int) -> list[ImportJob]:
    """The user's imports of the last FAILED_IMPORT_DAYS that failed (a file that
    could not be read) or had errors, newest first."""
    since = timezone.now() - timedelta(days=FAILED_IMPORT_DAYS)
    return list(
        ImportJob.objects.filter(
            user=user,
            created_at__gte=since,
            status__in=(ImportJob.Status.FAILED, ImportJob.Status.INVALID),
        ).order_by("-created_at", "-pk")[:limit]
    )


def exports_recent(user=None, *, limit: int) -> list[ExportJob]:
    """The newest exports: the user's own, or everyone's (user None)."""
    exports = ExportJob.objects.select_related("user").order_by("-at", "-pk")
    if user is not None:
        exports = exports.filter(user=user)
    return list(exports[:limit])
