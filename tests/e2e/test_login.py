"""A person signs in to the admin in real chromium and sees the dashboard."""

import pytest
from playwright.sync_api import expect

from records.users import roles
from tests.helpers import TEST_PASSWORD, second_step

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_administrator_signs_in_and_sees_the_dashboard(
    live_server, page, make_user, console_errors
):
    make_user("e2e-admin", roles=[roles.ADMINISTRATOR])
    page.goto(f"{live_server.url}/admin/")
    expect(page).to_have_url(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("input[name=username]", "e2e-admin")
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("button[type=submit]")
    second_step(page, "e2e-admin")
    expect(page).to_have_url(f"{live_server.url}/admin/")
    dashboard = page.get_by_test_id("dashboard")
    expect(dashboard).to_contain_text("Administrator")
    expect(dashboard).to_contain_text("Recent sign-ins")
    expect(dashboard).to_contain_text("e2e-admin")
    expect(page.locator("body")).to_contain_text("Development")
    page.wait_for_load_state("networkidle")
    assert console_errors == []


def test_wrong_password_is_refused(live_server, page, make_user):
    make_user("e2e-user")
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", "e2e-user")
    page.fill("input[name=password]", "not-the-password")
    page.click("button[type=submit]")
    expect(page.locator("body")).to_contain_text(
        "The username or password is not right"
    )
    expect(page).to_have_url(f"{live_server.url}/admin/login/")
