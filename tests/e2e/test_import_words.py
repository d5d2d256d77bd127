"""What a data manager reads on the import and export pages (#17): a report in
field names and shown values, the wrong kind of file in one message, an
impossible date named, lists titled as the sidebar, an export form in plain
column names. Screenshots go to the test's tmp_path."""

import csv
import time

import pytest
from playwright.sync_api import expect

from records.imports.models import ExportJob
from records.users import roles
from tests.helpers import TEST_PASSWORD, second_step

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ROWS = [
    [
        "mrn",
        "given_name",
        "family_name",
        "date_of_birth",
        "sex",
        "guardian_relationship",
    ],
    ["WRD-0001", "Amira", "Okafor", "2024-02-10", "female", "legal_guardian"],
    ["WRD-0002", "Ben", "Hughes", "2025-02-30", "male", "uncle"],
]


def sign_in(page, live_server, make_user):
    make_user("e2e-words", roles=[roles.DATA_MANAGER])
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", "e2e-words")
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("button[type=submit]")
    second_step(page, "e2e-words")


def send(page, live_server, path, entity="patients"):
    page.goto(f"{live_server.url}/admin/imports/importjob/upload/")
    page.select_option("select[name=entity]", entity)
    page.set_input_files("input[name=file]", str(path))
    page.fill("input[name=reason]", "New referrals")
    if entity == "patients":
        page.select_option("select[name=care_team]", "none")  # no team
    page.click("[data-testid=import-form] button[type=submit]")


def test_import_and_export_pages_read_plainly(
    live_server, page, make_user, s3_storage, tmp_path
):
    sign_in(page, live_server, make_user)
    bad = tmp_path / "referrals.csv"
    with bad.open("w", newline="") as handle:
        csv.writer(handle).writerows(ROWS)

    send(page, live_server, bad, entity="assessments")
    errors = page.get_by_test_id("errors")
    expect(errors).to_contain_text("This looks like a Patients file")
    expect(errors.locator("tbody tr")).to_have_count(1)
    page.screenshot(path=str(tmp_path / "wrong_kind.png"), full_page=True)

    send(page, live_server, bad)
    errors = page.get_by_test_id("errors")
    expect(errors).to_contain_text("There is no 30 February 2025.")
    expect(errors).to_contain_text("Legal guardian (legal_guardian)")
    preview = page.get_by_test_id("preview")
    expect(preview).to_contain_text("Date of birth: — → 10 Feb 2024")
    expect(preview).to_contain_text("Guardian relationship: — → Legal guardian")
    expect(preview).not_to_contain_text("given_name")
    expect(page.get_by_test_id("import-report")).not_to_contain_text("SHA-256")
    page.screenshot(path=str(tmp_path / "report.png"), full_page=True)

    page.goto(f"{live_server.url}/admin/imports/importjob/")
    expect(page.locator("h1")).to_contain_text("Imports")
    expect(page.locator("#result_list")).to_contain_text("referrals.csv, ")
    expect(page.locator("#result_list")).to_contain_text("Has errors")
    page.screenshot(path=str(tmp_path / "imports.png"), full_page=True)

    page.goto(f"{live_server.url}/admin/patients/patient/export/")
    expect(page.locator("h1")).to_contain_text("Export")
    expect(page.get_by_text("Gestation at birth (weeks)")).to_be_visible()
    expect(page.get_by_text("gestational_age_weeks", exact=True)).to_have_count(0)
    page.screenshot(path=str(tmp_path / "export_form.png"), full_page=True)
    with page.expect_download() as download:
        page.get_by_role("button", name="Export").click()
    download.value.path()  # the whole file has arrived
    # The server marks the export completed once its last row has gone, a moment
    # after the browser has it.
    deadline = time.monotonic() + 10
    while ExportJob.objects.get().status != ExportJob.Status.COMPLETED:
        assert time.monotonic() < deadline, ExportJob.objects.get().status
        time.sleep(0.05)

    page.goto(f"{live_server.url}/admin/imports/exportjob/")
    expect(page.locator("h1")).to_contain_text("Exports")
    table = page.locator("#result_list")
    for shown in ("What", "Rows", "CSV", "Sent to the browser", "Completed"):
        expect(table).to_contain_text(shown)
    page.screenshot(path=str(tmp_path / "exports.png"), full_page=True)

    # The export's own page (the dashboard links to it), in the same words.
    job = ExportJob.objects.get()
    page.goto(f"{live_server.url}/admin/imports/exportjob/{job.pk}/change/")
    expect(page.locator("#content")).to_contain_text("MRN, Given name, Family name")
    expect(page.locator("#content")).not_to_contain_text('"mrn"')
    page.screenshot(path=str(tmp_path / "export_page.png"), full_page=True)
