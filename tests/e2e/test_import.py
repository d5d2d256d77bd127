"""A data manager uploads a file with errors, downloads the error report, fixes the
file (its error column left in), previews it and commits it, new patients into the
care team they chose (one the data manager is not in)."""

import csv
import io

import pytest
from playwright.sync_api import expect

from records.patients.models import Patient
from records.patients.repositories import patients_visible_to
from records.users import roles
from tests import factories
from tests.helpers import TEST_PASSWORD, second_step

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ROWS = [
    ["mrn", "given_name", "family_name", "date_of_birth", "sex"],
    ["E2E-1001", "Talvi", "Quennard", "2025-03-14", "female"],
    ["E2E-1002", "Orrin", "Velmarch", "14th March", "male"],
]


def test_fix_errors_preview_and_commit(
    live_server, page, make_user, s3_storage, tmp_path
):
    make_user("e2e-data", roles=[roles.DATA_MANAGER])
    clinician = make_user("e2e-doc", roles=[roles.CLINICIAN])
    factories.team("Neonatal follow-up", clinician)
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", "e2e-data")
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("button[type=submit]")
    second_step(page, "e2e-data")

    bad = tmp_path / "patients.csv"
    with bad.open("w", newline="") as handle:
        csv.writer(handle).writerows(ROWS)
    page.goto(f"{live_server.url}/admin/imports/importjob/upload/")
    page.set_input_files("input[name=file]", str(bad))
    page.fill("input[name=reason]", "Referrals from October")
    page.click("[data-testid=import-form] button[type=submit]")
    # New patients need a team, or the explicit choice of none.
    expect(page.locator("body")).to_contain_text(
        "Choose the care team new patients join, or no team"
    )
    page.set_input_files("input[name=file]", str(bad))
    page.select_option("select[name=care_team]", label="Neonatal follow-up")
    page.click("[data-testid=import-form] button[type=submit]")
    expect(page.get_by_test_id("count-invalid")).to_have_text("1")
    expect(page.get_by_test_id("errors")).to_contain_text("Enter a date")
    expect(page.get_by_test_id("commit")).to_have_count(0)

    with page.expect_download() as info:
        page.get_by_test_id("error-report").click()
    report = info.value.path().read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(report)))
    assert rows[0][-1] == "errors" and "Enter a date" in rows[2][-1]

    fixed = tmp_path / "patients-fixed.csv"
    with fixed.open("w", newline="") as handle:
        writer = csv.writer(handle)
        for row in rows:  # the error column stays, as a user leaves it
            if row[0] == "E2E-1002":
                row[3] = "2024-03-14"
            writer.writerow(row)
    page.goto(f"{live_server.url}/admin/imports/importjob/upload/")
    page.set_input_files("input[name=file]", str(fixed))
    page.fill("input[name=reason]", "Referrals from October")
    page.select_option("select[name=care_team]", label="Neonatal follow-up")
    page.click("[data-testid=import-form] button[type=submit]")
    expect(page.get_by_test_id("count-new")).to_have_text("2")
    expect(page.get_by_test_id("count-invalid")).to_have_text("0")
    expect(page.get_by_test_id("preview")).to_contain_text("E2E-1002")
    expect(page.get_by_test_id("import-notes")).to_contain_text(
        "The column “errors” (from NDAS's file with an error column) was ignored"
    )
    expect(page.get_by_test_id("import-team")).to_have_text(
        "New patients join the care team Neonatal follow-up."
    )
    page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    assert not Patient.objects.exists()
    page.get_by_test_id("commit").click()
    expect(page.locator("body")).to_contain_text("committed: 2 new")
    assert sorted(Patient.objects.values_list("mrn", flat=True)) == [
        "E2E-1001",
        "E2E-1002",
    ]
    # In the team chosen: its clinician opens both charts.
    assert patients_visible_to(clinician).count() == 2
