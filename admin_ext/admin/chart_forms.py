"""The forms of the chart admins: the version the user opened, the reason for a
change, and (drafts) making a record final."""

from django import forms
from unfold.widgets import UnfoldBooleanSwitchWidget

from admin_ext.admin.form_display import prepare_fields
from admin_ext.admin.shared import reason_field
from records.common.errors import ServiceError
from records.common.services import version_check
from records.patients.models import RecordStatus

E_FINAL_NEEDS_REASON = (
    "This record is final: saving it is an amendment. Give the reason for it."
)


class StaffChoiceField(forms.ModelChoiceField):
    """An assessor or clinician picked by full name, with the username that tells
    two people of one name apart."""

    def label_from_instance(self, obj):
        return obj.name_with_username


class ChartForm(forms.ModelForm):
    """Carries the version the user opened and the reason for the change."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    change_reason = reason_field(
        help_text="Kept in the history. Required to amend a final record."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["expected_version"].initial = self.instance.version
        prepare_fields(self)

    def clean(self):
        cleaned = super().clean()
        if not self.instance.pk:
            return cleaned
        current = type(self.instance)._default_manager.get(pk=self.instance.pk)
        try:
            version_check(current, cleaned.get("expected_version"))
        except ServiceError as error:
            raise forms.ValidationError(error.messages) from None
        is_final = getattr(current, "status", None) == RecordStatus.FINAL
        if is_final and self.has_changed() and not cleaned.get("change_reason"):
            self.add_error("change_reason", E_FINAL_NEEDS_REASON)
        return cleaned


class LockableForm(ChartForm):
    """Drafts can be made final from the form; a final record is then amended."""

    make_final = forms.BooleanField(
        label="Make final",
        required=False,
        widget=UnfoldBooleanSwitchWidget,
        help_text="A final record can only be changed by an amendment with a reason.",
    )
