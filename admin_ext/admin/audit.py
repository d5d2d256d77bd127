"""Admin for the audit stream: read-only for auditors, and never counted."""

from django.contrib import admin
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import FieldTextFilter, RangeDateTimeFilter
from unfold.paginator import InfinitePaginator

from records.audit.models import AuditEvent


class ExactTextFilter(FieldTextFilter):
    """A typed value matched exactly: patient 12 must not also show patient 112."""

    def __init__(self, field, request, params, model, model_admin, field_path):
        self.lookup_kwarg = f"{field_path}__exact"
        self.lookup_val = params.get(self.lookup_kwarg)
        # FieldTextFilter's own __init__ would set the icontains lookup: skip it.
        super(FieldTextFilter, self).__init__(
            field, request, params, model, model_admin, field_path
        )


@admin.register(AuditEvent)
class AuditEventAdmin(ModelAdmin):
    """Read-only: the trail is written by services alone and never changed."""

    list_display = (
        "at",
        "actor_username",
        "action",
        "object_type",
        "object_id",
        "patient_id",
        "summary",
        "ip",
    )
    list_filter = (
        "action",
        ("at", RangeDateTimeFilter),
        ("actor_username", FieldTextFilter),
        ("patient_id", ExactTextFilter),
    )
    list_filter_submit = True
    # Millions of rows: no COUNT(*) for the total, none for the pages either.
    show_full_result_count = False
    paginator = InfinitePaginator

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
