"""Issue #17, point 8: a clinician marks twins "not the same child" on the chart,
and the possible-duplicate warning is gone on reload."""

import os
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import expect

from records.patients.models import NotSameChild
from records.users import roles
from tests import factories
from tests.helpers import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Where to keep the pages' screenshots (none when unset).
SCREENSHOTS = os.environ.get("NOT_SAME_CHILD_SCREENSHOTS", "")


def shot(page, name: str) -> None:
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / name), full_page=True)


def test_a_clinician_marks_twins_and_the_warning_is_gone(
    live_server, page, make_user, console_errors
):
    clinician = make_user("e2e-twins", roles=[roles.CLINICIAN], first_name="Ada")
    team = factories.team("Neonatal follow-up", clinician)
    twins = [
        factories.patient(
            acting_user=clinician,
            care_teams=[team],
            given_name=name,
            family_name="Brelling",
            date_of_birth=date(2024, 2, 29),
            guardian_phone="+44 20 7946 0555",
        )
        for name in ("Ava", "Eva")
    ]
    sign_in(page, "e2e-twins", base_url=live_server.url)
    chart = f"{live_server.url}/admin/patients/patient/{twins[0].pk}/change/"

    page.goto(chart)
    warning = page.locator(".messagelist, #content-start, body").first
    expect(warning).to_contain_text("Possible duplicate")
    expect(warning).to_contain_text(
        "the same date of birth and a similar name, and the same guardian phone"
    )
    shot(page, "1_chart_warns.png")

    page.get_by_test_id("not-same-child").click()
    comparison = page.get_by_test_id("chart-comparison")
    expect(comparison).to_contain_text("29 Feb 2024")
    expect(comparison).to_contain_text("Eva Brelling")
    shot(page, "2_compare.png")
    page.get_by_role("button", name="Not the same child").click()

    expect(page).to_have_url(chart)
    expect(page.locator("body")).to_contain_text("Marked as not the same child")
    page.reload()
    expect(page.locator("input[name=mrn]")).to_have_value(twins[0].mrn)
    expect(page.locator("body")).not_to_contain_text("Possible duplicate")
    shot(page, "3_after_reload.png")
    # And from the other twin's chart too.
    page.goto(f"{live_server.url}/admin/patients/patient/{twins[1].pk}/change/")
    expect(page.locator("input[name=mrn]")).to_have_value(twins[1].mrn)
    expect(page.locator("body")).not_to_contain_text("Possible duplicate")

    pair = NotSameChild.objects.get()
    assert pair.marked_by == clinician
    page.wait_for_load_state("networkidle")
    assert console_errors == []
