"""The patient details page as read by those who cannot change it (emergency
access, auditors): the care teams by name, the phone as people write it, and
none of the form's furniture (reason for change, typing hints)."""

import phonenumbers
from django.conf import settings
from unfold.decorators import display

from records.patients import services

# Form-only fields: nothing to show on a page that cannot be saved.
READ_ONLY_HIDDEN = frozenset({"change_reason", "expected_version"})
# Fields shown, when read-only, through a display of their own.
READ_ONLY_SHOWN_AS = {"care_teams": "care_team_names", "guardian_phone": "phone"}


def phone_text(value: str) -> str:
    """'+442079460907' as '020 7946 0907' (the clinic's own region) or
    '+33 1 23 45 67 89' (another); as stored if phonenumbers cannot read it."""
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, settings.PHONE_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return value
    region = phonenumbers.region_code_for_number(number)
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if region == settings.PHONE_DEFAULT_REGION
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, style)


def read_only_fieldsets(fieldsets) -> list:
    """`fieldsets` for a page shown read-only: form-only fields dropped, fields
    with a display of their own swapped for it, sets left empty dropped."""
    kept = []
    for name, options in fieldsets:
        fields = []
        for line in options.get("fields", ()):
            names = line if isinstance(line, (list, tuple)) else (line,)
            shown = tuple(
                READ_ONLY_SHOWN_AS.get(f, f) for f in names if f not in READ_ONLY_HIDDEN
            )
            if shown:
                fields.append(shown if isinstance(line, (list, tuple)) else shown[0])
        if fields:
            kept.append((name, {**options, "fields": tuple(fields)}))
    return kept


class PatientDetailsMixin:
    """For PatientAdmin: its details page when the user may not change it."""

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None and not self.has_change_permission(request, obj):
            return read_only_fieldsets(fieldsets)
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        if obj is not None and not self.has_change_permission(request, obj):
            # Displays, not form fields, wherever the form is built (the history's
            # past versions too).
            fields = (*fields, *READ_ONLY_SHOWN_AS.values())
        return fields

    @display(description="Care teams")
    def care_team_names(self, obj):
        return ", ".join(t.name for t in services.patient_care_teams(obj)) or "-"

    @display(description="Guardian phone")
    def phone(self, obj):
        return phone_text(obj.guardian_phone) or "-"
