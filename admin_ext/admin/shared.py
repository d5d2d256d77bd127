"""Pieces of the admin written once: the read-only trio and the reason field."""

from django import forms
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
