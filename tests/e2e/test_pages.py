"""Every page as clinic staff expect: NDAS's own not-found page, no preset choices,
final records read-only with an Amend button."""

import os
import re

import pytest
from playwright.sync_api import expect

from records.clinical_records import services as visit_services
from records.users import roles
from tests import factories
from tests.helpers import TEST_PASSWORD, second_step

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Screenshots for a person to look at, when asked for (NDAS_E2E_SHOTS=dir).
SHOTS = os.environ.get("NDAS_E2E_SHOTS")


def shot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def sign_in(page, live_server, username):
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("button[type=submit]")
    second_step(page, username)
    expect(page).to_have_url(f"{live_server.url}/admin/")


@pytest.mark.parametrize("debug", [True, False])
def test_chart_outside_ones_teams_shows_ndas_not_found(
    live_server, page, make_user, settings, debug
):
    settings.DEBUG = debug
    clinician = make_user("e2e-nf", roles=[roles.CLINICIAN])
    colleague = make_user("e2e-nf-other", roles=[roles.CLINICIAN])
    factories.team("Neonatal follow-up", clinician)
    theirs = factories.team("General paediatrics", colleague)
    other = factories.patient(acting_user=colleague, care_teams=[theirs])
    sign_in(page, live_server, "e2e-nf")

    page.goto(f"{live_server.url}/admin/patients/patient/{other.pk}/change/")
    body = page.locator("body")
    expect(body).to_contain_text("Page not found")
    expect(body).to_contain_text(
        "This page or chart does not exist, or the chart is not in your care teams."
    )
    expect(body).not_to_contain_text("URLconf")
    shot(page, f"not-found-debug-{debug}")
    page.get_by_role("link", name="Emergency access").click()
    expect(page).to_have_title(re.compile("Emergency access to a chart"))


def test_new_patient_has_no_preset_sex(live_server, page, make_user):
    clinician = make_user("e2e-sex", roles=[roles.CLINICIAN])
    factories.team("Neonatal follow-up", clinician)
    sign_in(page, live_server, "e2e-sex")
    page.goto(f"{live_server.url}/admin/patients/patient/add/")
    expect(page.locator("select[name=sex]")).to_have_value("")
    page.fill("input[name=mrn]", "E2E-SEX-1")
    page.fill("input[name=given_name]", "Ilse")
    page.fill("input[name=family_name]", "Varro")
    page.fill("input[name=date_of_birth]", "14/03/2025")
    page.select_option("select[name=care_teams]", label="Neonatal follow-up")
    page.click("button[name=_save]")
    expect(page.locator(".field-sex")).to_contain_text("This field is required")


def test_final_visit_is_read_only_and_amended_with_a_reason(
    live_server, page, make_user
):
    clinician = make_user("e2e-amend", roles=[roles.CLINICIAN], first_name="Ada")
    team = factories.team("Neonatal follow-up", clinician)
    patient = factories.patient(acting_user=clinician, care_teams=[team])
    visit = factories.visit(acting_user=clinician, patient=patient)
    visit_services.clinical_record_finalize(acting_user=clinician, record=visit)
    sign_in(page, live_server, "e2e-amend")

    url = f"{live_server.url}/admin/clinical_records/clinicalrecord/{visit.pk}/change/"
    page.goto(url)
    expect(page.get_by_test_id("final-banner")).to_contain_text("is final")
    expect(page.locator("input[name=chief_complaint]")).to_have_count(0)
    expect(page.locator("input[name=make_final]")).to_have_count(0)
    expect(page.locator("button[name=_save]")).to_have_count(0)
    shot(page, "final-read-only")

    page.get_by_role("link", name="Amend", exact=False).filter(
        has_text="edit_note"
    ).click()
    expect(page.get_by_test_id("amend-banner")).to_be_visible()
    reason = page.locator("input[name=change_reason]")
    expect(reason).to_have_attribute("required", "")
    shot(page, "final-amend")
    page.fill("input[name=chief_complaint]", "Poor feeding, reviewed")
    page.fill("input[name=change_reason]", "Complaint misheard")
    page.click("button[name=_continue]")
    expect(page.locator("body")).to_contain_text("was changed successfully")
    expect(page).to_have_url(url)
    expect(page.get_by_test_id("final-banner")).to_be_visible()
    expect(page.locator("#content")).to_contain_text("Poor feeding, reviewed")


def test_new_charts_tabs_say_what_belongs_there(live_server, page, make_user):
    clinician = make_user(
        "e2e-tabs", roles=[roles.CLINICIAN], first_name="Ada", last_name="Lovelace"
    )
    team = factories.team("Neonatal follow-up", clinician)
    patient = factories.patient(acting_user=clinician, care_teams=[team])
    sign_in(page, live_server, "e2e-tabs")
    page.goto(f"{live_server.url}/admin/patients/patient/{patient.pk}/change/")
    page.locator("#tabs-items a", has_text="Visits").click()
    empty = page.get_by_test_id("empty-clinicalrecord")
    expect(empty).to_contain_text("No visits yet.")
    shot(page, "empty-visits-tab")
    empty.get_by_role("link").click()
    expect(page.locator(".field-patient")).to_contain_text(patient.mrn)
    # The clinician is picked by name, with the username telling people apart.
    expect(page.locator("select[name=clinician] option:checked")).to_have_text(
        "Ada Lovelace (e2e-tabs)"
    )
    shot(page, "add-visit-from-tab")


def test_audit_report_show_button_fits_its_row(live_server, page, make_user):
    doctor = make_user("e2e-audited", roles=[roles.CLINICIAN])
    patient = factories.patient(acting_user=doctor)
    make_user("e2e-aud", roles=[roles.AUDITOR])
    sign_in(page, live_server, "e2e-aud")
    page.goto(f"{live_server.url}/admin/audit/auditevent/patient/{patient.pk}/")
    show = page.get_by_role("button", name="Show").bounding_box()
    start = page.locator("input[name=start]").bounding_box()
    shot(page, "audit-report")
    assert show["height"] <= start["height"] + 2
    assert show["width"] < 200
