"""The demo clinician signs in and finds their worklist on the dashboard: drafts,
follow-ups due and overdue, a growth alert; a row opens the chart's summary."""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from records.demo.charts import demo_charts_ensure
from records.users import roles
from tests.helpers import TEST_PASSWORD, second_step

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SCREENSHOT = os.environ.get("DASHBOARD_SCREENSHOT", "")


@pytest.fixture
def demo_clinic(make_user, settings, s3_storage):
    settings.DEBUG = True
    make_user("clinician", roles=[roles.CLINICIAN], first_name="Demo")
    admin = make_user("admin", roles=[roles.ADMINISTRATOR])
    demo_charts_ensure(acting_user=admin, count=6)
    settings.DEBUG = False


def test_clinicians_worklist_opens_a_chart(live_server, page, demo_clinic):
    messages = []
    page.on("console", lambda message: messages.append(message.text))
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", "clinician")
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("button[type=submit]")
    second_step(page, "clinician")
    expect(page).to_have_url(f"{live_server.url}/admin/")

    drafts = page.get_by_test_id("panel-drafts")
    expect(drafts).to_contain_text("Drafts awaiting your sign-off")
    expect(drafts.locator("li").first).to_be_visible()
    follow_ups = page.get_by_test_id("panel-follow-ups")
    expect(follow_ups).to_contain_text("Overdue")
    expect(follow_ups).to_contain_text("Due")
    alerts = page.get_by_test_id("panel-growth-alerts")
    expect(alerts).to_contain_text("Weight faltering")
    expect(page.get_by_test_id("panel-recent-charts")).to_contain_text(
        "You have not opened a chart yet."
    )
    if SCREENSHOT:
        Path(SCREENSHOT).parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOT, full_page=True)

    alert = alerts.locator("li a").first
    mrn = alert.locator("span").first.inner_text().split(" ")[0]
    alert.click()
    expect(page).to_have_url(re.compile(r"/admin/patients/patient/\d+/summary/$"))
    expect(page.get_by_test_id("summary-header")).to_contain_text(mrn)
    expect(page.get_by_test_id("growth-alerts")).to_contain_text("Weight faltering")

    # Back on the dashboard, the chart just opened heads the recent ones.
    page.goto(f"{live_server.url}/admin/")
    expect(page.get_by_test_id("panel-recent-charts")).to_contain_text(mrn)
    assert not [m for m in messages if "Content Security Policy" in m], messages


def test_auditors_dashboard_leads_to_the_review(live_server, page, make_user):
    from records.patients.services import access
    from records.users.models import LoginEvent
    from tests import factories

    make_user("aud", roles=[roles.AUDITOR])
    doctor = make_user("doc", roles=[roles.CLINICIAN], first_name="Ada")
    chart = factories.patient(acting_user=factories.clinician("carer"))
    grant = access.break_glass_open(
        acting_user=doctor, mrn=chart.mrn, reason="Seen in the emergency room"
    )
    LoginEvent.objects.create(kind="lockout", username="mallory", ip="192.0.2.7")
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", "aud")
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("button[type=submit]")
    second_step(page, "aud")
    expect(page).to_have_url(f"{live_server.url}/admin/")
    expect(page.get_by_test_id("panel-lockouts")).to_contain_text("mallory")
    review = page.get_by_test_id("panel-emergency-review")
    expect(review).to_contain_text(f"Ada opened {chart}")
    if SCREENSHOT:
        page.screenshot(path=SCREENSHOT.replace(".png", "-auditor.png"), full_page=True)
    review.locator("li a").first.click()
    expect(page).to_have_url(re.compile(rf"/breakglassgrant/{grant.pk}/change/$"))
