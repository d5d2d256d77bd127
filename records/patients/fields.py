"""Model fields that normalise their value while validating it (forms, services)."""

from django.db import models

from records.patients import validators


class MRNField(models.CharField):
    """Stored trimmed and upper-cased, so uniqueness holds whatever the typist did."""

    def to_python(self, value):
        value = super().to_python(value)
        return validators.mrn_normalize(value) if value is not None else value


class PhoneNumberField(models.CharField):
    """Stored in E.164 form; anything phonenumbers cannot read is refused."""

    def to_python(self, value):
        value = super().to_python(value)
        return validators.phone_normalize(value) if value is not None else value
