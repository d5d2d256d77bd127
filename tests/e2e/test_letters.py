"""A clinician downloads a final visit's clinic letter and the printed chart summary
in the browser: both arrive as PDF files named by record id, holding the MRN."""

import io
import os
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from records.clinical_records import services as visit_services
from records.users import roles
from tests import factories
from tests.helpers import TEST_PASSWORD, second_step

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SCREENSHOT_DIR = os.environ.get("LETTERS_SCREENSHOT_DIR", "")
TODAY = date.today()


@pytest.fixture
def final_visit(make_user):
    doctor = make_user(
        "clinician", roles=[roles.CLINICIAN], first_name="Ada", last_name="Lovelace"
    )
    chart = factories.patient(
        acting_user=doctor,
        sex="female",
        date_of_birth=TODAY - timedelta(days=500),
    )
    visit = factories.visit(
        acting_user=doctor,
        patient=chart,
        visit_date=TODAY - timedelta(days=3),
        head_circumference_cm=Decimal("45.0"),
        diagnoses=["F84.0"],
        assessment_and_plan="Review in clinic.",
    )
    return visit_services.clinical_record_finalize(acting_user=doctor, record=visit)


def sign_in(page, live_server):
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", "clinician")
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("button[type=submit]")
    second_step(page, "clinician")
    expect(page).to_have_url(f"{live_server.url}/admin/")


def downloaded_text(download, tmp_path: Path) -> str:
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    body = target.read_bytes()
    assert body.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(body))
    return " ".join(" ".join(p.extract_text().split()) for p in reader.pages)


def test_clinician_downloads_the_letter_and_the_summary(
    live_server, page, final_visit, tmp_path
):
    chart = final_visit.patient
    sign_in(page, live_server)

    page.goto(
        f"{live_server.url}/admin/clinical_records/clinicalrecord/"
        f"{final_visit.pk}/change/"
    )
    button = page.get_by_role("link", name="Clinic letter (PDF)")
    expect(button).to_be_visible()
    if SCREENSHOT_DIR:
        page.screenshot(path=f"{SCREENSHOT_DIR}/final-visit.png", full_page=True)
    with page.expect_download() as letter:
        button.click()
    assert letter.value.suggested_filename == f"ndas-letter-visit-{final_visit.pk}.pdf"
    text = downloaded_text(letter.value, tmp_path)
    assert chart.mrn in text and "Childhood autism" in text and "centile" in text
    assert "Ada Lovelace" in text

    page.goto(f"{live_server.url}/admin/patients/patient/{chart.pk}/summary/")
    button = page.get_by_role("link", name="Print summary (PDF)")
    expect(button).to_be_visible()
    if SCREENSHOT_DIR:
        page.screenshot(path=f"{SCREENSHOT_DIR}/summary.png")
    with page.expect_download() as summary:
        button.click()
    assert summary.value.suggested_filename == f"ndas-summary-{chart.pk}.pdf"
    text = downloaded_text(summary.value, tmp_path)
    assert chart.mrn in text and "Chart summary" in text
