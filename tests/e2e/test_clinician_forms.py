"""A clinician writes a visit as a person would (issue #17's walk): the date typed
as NDAS shows dates, signed off in one go; what the page then says, seen in the
browser."""

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from records.clinical_records.models import ClinicalRecord
from records.users import roles
from tests import factories
from tests.helpers import TEST_PASSWORD, second_step

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SCREENSHOTS = Path(os.environ.get("CLINICIAN_FORM_SCREENSHOTS", "/tmp/ndas-e2e"))


def sign_in(page, live_server, username):
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("button[type=submit]")
    second_step(page, username)
    expect(page).to_have_url(f"{live_server.url}/admin/")


def test_a_visit_typed_and_signed_off_reads_plainly(live_server, page, make_user):
    doctor = make_user(
        "clinician", roles=[roles.CLINICIAN], first_name="Ada", last_name="Brook"
    )
    patient = factories.patient(
        acting_user=doctor,
        family_name="Orvell",
        date_of_birth=timezone.localdate() - timedelta(days=300),
    )
    sign_in(page, live_server, "clinician")
    page.goto(
        f"{live_server.url}/admin/clinical_records/clinicalrecord/add/"
        f"?patient={patient.pk}"
    )
    date_field = page.locator("input[name=visit_date]")
    expect(date_field).to_have_value(f"{timezone.localdate():%d/%m/%Y}")
    expect(date_field).to_have_attribute("placeholder", "DD/MM/YYYY")
    page_text = page.locator("#content").inner_text()
    assert "Reason for change" not in page_text and "Version" not in page_text
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "f3_visit_add.png"), full_page=True)
    # Tab goes from the date to the next field, not to the calendar button.
    calendar = page.locator(".datetimeshortcuts a[id^='calendarlink']").first
    expect(calendar).to_have_attribute("tabindex", "-1")
    date_field.focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "visit_type"

    seen = timezone.localdate() - timedelta(days=2)
    date_field.fill(f"{seen.day} {seen:%b %Y}")  # as NDAS shows it: 4 Dec 2026
    page.select_option("select[name=visit_type]", "follow_up")
    page.fill("input[name=weight_kg]", "7.6")
    page.fill("input[name=height_cm]", "70")
    page.locator("input[name=make_final]").check(force=True)
    page.click("button[name=_continue]")

    messages = page.locator("#main")
    expect(messages).to_contain_text("Visit signed off as final.")
    expect(page.get_by_test_id("signed-off")).to_contain_text(
        "Signed off by Ada Brook on "
    )
    text = page.locator("#content").inner_text()
    assert "changed successfully" not in text and "added successfully" not in text
    assert "7.600" not in text and "Version" not in text
    record = ClinicalRecord.objects.get()
    assert record.visit_date == seen and record.status == "final"
    page.screenshot(path=str(SCREENSHOTS / "f3_visit_final.png"), full_page=True)


def test_a_date_the_form_cannot_read_says_how_to_type_one(live_server, page, make_user):
    doctor = make_user("clinician", roles=[roles.CLINICIAN])
    patient = factories.patient(acting_user=doctor)
    sign_in(page, live_server, "clinician")
    page.goto(f"{live_server.url}/admin/patients/patient/{patient.pk}/change/")
    page.fill("input[name=date_of_birth]", "31/02/2024")
    page.click("button[name=_continue]")
    top = page.get_by_test_id("form-errors")
    expect(top).to_be_visible()
    expect(top).to_contain_text("Date of birth")
    expect(top).to_contain_text("Enter a date as DD/MM/YYYY")
    page.screenshot(path=str(SCREENSHOTS / "f3_date_error.png"), full_page=True)


def test_emergency_access_opens_the_summary_and_details_read_plainly(
    live_server, page, make_user
):
    owner = make_user("owner", roles=[roles.CLINICIAN])
    patient = factories.patient(
        acting_user=owner, family_name="Quennard", guardian_phone="020 7946 0907"
    )
    make_user("clinician", roles=[roles.CLINICIAN])
    sign_in(page, live_server, "clinician")
    page.goto(f"{live_server.url}/admin/patients/patient/emergency-access/")
    page.fill("input[name=mrn]", patient.mrn)
    page.fill("textarea[name=reason]", "Status epilepticus in ED")
    page.get_by_role("button", name="Open the chart").click()
    expect(page).to_have_url(
        f"{live_server.url}/admin/patients/patient/{patient.pk}/summary/"
    )
    expect(page.get_by_test_id("emergency-banner")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "f3_ea_summary.png"), full_page=True)
    page.get_by_role("link", name="Details", exact=True).click()
    content = page.locator("#content")
    expect(content).to_contain_text("020 7946 0907")
    expect(content).to_contain_text("Team of owner")
    text = content.inner_text()
    assert "Reason for change" not in text and "Change reason" not in text
    assert "letters, digits and dashes" not in text
    page.screenshot(path=str(SCREENSHOTS / "f3_ea_details.png"), full_page=True)
