"""The tabs of a new chart say what belongs in them, with an Add button that opens
the form with the patient filled in."""

import re

import pytest
from django.urls import reverse

from records.users import roles
from tests import factories

pytestmark = pytest.mark.django_db

EMPTY = ("No assessments yet.", "No visits yet.", "No media yet.")
ADDS = (
    "admin:patients_assessment_add",
    "admin:clinical_records_clinicalrecord_add",
    "admin:patients_mediafile_add",
)


@pytest.fixture
def clinician(make_user):
    return make_user("tabs-doc", roles=[roles.CLINICIAN])


def test_empty_tabs_explain_and_offer_to_add(client, clinician):
    patient = factories.patient(acting_user=clinician)
    client.force_login(clinician)
    url = reverse("admin:patients_patient_change", args=[patient.pk])
    body = client.get(url).content.decode()
    for text in EMPTY:
        assert text in body
    for name in ADDS:
        assert f'href="{reverse(name)}?patient={patient.pk}"' in body


def test_a_tab_with_records_has_no_empty_state(client, clinician):
    patient = factories.patient(acting_user=clinician)
    factories.visit(acting_user=clinician, patient=patient)
    client.force_login(clinician)
    url = reverse("admin:patients_patient_change", args=[patient.pk])
    body = client.get(url).content.decode()
    assert "No visits yet." not in body and "No assessments yet." in body


def test_no_add_button_for_those_who_may_not_add(client, clinician, make_user):
    patient = factories.patient(acting_user=clinician)
    client.force_login(make_user("tabs-aud", roles=[roles.AUDITOR]))
    url = reverse("admin:patients_patient_change", args=[patient.pk])
    body = client.get(url).content.decode()
    assert "No visits yet." in body
    assert f"?patient={patient.pk}" not in body


def test_the_add_form_opens_with_the_patient(client, clinician):
    patient = factories.patient(acting_user=clinician)
    client.force_login(clinician)
    for name in ADDS[:2]:
        body = client.get(f"{reverse(name)}?patient={patient.pk}").content.decode()
        select = re.search(r'<select name="patient".*?</select>', body, re.S).group(0)
        assert re.search(rf'<option value="{patient.pk}" selected', select), name


def test_each_row_is_named_once(client, clinician):
    patient = factories.patient(acting_user=clinician)
    visit = factories.visit(acting_user=clinician, patient=patient)
    client.force_login(clinician)
    url = reverse("admin:patients_patient_change", args=[patient.pk])
    body = client.get(url).content.decode()
    assert body.count(str(visit)) == 1
