"""A chart's or record's status as a coloured label in the admin's lists."""

from unfold.decorators import display

from admin_ext.admin.list_cells import label_cell
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

    @display(description="Status")
    def status_label(self, obj):
        return label_cell(obj.status, STATUS_COLOURS)
