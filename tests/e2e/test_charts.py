"""A clinician registers a patient, records a visit and finds it in the history."""

import re

import pytest
from playwright.sync_api import expect

from records.users import roles
from tests import factories
from tests.helpers import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_register_patient_record_visit_and_see_history(
    live_server, page, make_user, console_errors
):
    clinician = make_user("e2e-clin", roles=[roles.CLINICIAN], first_name="Ada")
    factories.team("Neonatal follow-up", clinician)
    sign_in(page, "e2e-clin", base_url=live_server.url)

    page.goto(f"{live_server.url}/admin/patients/patient/add/")
    page.fill("input[name=mrn]", "e2e-0001")
    page.fill("input[name=given_name]", "Talvi")
    page.fill("input[name=family_name]", "Quennard")
    page.fill("input[name=date_of_birth]", "2025-03-14")
    page.select_option("select[name=sex]", "female")
    page.select_option("select[name=care_teams]", label="Neonatal follow-up")
    # A new record asks no reason for change (there is no change yet).
    expect(page.locator("input[name=change_reason]")).to_have_count(0)
    page.click("button[name=_continue]")
    expect(page.locator("body")).to_contain_text("was added successfully")
    expect(page.locator("input[name=mrn]")).to_have_value("E2E-0001")
    patient_url = page.url

    page.goto(f"{live_server.url}/admin/clinical_records/clinicalrecord/add/")
    # The patient field is an autocomplete: type, then pick the match. What is
    # typed is posted: no address the browser asks for holds it.
    addresses = []
    page.on("request", lambda request: addresses.append(request.url))
    page.locator(".field-patient .select2-selection").click()
    page.locator(".select2-search__field").fill("Quenn")
    page.locator(".select2-results__option", has_text="E2E-0001").click()
    assert any("/admin/autocomplete/" in address for address in addresses)
    assert not any("Quenn" in address for address in addresses)
    page.fill("input[name=visit_date]", "2026-11-02")
    page.select_option("select[name=visit_type]", "new")
    page.fill("input[name=weight_kg]", "9.8")
    page.fill("input[name=height_cm]", "76")
    page.fill("input[name=diagnoses]", "f82")
    page.click("button[name=_continue]")
    expect(page.locator("body")).to_contain_text("was added successfully")
    form = page.locator("#content")
    expect(form).to_contain_text("BMI (kg/m²)")
    expect(form).to_contain_text("17.0")  # 9.8 kg at 76 cm
    expect(form).to_contain_text(
        "F82 Specific developmental disorder of motor function"
    )

    page.goto(page.url.replace("/change/", "/history/"))
    history = page.locator("#change-history")
    expect(history).to_contain_text("Ada")  # by name, not username

    page.goto(patient_url)
    expect(page.locator("body")).to_contain_text("New visit on 2 Nov 2026")

    # The list's search finds her, and the name stays out of the address.
    page.goto(f"{live_server.url}/admin/patients/patient/")
    page.fill("#searchbar", "Quennard")
    page.press("#searchbar", "Enter")
    expect(page).to_have_url(re.compile(r"/admin/patients/patient/\?s=[\w-]+$"))
    expect(page.locator("#result_list")).to_contain_text("E2E-0001")
    expect(page.locator("#searchbar")).to_have_value("Quennard")
    assert "Quennard" not in page.url
    page.wait_for_load_state("networkidle")
    assert console_errors == []
