"""An auditor finds who viewed a given patient's chart."""

import pytest
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect

from records.users import roles
from tests import factories
from tests.helpers import TEST_PASSWORD, second_step

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_auditor_finds_who_viewed_a_chart(live_server, page, make_user):
    doctor = make_user("e2e-viewer", roles=[roles.CLINICIAN])
    team = factories.team("Neonatal follow-up", doctor)
    patient = factories.patient(acting_user=doctor, care_teams=[team])
    viewer = Client()
    viewer.force_login(doctor)
    viewer.get(reverse("admin:patients_patient_change", args=[patient.pk]))
    make_user("e2e-auditor", roles=[roles.AUDITOR])

    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", "e2e-auditor")
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("button[type=submit]")
    second_step(page, "e2e-auditor")
    page.goto(
        f"{live_server.url}/admin/audit/auditevent/?patient_id__exact={patient.pk}"
    )
    expect(page.locator("#result_list")).to_contain_text("e2e-viewer")
    page.goto(
        f"{live_server.url}"
        + reverse("admin:audit_auditevent_patient_report", args=[patient.pk])
    )
    events = page.get_by_test_id("events")
    expect(events).to_contain_text("e2e-viewer")
    expect(events).to_contain_text("View")
    expect(page.get_by_test_id("access")).to_contain_text(
        "care team: Neonatal follow-up"
    )
