"""The auditor's pages as an auditor sees them (issue #17): who could open a chart,
emergency access among them; the chart's audit report in words."""

from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect

from records.patients import services
from records.users import roles
from tests import factories
from tests.helpers import TEST_PASSWORD, second_step

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SHOTS = Path("/tmp/e2e_auditor_walk")


def test_auditor_sees_emergency_access_and_events_in_words(
    live_server, page, make_user
):
    doctor = make_user("e2e-doctor", roles=[roles.CLINICIAN])
    team = factories.team("Neonatal follow-up", doctor)
    patient = factories.patient(acting_user=doctor, care_teams=[team])
    stranger = make_user(
        "e2e-glass", roles=[roles.CLINICIAN], first_name="Aisha", last_name="Rahman"
    )
    services.break_glass_open(
        acting_user=stranger, mrn=patient.mrn, reason="Seizure in the waiting room"
    )
    opener = Client()
    opener.force_login(stranger)
    opener.get(reverse("admin:patients_patient_change", args=[patient.pk]))
    make_user("e2e-auditor", roles=[roles.AUDITOR])

    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", "e2e-auditor")
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("button[type=submit]")
    second_step(page, "e2e-auditor")
    SHOTS.mkdir(exist_ok=True)

    page.goto(
        live_server.url + reverse("admin:patients_patient_access", args=[patient.pk])
    )
    expect(page.get_by_test_id("access-heading")).to_contain_text(str(patient))
    access = page.get_by_test_id("chart-access")
    expect(access).to_contain_text("Aisha Rahman (e2e-glass)")
    expect(access).to_contain_text("emergency access")
    expect(access).to_contain_text("opened once")
    page.screenshot(path=str(SHOTS / "access.png"), full_page=True)

    page.goto(
        live_server.url
        + reverse("admin:audit_auditevent_patient_report", args=[patient.pk])
    )
    events = page.get_by_test_id("events")
    expect(events).to_contain_text("Emergency access by Aisha Rahman (e2e-glass)")
    expect(events).to_contain_text(str(patient))
    expect(events).not_to_contain_text("break_glass")
    page.screenshot(path=str(SHOTS / "report.png"), full_page=True)

    page.goto(live_server.url + reverse("admin:patients_breakglassgrant_changelist"))
    expect(page.locator("#result_list")).to_contain_text("Live until")
    expect(page.locator("#result_list")).to_contain_text("Not yet")
    page.screenshot(path=str(SHOTS / "review.png"), full_page=True)
