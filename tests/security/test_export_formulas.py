"""Review #12, item 3: no cell of any export is ever a formula.

A text starting with a control character and then `=` ("\\x01=1+2") was escaped
first and stripped of its control character after (openpyxl refuses them), so the
XLSX cell became the formula `=1+2`. Every export (CSV made by PostgreSQL, XLSX,
the import error file, the audit console's CSV) now strips, then escapes.
"""

import csv
import io

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from records.imports import exports
from records.imports.entities import ENTITIES
from records.imports.models import ImportJob
from records.patients.models import Patient
from tests import factories
from tests.helpers import csv_rows, upload

pytestmark = pytest.mark.django_db


CONTROLS = [chr(code) for code in range(1, 32) if chr(code) not in "\t\n\r"]
# The text columns of a patient an export writes, set straight in the table (as
# any writer might have stored them: no form rules here).
TEXT_FIELDS = ["preferred_name", "guardian_name", "address_line1", "address_line2"]
COLUMNS = ["mrn", *TEXT_FIELDS, "date_of_birth"]

anything = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=12,
)
# Control characters, then a formula's first character: what used to get through.
disguised = st.tuples(
    st.text(alphabet=st.sampled_from(CONTROLS + ["\t", "\r"]), min_size=1, max_size=3),
    st.sampled_from(exports.FORMULA_PREFIXES),
    anything,
).map("".join)
values = st.lists(st.one_of(anything, disguised), min_size=4, max_size=4)


def _is_formula_text(text: str) -> bool:
    """What a spreadsheet could run: = + - @ first, or after a tab or CR."""
    if text.startswith(("=", "+", "-", "@")):
        return True
    return text[:1] in ("\t", "\r") and text[1:2] in ("=", "+", "-", "@", "")


def _runs_in_xlsx(text: str) -> bool:
    """What a spreadsheet could run once someone edits an XLSX text cell: as in
    CSV, except a sign then ASCII digits and spaces (a phone number), which is a
    number at most."""
    rest = text[1:]
    if text[:1] in ("+", "-") and rest[:1].isdigit():
        if all(character in "0123456789 " for character in rest):
            return False
    return _is_formula_text(text)


def _assert_no_formula_in_xlsx(data: bytes) -> list[tuple]:
    sheet = load_workbook(io.BytesIO(data)).active
    rows = []
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f", (cell.coordinate, cell.value)
            if isinstance(cell.value, str):
                assert cell.data_type == "s", (cell.coordinate, cell.value)
                assert not _runs_in_xlsx(cell.value), (cell.coordinate, cell.value)
        rows.append(tuple(cell.value for cell in row))
    return rows


def _assert_no_formula_in_csv(rows: list[list[str]]) -> None:
    for row in rows:
        for text in row:
            assert not _is_formula_text(text), text


def _xml_read(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _chart() -> Patient:
    # One chart for every example: the fixture's transaction spans them all.
    return Patient.objects.first() or factories.patient(
        acting_user=factories.clinician()
    )


def test_a_control_character_before_an_equals_sign_is_no_formula(data_manager):
    patient = _chart()
    Patient.objects.filter(pk=patient.pk).update(preferred_name="\x01=1+2")
    data = exports.export_xlsx(
        user=data_manager, entity="patients", columns=["mrn", "preferred_name"]
    )
    rows = _assert_no_formula_in_xlsx(data)
    assert rows[1] == (patient.mrn, "'=1+2")
    csv_out = csv_rows(
        exports.export_csv(
            user=data_manager, entity="patients", columns=["mrn", "preferred_name"]
        )
    )
    assert csv_out[1] == [patient.mrn, "'=1+2"]
    assert exports.escape_cell("\x01\x02=1+2") == "'=1+2"
    assert exports.escape_cell("\x1f@SUM(A1)") == "'@SUM(A1)"
    assert exports.escape_cell("a\x01b") == "ab"


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(texts=values)
def test_no_xlsx_cell_is_ever_a_formula(data_manager, texts):
    patient = _chart()
    Patient.objects.filter(pk=patient.pk).update(**dict(zip(TEXT_FIELDS, texts)))
    data = exports.export_xlsx(user=data_manager, entity="patients", columns=COLUMNS)
    rows = _assert_no_formula_in_xlsx(data)
    # The cells are escape_xlsx_text's text (an empty text reads as None; XML
    # reads a carriage return as a line feed).
    assert [value or "" for value in rows[1][1:-1]] == [
        _xml_read(exports.escape_xlsx_text(text)) for text in texts
    ]


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(texts=values)
def test_no_csv_cell_is_ever_a_formula_and_sql_escapes_as_python(data_manager, texts):
    patient = _chart()
    Patient.objects.filter(pk=patient.pk).update(**dict(zip(TEXT_FIELDS, texts)))
    rows = csv_rows(
        exports.export_csv(user=data_manager, entity="patients", columns=COLUMNS)
    )
    _assert_no_formula_in_csv(rows)
    assert rows[1][1:-1] == [exports.escape_cell(text) for text in texts]


def test_every_entity_in_xlsx_has_no_formula(data_manager):
    author = factories.clinician("@author")  # a username that starts like one
    patient = factories.patient(acting_user=author)
    Patient.objects.filter(pk=patient.pk).update(
        guardian_name="\x0b=HYPERLINK(1)", address_line1="\t\x01-x"
    )
    assessment = factories.assessment(acting_user=author, patient=patient)
    type(assessment).objects.filter(pk=assessment.pk).update(findings="\x02+1")
    visit = factories.visit(acting_user=author, patient=patient)
    type(visit).objects.filter(pk=visit.pk).update(
        diagnoses=["\x03=A00"], chief_complaint="\x1b@cmd"
    )
    for entity in ENTITIES:
        rows = _assert_no_formula_in_xlsx(
            exports.export_xlsx(user=data_manager, entity=entity)
        )
        assert len(rows) == 2, entity
        _assert_no_formula_in_csv(
            csv_rows(exports.export_csv(user=data_manager, entity=entity))
        )


def test_the_audit_consoles_csv_strips_then_escapes(client, make_user):
    """The timeline's CSV passes each cell through escape_cell: a reason for
    change written "\\x01=cmd" is no formula there either."""
    from records.patients.services import patients as patient_services
    from records.users import roles

    clinician = factories.clinician()
    patient = factories.patient(acting_user=clinician)
    patient_services.patient_update(
        acting_user=clinician,
        patient=patient,
        data={"preferred_name": "Tal"},
        reason="\x01=1+2",
    )
    auditor = make_user("auditor", roles=[roles.AUDITOR])
    client.force_login(auditor)
    response = client.get(reverse("admin:audit_auditevent_timeline"), {"format": "csv"})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    _assert_no_formula_in_csv(rows)
    assert any("'=1+2" in row for row in rows), rows


# --- the import error file (review #12, item 9) ----------------------------------


def test_the_import_error_file_escapes_the_uploaded_cells(import_client):
    """The file with an error column repeats the upload's cells (and its header):
    escaped as exports escape them, whatever the upload held."""
    rows = [
        ["=cmd|' /C calc'!A0", "Talvi", "Quennard", "2025-03-14", "female"],
        ["IMP-0002", "\x01=1+2", "@SUM(A1)", "2024-02-30", "-male"],
    ]
    out = io.StringIO()
    csv.writer(out).writerows([["mrn", "given_name", "+family_name"], *rows])
    upload(import_client, out.getvalue().encode())
    job = ImportJob.objects.get()
    download = import_client.get(
        reverse("admin:imports_importjob_errors", args=[job.pk])
    )
    produced = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    _assert_no_formula_in_csv(produced)
    assert produced[0][:3] == ["mrn", "given_name", "'+family_name"]
    # A header with an unknown column: every row repeated, escaped.
    upload(
        import_client,
        b"mrn,given_name,family_name,date_of_birth,sex\n"
        + "\n".join(",".join(row) for row in rows).encode()
        + b"\n",
    )
    job = ImportJob.objects.latest("pk")
    download = import_client.get(
        reverse("admin:imports_importjob_errors", args=[job.pk])
    )
    produced = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    _assert_no_formula_in_csv(produced)
    assert produced[1][:2] == ["'=cmd|' /C calc'!A0", "Talvi"]
    assert produced[2][1:3] == ["'=1+2", "'@SUM(A1)"]
    assert produced[2][4] == "'-male"


def test_no_cell_of_an_import_template_is_a_formula(import_client):
    for entity in ENTITIES:
        url = reverse("admin:imports_importjob_template", args=[entity, "csv"])
        text = import_client.get(url).content.decode("utf-8-sig")
        _assert_no_formula_in_csv(list(csv.reader(io.StringIO(text))))
        url = reverse("admin:imports_importjob_template", args=[entity, "xlsx"])
        _assert_no_formula_in_xlsx(import_client.get(url).content)
    text = import_client.get(
        reverse("admin:imports_importjob_template", args=["patients", "csv"])
    ).content.decode("utf-8-sig")
    assert "'+44 20 7946 0123" in text
