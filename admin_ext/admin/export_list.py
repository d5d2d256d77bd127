"""The Exports list (Data > Exports): every export, who made it, what it held,
in plain words; a large export's file to download (ExportDownloadMixin)."""

from django.contrib import admin
from unfold.admin import ModelAdmin
from unfold.decorators import display

from admin_ext.admin.export_jobs import ExportDownloadMixin
from admin_ext.admin.import_wording import (
    EXPORT_FORMATS,
    FormatFilter,
    WhatFilter,
    filters_shown,
    status_badge,
)
from admin_ext.admin.shared import ReadOnlyAdminMixin
from records.audit.models import Action
from records.audit.services import audit_object
from records.imports.entities import ENTITIES
from records.imports.models import ExportJob
from records.imports.wording import column_labels

EXPORT_COLOURS = {
    ExportJob.Status.COMPLETED: "success",
    ExportJob.Status.FAILED: "danger",
    ExportJob.Status.INTERRUPTED: "warning",
    ExportJob.Status.QUEUED: "info",
    ExportJob.Status.RUNNING: "info",
}


@admin.register(ExportJob)
class ExportJobAdmin(ReadOnlyAdminMixin, ExportDownloadMixin, ModelAdmin):
    """Read-only: every export, who made it, what it held; a large one's file."""

    list_display = (
        "at",
        "user",
        "what",
        "format_shown",
        "rows_shown",
        "status_label",
        "download_link",
    )
    list_filter = (("entity", WhatFilter), FormatFilter, "status")
    list_select_related = ("user",)
    show_full_result_count = False
    # 50 rows a page, as the chart lists: what staff read at once (issue #15).
    list_per_page = 50
    # An export's page (the dashboard links to it), in the list's words.
    fields = (
        "at",
        "user",
        "what",
        "format_shown",
        "rows_shown",
        "columns_shown",
        "filters_shown",
        "status_label",
        "download_link",
        "finished_at",
        "message",
    )
    readonly_fields = fields

    def get_fields(self, request, obj=None):
        """The file's fingerprint for those who audit."""
        if request.user.has_perm("audit.view_auditevent"):
            return (*self.fields, "fingerprint")
        return self.fields

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    @display(description="Columns")
    def columns_shown(self, obj):
        labels = column_labels(ENTITIES[obj.entity]) if obj.entity in ENTITIES else {}
        return ", ".join(labels.get(name, name) for name in obj.columns or [])

    @display(description="Narrowed by")
    def filters_shown(self, obj):
        return filters_shown(obj.filters) or "Nothing: every row its maker could see"

    @display(description="File fingerprint (SHA-256)")
    def fingerprint(self, obj):
        return obj.sha256 or "-"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """An export's page shows its filters' values (a searched name): read
        as the import report is read, one audit event a view."""
        response = super().change_view(request, object_id, form_url, extra_context)
        job = (getattr(response, "context_data", None) or {}).get("original")
        if request.method == "GET" and job is not None:
            audit_object(
                action=Action.VIEW,
                actor=request.user,
                obj=job,
                summary=f"view export #{job.pk}",
            )
        return response

    @display(description="What", ordering="entity")
    def what(self, obj):
        return obj.get_entity_display()

    @display(description="Format", ordering="file_format")
    def format_shown(self, obj):
        return EXPORT_FORMATS.get(obj.file_format, obj.file_format.upper())

    @display(description="Rows", ordering="row_count")
    def rows_shown(self, obj):
        return f"{obj.row_count:,}"

    @display(description="Status", ordering="status")
    def status_label(self, obj):
        return status_badge(obj, EXPORT_COLOURS)

    @display(description="File")
    def download_link(self, obj):
        """An export made within the request went straight to its maker's
        browser: there is no file to keep, and the list says so."""
        shown = super().download_link(obj)
        if shown != "-":
            return shown
        if obj.status in (ExportJob.Status.QUEUED, ExportJob.Status.RUNNING):
            return "Not ready yet"
        return "Sent to the browser"
