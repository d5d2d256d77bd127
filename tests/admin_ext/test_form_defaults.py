"""A required choice without a default starts empty: the user chooses, nothing is
saved unread (a new patient was Female unless changed)."""

import re

import pytest
from django.urls import reverse

from records.users import roles
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "page, field",
    [
        ("patients_patient", "sex"),
        ("patients_assessment", "instrument"),
        ("clinical_records_clinicalrecord", "visit_type"),
    ],
)
def test_required_choices_start_empty_on_add(client, make_user, page, field):
    user = make_user("defaults", roles=[roles.CLINICIAN])
    factories.team("Defaults", user)
    client.force_login(user)
    body = client.get(reverse(f"admin:{page}_add")).content.decode()
    select = re.search(rf'<select name="{field}".*?</select>', body, re.S).group(0)
    options = re.findall(r'<option value="([^"]*)"( selected)?', select)
    assert options[0] == ("", " selected") or options[0] == ("", "")
    assert not any(selected for value, selected in options if value)


def test_patient_without_sex_is_refused(client, make_user):
    user = make_user("defaults2", roles=[roles.CLINICIAN])
    team = factories.team("Defaults", user)
    client.force_login(user)
    data = {**factories.patient_data(), "sex": "", "care_teams": [team.pk]}
    response = client.post(reverse("admin:patients_patient_add"), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["sex"] == [
        "This field is required."
    ]
