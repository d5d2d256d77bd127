"""Forms of the patient, assessment and media admins."""

from django import forms
from django.core.exceptions import ValidationError
from unfold.widgets import (
    UnfoldAdminDateWidget,
    UnfoldAdminSelect2MultipleWidget,
    UnfoldAdminTextareaWidget,
    UnfoldAdminTextInputWidget,
)

from admin_ext.admin.chart_forms import ChartForm, LockableForm
from admin_ext.admin.patient_details import phone_text
from records.patients import services
from records.patients.models import Assessment, BreakGlassGrant, MediaFile, Patient
from records.patients.services import access
from records.users.models import CareTeam


class BreakGlassForm(forms.Form):
    mrn = forms.CharField(
        label="MRN",
        max_length=20,
        widget=UnfoldAdminTextInputWidget,
        help_text="The exact medical record number: emergency access has no search.",
    )
    reason = forms.CharField(
        label="Reason",
        max_length=BreakGlassGrant._meta.get_field("reason").max_length,
        widget=UnfoldAdminTextareaWidget(attrs={"rows": 3}),
        help_text="The emergency, in at least 15 characters. Auditors review it.",
    )


class AccessDateForm(forms.Form):
    on = forms.DateField(label="On", widget=UnfoldAdminDateWidget)


class PatientForm(ChartForm):
    care_teams = forms.ModelMultipleChoiceField(
        queryset=CareTeam.objects.none(),
        required=False,
        widget=UnfoldAdminSelect2MultipleWidget,
        help_text="The teams whose members may open this chart.",
    )

    class Meta:
        model = Patient
        fields = "__all__"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The teams this user may assign (per form: its fields are copies).
        self.fields["care_teams"].queryset = services.care_teams_assignable_by(
            self.acting_user
        )
        if self.instance.pk:
            self.fields["care_teams"].initial = list(
                services.patient_care_teams(self.instance)
            )
            if self.instance.guardian_phone and "guardian_phone" in self.initial:
                # As people write it; saved again in E.164 form.
                self.initial["guardian_phone"] = phone_text(
                    self.instance.guardian_phone
                )
        else:
            # A clinician in one care team registers patients into it.
            teams = list(self.fields["care_teams"].queryset[:2])
            if len(teams) == 1:
                self.fields["care_teams"].initial = teams

    def clean_care_teams(self):
        teams = self.cleaned_data["care_teams"]
        if not self.instance.pk:
            try:
                access.registration_team_check(
                    acting_user=self.acting_user, team=teams[0] if teams else None
                )
            except ValidationError as error:
                raise forms.ValidationError(error.messages) from None
        return teams


class AssessmentForm(LockableForm):
    class Meta:
        model = Assessment
        fields = "__all__"

    def _post_clean(self):
        super()._post_clean()  # the instance now holds the submitted values
        if self.cleaned_data.get("make_final") and not self.errors:
            try:
                services.assessment_finalize_check(self.instance)
            except ValidationError as error:
                self.add_error(None, error)


class MediaUploadForm(forms.ModelForm):
    """An upload on the assessment page, checked by content before anything is saved."""

    class Meta:
        model = MediaFile
        fields = ("file", "description")

    def clean_file(self):
        uploaded = self.cleaned_data.get("file")
        if uploaded and not self.instance.pk:
            services.media_file_check(uploaded)  # the service's own checks
        return uploaded

    def clean(self):
        cleaned = super().clean()
        # On the assessment page the patient is the assessment's own.
        assessment = getattr(self.instance, "assessment", None)
        if "patient" not in self.fields and assessment and assessment.patient_id:
            self.instance.patient_id = assessment.patient_id
        return cleaned


class MediaFileForm(MediaUploadForm):
    class Meta:
        model = MediaFile
        fields = ("patient", "assessment", "file", "description")
