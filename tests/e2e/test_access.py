"""A clinician sees only their team's charts, and is locked out after five wrong
passwords in a fresh browser."""

import pytest
from playwright.sync_api import expect

from records.users import roles
from tests import factories
from tests.helpers import TEST_PASSWORD, second_step

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_clinician_sees_own_team_and_is_locked_out(live_server, browser, make_user):
    clinician = make_user("e2e-team", roles=[roles.CLINICIAN])
    colleague = make_user("e2e-other", roles=[roles.CLINICIAN])
    ours = factories.team("Neonatal follow-up", clinician)
    theirs = factories.team("Autism assessment", colleague)
    factories.patient(acting_user=clinician, care_teams=[ours], mrn="OURS-0001")
    factories.patient(acting_user=colleague, care_teams=[theirs], mrn="THEIRS-0001")

    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", "e2e-team")
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("button[type=submit]")
    second_step(page, "e2e-team")
    page.goto(f"{live_server.url}/admin/patients/patient/")
    results = page.locator("#result_list")
    expect(results).to_contain_text("OURS-0001")
    expect(results).not_to_contain_text("THEIRS-0001")
    context.close()

    fresh = browser.new_context()
    page = fresh.new_page()
    for _ in range(5):
        page.goto(f"{live_server.url}/admin/login/")
        page.fill("input[name=username]", "e2e-team")
        page.fill("input[name=password]", "not-my-password")
        page.click("button[type=submit]")
    expect(page.locator("body")).to_contain_text("Sign-in temporarily blocked")
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", "e2e-team")
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("body")).to_contain_text("Sign-in temporarily blocked")
    fresh.close()
