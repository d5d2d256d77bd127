"""Pieces of the admin written once: the read-only trio, the reason field, and
where a plain Save of a chart's page leads (the chart's summary)."""

from django import forms
from django.http import HttpResponseRedirect
from django.urls import reverse
from unfold.widgets import UnfoldAdminTextInputWidget

REASON_MAX_LENGTH = 200


class ReadOnlyAdminMixin:
    """Records written elsewhere (services, jobs, sign-ins): viewed here, never
    added, changed or deleted from the admin."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def reason_field(*, required: bool = False, help_text: str = "") -> forms.CharField:
    """The "Reason for change" field of every form that writes history."""
    return forms.CharField(
        label="Reason for change",
        required=required,
        max_length=REASON_MAX_LENGTH,
        widget=UnfoldAdminTextInputWidget,
        help_text=help_text,
    )


def saved_and_closed(request) -> bool:
    """A plain Save (not save and continue, add another, or as new)."""
    return not any(
        key in request.POST
        for key in ("_continue", "_addanother", "_saveasnew", "_popup")
    )


def summary_redirect(patient_id: int) -> HttpResponseRedirect:
    """To the chart's summary: where staff go back to after saving its pages."""
    return HttpResponseRedirect(
        reverse("admin:patients_patient_summary", args=[patient_id])
    )
