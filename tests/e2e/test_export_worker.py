"""A large export (the threshold set low here) goes to a worker: the export page
sends the data manager to the Exports list, which shows it being built and then
offers the file, downloaded through a five-minute link."""

import csv
import io

import pytest
from playwright.sync_api import expect

from records.imports.models import ExportJob
from records.users import roles
from tests import factories
from tests.helpers import TEST_PASSWORD, second_step
from tests.support.worker import worker

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_large_export_is_built_then_downloaded_from_the_exports_list(
    live_server, page, make_user, s3_storage, settings, tmp_path, console_errors
):
    settings.EXPORT_BACKGROUND_ROWS = 1
    make_user("e2e-data", roles=[roles.DATA_MANAGER])
    clinician = factories.clinician()
    patients = [factories.patient(acting_user=clinician) for _ in range(3)]
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", "e2e-data")
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("button[type=submit]")
    second_step(page, "e2e-data")

    with worker():
        page.goto(f"{live_server.url}/admin/patients/patient/export/")
        page.get_by_role("button", name="Export").click()
        expect(page.locator("body")).to_contain_text("so it is being prepared")
        assert page.url.endswith("/admin/imports/exportjob/")
        job = ExportJob.objects.get()
        for _ in range(100):
            job.refresh_from_db()
            if job.status == ExportJob.Status.COMPLETED:
                break
            page.wait_for_timeout(200)
        assert job.status == ExportJob.Status.COMPLETED, job.message
    page.reload()
    row = page.locator("#result_list tbody tr").first
    expect(row).to_contain_text("Completed")
    page.screenshot(path=str(tmp_path / "exports.png"), full_page=True)

    with page.expect_download() as info:
        row.get_by_role("link", name="Download").click()
    download = info.value
    assert download.suggested_filename.startswith(f"ndas-patients-{job.pk}-")
    rows = list(csv.reader(io.StringIO(download.path().read_text("utf-8-sig"))))
    assert sorted(row[0] for row in rows[1:]) == sorted(p.mrn for p in patients)
    assert console_errors == []
