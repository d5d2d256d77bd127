"""A large file goes to a worker (the threshold set low here): the import page
follows it by itself (rows done going up, no reload by hand), shows the report
when the check ends, and follows the commit the same way; a second large file is
cancelled from its page while it is checked."""

import re

import pytest
from playwright.sync_api import expect

from records.imports.models import ImportJob
from records.patients.models import Patient
from records.users import roles
from tests.helpers import TEST_PASSWORD, second_step
from tests.support.worker import patients_csv, worker

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
ROWS = 120_000


def _rows_shown(page) -> int:
    text = page.get_by_test_id("progress-rows").text_content() or "0"
    return int(re.sub(r"\D", "", text) or 0)


def _upload(page, live_server, path) -> None:
    page.goto(f"{live_server.url}/admin/imports/importjob/upload/")
    page.set_input_files("input[name=file]", str(path))
    page.fill("input[name=reason]", "Migration from the old register")
    page.select_option("select[name=care_team]", value="none")
    page.click("[data-testid=import-form] button[type=submit]")


def test_a_large_import_shows_its_progress_and_its_report(
    live_server, page, make_user, s3_storage, settings, tmp_path, console_errors
):
    settings.IMPORT_WORKER_MIN_ROWS = 1_000
    settings.IMPORT_PROGRESS_EVERY_S = 0.1
    make_user("e2e-data", roles=[roles.DATA_MANAGER])
    path = tmp_path / "register.csv"
    path.write_bytes(patients_csv(ROWS, prefix="E2E"))
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", "e2e-data")
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("button[type=submit]")
    second_step(page, "e2e-data")

    with worker():
        _upload(page, live_server, path)
        panel = page.get_by_test_id("import-progress")
        expect(panel).to_be_visible()
        expect(panel).to_contain_text("You may leave this page")
        # The numbers move on their own (the page polls; nobody reloads it).
        page.wait_for_function(
            "() => /[1-9]/.test(document.querySelector("
            "'[data-testid=progress-rows]').textContent)",
            timeout=60_000,
        )
        first = _rows_shown(page)
        page.screenshot(path=str(tmp_path / "checking.png"), full_page=True)
        expect(page.get_by_test_id("status")).to_have_text(
            "Validated, not committed", timeout=120_000
        )
        assert first < ROWS  # seen before the end, then the report came
        expect(page.get_by_test_id("count-new")).to_have_text(str(ROWS))
        page.screenshot(path=str(tmp_path / "validated.png"), full_page=True)

        page.get_by_test_id("commit").click()
        expect(page.locator("body")).to_contain_text("is being committed")
        expect(page.get_by_test_id("status")).to_have_text("Committed", timeout=180_000)
        page.screenshot(path=str(tmp_path / "committed.png"), full_page=True)
        assert Patient.objects.count() == ROWS

        # A second file, cancelled while it is checked.
        second = tmp_path / "second.csv"
        second.write_bytes(patients_csv(ROWS, prefix="TWO"))
        _upload(page, live_server, second)
        page.wait_for_function(
            "() => /[1-9]/.test(document.querySelector("
            "'[data-testid=progress-rows]').textContent)",
            timeout=60_000,
        )
        # Cancelling asks first: declined, nothing happens; accepted, it cancels.
        page.once("dialog", lambda dialog: dialog.dismiss())
        page.get_by_test_id("cancel").click()
        expect(page.get_by_test_id("cancel")).to_be_visible()
        assert not ImportJob.objects.filter(status=ImportJob.Status.CANCELLED).exists()
        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_test_id("cancel").click()
        expect(page.get_by_test_id("status")).to_have_text(
            "Cancelled, not committed", timeout=60_000
        )
        page.screenshot(path=str(tmp_path / "cancelled.png"), full_page=True)
    assert ImportJob.objects.filter(status=ImportJob.Status.CANCELLED).count() == 1
    assert Patient.objects.count() == ROWS
    assert not console_errors  # CSP violations included
