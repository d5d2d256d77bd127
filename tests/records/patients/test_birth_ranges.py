"""Range errors of birth details say their unit, wherever the model is validated."""

import pytest
from django.core.exceptions import ValidationError

from records.patients.models import Patient
from records.users import roles
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("birth_weight_grams", 7000, "Birth weight must be at most 6,500 g."),
        ("birth_weight_grams", 250, "Birth weight must be at least 300 g."),
        ("gestational_age_weeks", 45, "Gestation at birth must be at most 44 weeks."),
        ("gestational_age_weeks", 21, "Gestation at birth must be at least 22 weeks."),
        ("gestational_age_days", 7, "The days of gestation must be at most 6 days."),
    ],
)
def test_out_of_range_birth_details_name_their_unit(make_user, field, value, message):
    clinician = make_user("ranges", roles=[roles.CLINICIAN])
    patient = factories.patient(acting_user=clinician, gestational_age_weeks=30)
    setattr(patient, field, value)
    with pytest.raises(ValidationError) as caught:
        patient.full_clean()
    assert caught.value.message_dict[field] == [message]


def test_in_range_values_pass(make_user):
    clinician = make_user("ranges2", roles=[roles.CLINICIAN])
    patient = factories.patient(acting_user=clinician)
    patient.gestational_age_weeks, patient.gestational_age_days = 44, 6
    patient.birth_weight_grams = 6500
    patient.full_clean()
    assert Patient.objects.filter(pk=patient.pk).exists()
