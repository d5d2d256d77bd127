"""The scheduled jobs' runs (records.common.schedule), read-only: where the
dashboard's "Scheduled jobs that failed" rows lead, with each run's message."""

from django.contrib import admin
from unfold.admin import ModelAdmin
from unfold.decorators import display

from admin_ext.admin.date_filters import LocalDateTimeRangeFilter
from admin_ext.admin.shared import ReadOnlyAdminMixin
from records.common.models import ScheduledRun
from records.common.schedule import JOB_NAMES


@admin.register(ScheduledRun)
class ScheduledRunAdmin(ReadOnlyAdminMixin, ModelAdmin):
    list_display = ("job", "started_at", "finished_at", "outcome", "message")
    list_filter = ("succeeded", ("started_at", LocalDateTimeRangeFilter))
    list_filter_submit = True
    show_full_result_count = False

    @display(description="Job", ordering="task")
    def job(self, obj):
        return JOB_NAMES.get(obj.task, obj.task)

    @display(
        description="Outcome",
        label={"Failed": "danger", "Succeeded": "success", "Running": "info"},
    )
    def outcome(self, obj):
        if obj.succeeded is None:
            return "Running"
        return "Succeeded" if obj.succeeded else "Failed"

    # Read-only: a record of what ran: kept, and pruned by the jobs themselves.
