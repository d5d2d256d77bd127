"""A clinician with a child followed for years: the patient page's visits tab shows
the latest 20 and leads to the timeline; a new visit saved lands on the chart."""

import os
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from records.users import roles
from tests import factories
from tests.helpers import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SCREENSHOTS = Path(os.environ.get("LONG_CHART_SCREENSHOTS", "/tmp/ndas-e2e"))


def test_long_chart_tab_leads_to_timeline_and_save_returns_to_chart(
    live_server, page, make_user, console_errors
):
    clinician = make_user("e2e-long", roles=[roles.CLINICIAN], first_name="Ada")
    team = factories.team("Neonatal follow-up", clinician)
    patient = factories.patient(
        acting_user=clinician,
        care_teams=[team],
        family_name="Longfellow",
        date_of_birth=date.today() - timedelta(days=700),
    )
    first = date.today() - timedelta(days=600)
    for n in range(22):
        factories.visit(
            acting_user=clinician,
            patient=patient,
            visit_date=first + timedelta(days=25 * n),
            chief_complaint=f"Review {n + 1}",
        )
    sign_in(page, "e2e-long", base_url=live_server.url)

    page.goto(f"{live_server.url}/admin/patients/patient/{patient.pk}/change/")
    page.locator("#content").get_by_role("link", name="Visits").click()
    note = page.get_by_test_id("more-clinicalrecord")
    expect(note).to_contain_text("The latest 20, newest first.")
    expect(page.locator("#content")).to_contain_text("Review 22")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "long_chart_tab.png"), full_page=True)
    shown = page.locator("td.field-chief_complaint")
    expect(shown).to_have_count(20)
    expect(shown.first).to_contain_text("Review 22")
    expect(shown.last).to_contain_text("Review 3")
    note.get_by_role("link").click()
    expect(page).to_have_url(
        f"{live_server.url}/admin/patients/patient/{patient.pk}/summary/#timeline"
    )
    expect(page.get_by_test_id("timeline")).to_be_visible()

    page.goto(
        f"{live_server.url}/admin/clinical_records/clinicalrecord/add/"
        f"?patient={patient.pk}"
    )
    page.select_option("select[name=visit_type]", "follow_up")
    page.fill("input[name=chief_complaint]", "Seen today")
    page.click("button[name=_save]")
    expect(page).to_have_url(
        f"{live_server.url}/admin/patients/patient/{patient.pk}/summary/"
    )
    expect(page.get_by_test_id("timeline")).to_contain_text("Seen today")
    page.screenshot(path=str(SCREENSHOTS / "long_chart_saved.png"), full_page=True)
    assert console_errors == []
