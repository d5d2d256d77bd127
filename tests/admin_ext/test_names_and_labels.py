"""Staff by their names, models by theirs, values as the forms show them: no username
alone, no app label, no "None" on a page staff read."""

import re

import pytest
from django.urls import reverse

from records.audit.services import audit_record
from records.patients import services
from records.users import roles
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def ada(make_user):
    return make_user(
        "alovelace", roles=[roles.CLINICIAN], first_name="Ada", last_name="Lovelace"
    )


def test_a_user_is_named_by_full_name(make_user, ada):
    assert str(ada) == "Ada Lovelace"
    assert ada.name_with_username == "Ada Lovelace (alovelace)"
    nameless = make_user("nameless")
    assert str(nameless) == "nameless" == nameless.name_with_username


def test_assessor_and_clinician_pickers_name_staff(client, ada):
    factories.team("Pickers", ada)
    client.force_login(ada)
    for page, field in (
        ("patients_assessment", "assessor"),
        ("clinical_records_clinicalrecord", "clinician"),
    ):
        body = client.get(reverse(f"admin:{page}_add")).content.decode()
        select = re.search(rf'<select name="{field}".*?</select>', body, re.S)
        assert "Ada Lovelace (alovelace)" in select.group(0), field


def test_history_names_the_user_labels_fields_and_never_says_none(client, ada):
    patient = factories.patient(acting_user=ada, city="Arnsby", sex="female")
    services.patient_update(
        acting_user=ada, patient=patient, data={"city": "Brelling", "sex": "male"}
    )
    client.force_login(ada)
    body = client.get(
        reverse("admin:patients_patient_history", args=[patient.pk])
    ).content.decode()
    table = body[body.index('id="change-history"') :]
    assert "Ada Lovelace" in table and ">alovelace<" not in table
    assert "None" not in table
    assert "City:" in table and "city:" not in table
    assert "Female" in table and "Male" in table  # choice labels, not values


def test_audit_list_names_actors_and_objects(client, make_user, ada):
    auditor = make_user(
        "aud", roles=[roles.AUDITOR], first_name="Grace", last_name="Hopper"
    )
    audit_record(
        action="grant",
        actor=ada,
        actor_username=ada.username,
        object_type="patients.patientgroupobjectpermission",
        object_id=1,
        summary="test",
    )
    client.force_login(auditor)
    body = client.get(reverse("admin:audit_auditevent_changelist")).content.decode()
    assert "Ada Lovelace (alovelace)" in body
    assert "Chart&#x27;s care team" in body or "Chart's care team" in body
    assert "patients.patientgroupobjectpermission" not in body


def test_dashboard_does_not_repeat_djangos_app_list(client, make_user):
    client.force_login(make_user("boss", roles=[roles.ADMINISTRATOR]))
    body = client.get(reverse("admin:index")).content.decode()
    main = body[body.index('id="content"') if 'id="content"' in body else 0 :]
    for developer_name in ("Axes", "Login events", "Access attempts"):
        assert developer_name not in main, developer_name
