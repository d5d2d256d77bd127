"""A chart's or record's status as a coloured label in the admin's lists."""

from unfold.decorators import display

from records.patients.models import PatientStatus, RecordStatus

STATUS_COLOURS = {
    PatientStatus.ACTIVE: "success",
    PatientStatus.ARCHIVED: "info",
    PatientStatus.DECEASED: "danger",
    RecordStatus.DRAFT: "warning",
    RecordStatus.FINAL: "success",
}


class StatusLabelMixin:
    """A chart's or record's status as a coloured label in the list."""

    @display(description="Status", label=STATUS_COLOURS)
    def status_label(self, obj):
        return obj.status
