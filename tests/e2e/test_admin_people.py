"""What an administrator sees (issue #17): a skip link first on the page, the
user page as a form for people (role, care teams, lockout with Unlock), and the
roles page in plain words. Screenshots go to var/e2e-shots/."""

from pathlib import Path

import pytest
from axes.models import AccessAttempt
from playwright.sync_api import expect

from records.users import roles
from tests import factories
from tests.helpers import TEST_PASSWORD, second_step

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SHOTS = Path(__file__).resolve().parents[2] / "var" / "e2e-shots"


def sign_in(page, url, username):
    page.goto(f"{url}/admin/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("button[type=submit]")
    second_step(page, username)


def test_administrator_unlocks_a_user_from_their_page(live_server, page, make_user):
    SHOTS.mkdir(parents=True, exist_ok=True)
    make_user(
        "e2e-chief", first_name="Alex", last_name="Morgan", roles=[roles.ADMINISTRATOR]
    )
    nurse = make_user(
        "e2e-nurse", first_name="Priya", last_name="Shah", roles=[roles.CLINICIAN]
    )
    factories.team("Neonatal follow-up", nurse)
    AccessAttempt.objects.create(
        username="e2e-nurse",
        ip_address="10.0.0.9",
        user_agent="x",
        get_data="",
        post_data="",
        http_accept="",
        path_info="/admin/login/",
        failures_since_start=5,
    )
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, live_server.url, "e2e-chief")

    page.goto(f"{live_server.url}/admin/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    page.screenshot(path=str(SHOTS / "ad_skip_link.png"))

    page.goto(f"{live_server.url}/admin/users/user/{nurse.pk}/change/")
    expect(page.get_by_text("Role and care teams")).to_be_visible()
    expect(page.get_by_label("Role")).to_have_value(
        str(nurse.groups.get(name=roles.CLINICIAN).pk)
    )
    expect(page.locator("body")).not_to_contain_text("Superuser status")
    expect(page.locator("body")).not_to_contain_text("Designates whether")
    # The form fits the screen: no sideways scrolling.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1280
    page.screenshot(path=str(SHOTS / "ad_user_page.png"), full_page=True)
    expect(page.locator("body")).to_contain_text("Locked out since")
    page.get_by_test_id("unlock-link").click()
    page.screenshot(path=str(SHOTS / "ad_unlock_confirm_new.png"))
    page.get_by_role("button", name="Unlock").click()
    expect(page.locator("body")).to_contain_text("Priya Shah can sign in again.")
    expect(page.locator("body")).to_contain_text("Not locked out")

    page.goto(f"{live_server.url}/admin/auth/group/")
    expect(page.locator("#result_list")).not_to_contain_text("Neonatal follow-up")
    expect(page.locator("#result_list")).to_contain_text("Clinician")
    page.screenshot(path=str(SHOTS / "ad_roles_new.png"), full_page=True)


def test_add_user_and_role_pages_read_plainly(live_server, page, make_user):
    SHOTS.mkdir(parents=True, exist_ok=True)
    make_user("e2e-chief", roles=[roles.ADMINISTRATOR])
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, live_server.url, "e2e-chief")
    page.goto(f"{live_server.url}/admin/users/user/add/")
    body = page.locator("body")
    expect(body).to_contain_text("never by email")
    expect(body).not_to_contain_text("Single Sign-On")
    expect(body).not_to_contain_text("Your password must contain")
    page.screenshot(path=str(SHOTS / "ad_useradd_new.png"), full_page=True)
    page.goto(f"{live_server.url}/admin/auth/group/")
    page.get_by_role("link", name="Data manager").click()
    expect(body).to_contain_text("Imports spreadsheets of records")
    expect(body).not_to_contain_text("Can view")
    page.screenshot(path=str(SHOTS / "ad_role_new.png"), full_page=True)
