"""A new assessment or visit saved with a plain Save leads back to its child's chart
(the summary, where it now shows); the other buttons keep Django's ways."""

from datetime import date, timedelta

import pytest
from django.urls import reverse

from records.clinical_records.models import ClinicalRecord
from records.patients.models import Assessment
from records.users import roles
from tests import factories
from tests.helpers import admin_form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def clinician(client, make_user):
    user = make_user("save-doc", roles=[roles.CLINICIAN])
    client.force_login(user)
    return user


@pytest.fixture
def patient(clinician):
    return factories.patient(
        acting_user=clinician, date_of_birth=date.today() - timedelta(days=400)
    )


FORMS = {
    "clinical_records_clinicalrecord": (
        ClinicalRecord,
        {"visit_type": "follow_up", "weight_kg": "10.1", "height_cm": "76.0"},
    ),
    "patients_assessment": (
        Assessment,
        {"instrument": "hine", "total_score": "60", "outcome": "typical"},
    ),
}


def post_new(client, name, patient, button):
    model, fields = FORMS[name]
    url = reverse(f"admin:{name}_add") + f"?patient={patient.pk}"
    data = admin_form_data(client.get(url), **fields)
    if button:
        data[button] = "1"
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    return response, model.objects.get(patient=patient)


@pytest.mark.parametrize("name", sorted(FORMS))
def test_save_leads_to_the_childs_chart(client, clinician, patient, name):
    response, _ = post_new(client, name, patient, button=None)
    summary = reverse("admin:patients_patient_summary", args=[patient.pk])
    assert response["Location"] == summary


@pytest.mark.parametrize("name", sorted(FORMS))
def test_save_and_continue_stays_on_the_record(client, clinician, patient, name):
    response, record = post_new(client, name, patient, button="_continue")
    path = response["Location"].split("?")[0]  # Django keeps the add page's query
    assert path == reverse(f"admin:{name}_change", args=[record.pk])
