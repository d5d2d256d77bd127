"""A final assessment or visit is shown read-only, with an Amend button that opens the
same form in amend mode: the reason first, and required."""

import re

import pytest
from django.urls import reverse

from records.clinical_records import services as visit_services
from records.patients import services
from records.patients.models import Assessment
from records.users import roles
from tests import factories
from tests.helpers import admin_form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def clinician(client, make_user):
    user = make_user("fin-doc", roles=[roles.CLINICIAN])
    client.force_login(user)
    return user


@pytest.fixture
def finals(clinician):
    patient = factories.patient(acting_user=clinician)
    assessment = factories.assessment(acting_user=clinician, patient=patient)
    services.assessment_finalize(acting_user=clinician, assessment=assessment)
    visit = factories.visit(acting_user=clinician, patient=patient)
    visit_services.clinical_record_finalize(acting_user=clinician, record=visit)
    return assessment, visit


def change_url(obj):
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])


def test_final_records_are_read_only_with_an_amend_button(client, finals):
    for record in finals:
        url = change_url(record)
        body = client.get(url).content.decode()
        assert "is final: it is shown read-only" in body
        assert f'href="{url}?amend=1"' in body
        # Nothing to type in, no switch showing "not final", no Save.
        for name in ("findings", "chief_complaint", "make_final", "change_reason"):
            assert f'name="{name}"' not in body
        assert 'name="_save"' not in body


def test_amend_page_asks_the_reason_first_and_requires_it(client, finals):
    for record in finals:
        url = change_url(record)
        page = client.get(f"{url}?amend=1")
        body = page.content.decode()
        assert "Amending a final" in body
        assert 'name="make_final"' not in body
        form = body[body.index(f'id="{record._meta.model_name}_form"') :]
        fields = re.findall(r'<(?:input|select|textarea)[^>]* name="(\w+)"', form)
        visible = [f for f in fields if f not in ("csrfmiddlewaretoken",)]
        assert visible[0] == "change_reason"
        reason = re.search(r'<input[^>]*name="change_reason"[^>]*>', body).group(0)
        assert "required" in reason
        # Posted from the Amend page without a reason: refused, nothing saved.
        version = type(record).objects.get(pk=record.pk).version
        response = client.post(f"{url}?amend=1", admin_form_data(page))
        assert response.status_code == 200
        assert "This field is required" in response.content.decode()
        assert type(record).objects.get(pk=record.pk).version == version


def test_amending_from_the_amend_page_saves_and_returns_read_only(client, finals):
    assessment, _ = finals
    url = change_url(assessment)
    page = client.get(f"{url}?amend=1")
    response = client.post(
        f"{url}?amend=1",
        admin_form_data(
            page, findings="Reviewed video", change_reason="Second opinion", _continue=1
        ),
    )
    assert response.status_code == 302 and response.url == url
    amended = Assessment.objects.get(pk=assessment.pk)
    assert amended.findings == "Reviewed video" and amended.status == "final"
    assert amended.history.first().history_change_reason == "Amendment: Second opinion"
    assert "is final: it is shown read-only" in client.get(url).content.decode()


def test_no_amend_button_for_those_who_may_not_amend(client, finals, make_user):
    client.force_login(make_user("fin-aud", roles=[roles.AUDITOR]))
    for record in finals:
        body = client.get(change_url(record)).content.decode()
        assert "is final: it is shown read-only" in body
        assert "?amend=1" not in body


def test_a_draft_keeps_its_form_and_make_final_switch(client, clinician):
    patient = factories.patient(acting_user=clinician)
    draft = factories.assessment(acting_user=clinician, patient=patient)
    body = client.get(change_url(draft)).content.decode()
    assert 'name="make_final"' in body and 'name="findings"' in body
    assert "shown read-only" not in body
