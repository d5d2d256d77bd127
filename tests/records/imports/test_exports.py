"""Exports: formula escaping, access, the ExportJob log, flat memory, XLSX, the
export_records command and the admin's export page. (One module past 400 lines:
one export path, from the service to the page.)"""

import dataclasses
import hashlib
import io
import re
import tracemalloc
from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from admin_ext.admin.exports import ExportMixin
from ndas.urls import urlpatterns as project_urlpatterns
from admin_ext.admin.patients import PatientAdmin
from records.imports import exports
from records.imports.entities import ENTITIES
from records.imports.models import ExportJob
from records.clinical_records.models import ClinicalRecord
from records.patients.models import Assessment, Patient, PatientStatus
from records.users import roles
from tests import factories
from tests.helpers import EXPORT_URL, csv_rows

pytestmark = pytest.mark.django_db

PATIENT_COLUMNS = [column.name for column in ENTITIES["patients"].columns]
FORMULA = '=HYPERLINK("http://evil.example","x")'


# The real admin: the patient admin carries ExportMixin. The project's routes (the
# admin's pages link to others, the second factor's among them).
assert issubclass(PatientAdmin, ExportMixin)
urlpatterns = project_urlpatterns
CHANGELIST_URL = "/admin/patients/patient/"


# --- given ----------------------------------------------------------------------


@pytest.fixture
def clinician(make_user):
    return make_user("clin", roles=[roles.CLINICIAN])


def _allow_export(user):
    user.user_permissions.add(Permission.objects.get(codename="export_records"))
    return type(user).objects.get(pk=user.pk)  # a fresh permission cache


# --- escaping ---------------------------------------------------------------------


@pytest.mark.parametrize("prefix", exports.FORMULA_PREFIXES)
def test_text_starting_like_a_formula_gets_an_apostrophe(prefix):
    assert exports.escape_cell(prefix + "SUM(A1:A9)") == "'" + prefix + "SUM(A1:A9)"


@pytest.mark.parametrize(
    "value, text",
    [
        ("Talvi Quennard", "Talvi Quennard"),
        ("a=b", "a=b"),
        (date(2025, 3, 14), "2025-03-14"),
        (Decimal("-3.5"), "-3.5"),
        (Decimal("1E+2"), "100"),
        (-3, "-3"),
        (None, ""),
    ],
)
def test_plain_text_dates_and_numbers_are_not_altered(value, text):
    assert exports.escape_cell(value) == text


def test_negative_score_from_a_numeric_field_is_exported_as_a_number(data_manager):
    clinician = factories.clinician()
    patient = factories.patient(acting_user=clinician)
    assessment = factories.assessment(
        acting_user=clinician, patient=patient, findings="-worse than expected"
    )
    # No instrument scores below zero today; a numeric column still could.
    Assessment.objects.filter(pk=assessment.pk).update(total_score=Decimal("-3.5"))
    rows = csv_rows(
        exports.export_csv(
            user=data_manager,
            entity="assessments",
            columns=["patient_mrn", "total_score", "findings"],
        )
    )
    assert rows == [
        ["patient_mrn", "total_score", "findings"],
        [patient.mrn, "-3.5", "'-worse than expected"],
    ]


text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=12,
)
formula = st.tuples(st.sampled_from(exports.FORMULA_PREFIXES), text).map("".join)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(values=st.lists(st.one_of(text, formula), min_size=2, max_size=2))
def test_csv_cells_made_by_postgresql_are_what_escape_cell_writes(data_manager, values):
    # One chart for every example: the fixture's transaction spans them all.
    patient = Patient.objects.first() or factories.patient(
        acting_user=factories.clinician()
    )
    # Free text as any writer might have stored it (no form rules here).
    Patient.objects.filter(pk=patient.pk).update(
        address_line1=values[0], address_line2=values[1]
    )

    rows = csv_rows(
        exports.export_csv(
            user=data_manager,
            entity="patients",
            columns=["address_line1", "address_line2"],
        )
    )

    assert rows[1] == [exports.escape_cell(value) for value in values]


def test_csv_made_by_postgresql_is_what_escape_cell_makes_for_every_entity(
    data_manager,
):
    """Every column of every entity, on values that could go wrong: the export is
    the CSV that escape_cell would write from the same rows."""
    author = factories.clinician("@author")  # a username that starts like a formula
    patient = factories.patient(acting_user=author)
    Patient.objects.filter(pk=patient.pk).update(
        guardian_name="=HYPERLINK(1)", address_line1="\tTabbed", address_line2=""
    )
    for score in (Decimal("-3.5"), Decimal("70"), None):
        assessment = factories.assessment(acting_user=author, patient=patient)
        Assessment.objects.filter(pk=assessment.pk).update(
            total_score=score, findings="-worse\r\nsince May", recommendations=""
        )
    for weight, codes in ((Decimal("12.50"), ["=A00", "B01.2"]), (None, [])):
        visit = factories.visit(acting_user=author, patient=patient)
        ClinicalRecord.objects.filter(pk=visit.pk).update(
            weight_kg=weight, diagnoses=codes, chief_complaint='+fever, "high"'
        )

    # The seeded values reach the files, escaped where they must be.
    expected = {
        "patients": {"'=HYPERLINK(1)", "'\tTabbed"},
        "assessments": {",'@author,-3.5,", ",70.0,", '"\'-worse\r\nsince May"'},
        "clinical_records": {",'=A00 B01.2\r\n", ",12.500,", '"\'+fever, ""high"""'},
    }
    for entity, spec in ENTITIES.items():
        produced = b"".join(exports.export_csv(user=data_manager, entity=entity))
        rows = exports._export_rows(
            user=data_manager, spec=spec, selected=list(spec.columns), queryset=None
        )
        lines = [
            [exports.escape_cell(row[c.source]) for c in spec.columns] for row in rows
        ]
        header = [[c.name for c in spec.columns]]
        reference = exports.CSV_BOM + exports._csv_text(header + lines)
        assert produced.decode() == reference, entity
        assert all(part in reference for part in expected[entity]), entity


def test_each_kind_of_column_has_its_csv_form():
    kinds = {}
    for spec in ENTITIES.values():
        for column in spec.columns:
            cell = exports._csv_cell(spec, column)
            kinds[f"{spec.name}.{column.name}"] = (
                cell if isinstance(cell, str) else type(cell).__name__
            )
    assert kinds["patients.family_name"] == "FormulaEscaped"  # text
    assert kinds["assessments.assessor_username"] == "FormulaEscaped"  # via a join
    assert kinds["clinical_records.diagnoses"] == "FormulaEscaped"  # codes, joined
    assert kinds["assessments.total_score"] == "Cast"  # a decimal, as text
    assert kinds["patients.date_of_birth"] == "date_of_birth"  # as it is
    assert kinds["clinical_records.heart_rate"] == "heart_rate"


def test_a_column_with_no_csv_form_is_refused():
    spec = ENTITIES["patients"]
    created = dataclasses.replace(spec.columns[0], source="created_at")
    with pytest.raises(ValueError, match="created_at: no CSV form for DateTimeField"):
        exports._csv_cell(spec, created)


# --- access and the export log ----------------------------------------------------


def test_csv_has_only_the_rows_the_user_may_see(clinician):
    mine = factories.patient(acting_user=clinician)
    factories.patient(acting_user=factories.clinician())  # another team's chart
    clinician = _allow_export(clinician)

    rows = csv_rows(exports.export_csv(user=clinician, entity="patients"))

    assert rows[0] == PATIENT_COLUMNS
    assert [row[0] for row in rows[1:]] == [mine.mrn]


def test_a_wider_queryset_passed_in_cannot_widen_the_export(clinician):
    mine = factories.patient(acting_user=clinician)
    factories.patient(acting_user=factories.clinician())
    clinician = _allow_export(clinician)

    rows = csv_rows(
        exports.export_csv(
            user=clinician,
            entity="patients",
            columns=["mrn"],
            queryset=Patient.objects.all(),
        )
    )

    assert rows == [["mrn"], [mine.mrn]]


def test_export_is_recorded_with_row_count_and_hash_of_the_bytes(data_manager):
    clinician = factories.clinician()
    for _ in range(3):
        factories.patient(acting_user=clinician)
    stream = exports.export_csv(
        user=data_manager,
        entity="patients",
        columns=["mrn", "family_name"],
        filters={"status": ["active"]},
    )
    job = ExportJob.objects.get()
    assert not job.completed

    produced = b"".join(stream)

    job.refresh_from_db()
    assert job.completed
    assert job.row_count == 3
    assert job.sha256 == hashlib.sha256(produced).hexdigest()
    assert (job.user, job.entity, job.file_format) == (data_manager, "patients", "csv")
    assert job.columns == ["mrn", "family_name"]
    assert job.filters == {"status": ["active"]}


def test_unknown_column_is_refused_before_anything_is_written(data_manager):
    with pytest.raises(ValueError, match="Unknown columns: shoe_size"):
        exports.export_csv(
            user=data_manager, entity="patients", columns=["mrn", "shoe_size"]
        )
    assert not ExportJob.objects.exists()


def test_unknown_entity_is_refused(data_manager):
    with pytest.raises(ValueError, match="'pets'"):
        exports.export_xlsx(user=data_manager, entity="pets")
    assert not ExportJob.objects.exists()


def test_clinician_may_not_export(clinician):
    factories.patient(acting_user=clinician)
    with pytest.raises(PermissionDenied):
        exports.export_csv(user=clinician, entity="patients")
    with pytest.raises(PermissionDenied):
        exports.export_xlsx(user=clinician, entity="patients")
    assert not ExportJob.objects.exists()


def test_data_manager_role_holds_the_export_permission(data_manager):
    assert data_manager.has_perm(exports.EXPORT_PERMISSION)


# --- memory -----------------------------------------------------------------------


def test_memory_stays_flat_while_streaming_20000_rows(data_manager):
    total = 20_000
    # Test data only: bulk_create skips services and history to stay fast.
    Patient.objects.bulk_create(
        Patient(
            mrn=f"BLK-{n:06d}",
            given_name="Talvi",
            family_name=f"Quennard{n}",
            date_of_birth=date(2024, 1, 1),
            sex="female",
            guardian_name="Orla Quennard",
            address_line1="12 Ardett Gardens",
            city="Quellhaven",
        )
        for n in range(total)
    )
    tracemalloc.start()
    try:
        chunks = 0
        size = 0
        for chunk in exports.export_csv(user=data_manager, entity="patients"):
            chunks += 1
            size += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    # A header chunk, then one chunk per BATCH_ROWS rows.
    assert chunks == 1 + total // exports.BATCH_ROWS
    assert ExportJob.objects.get().row_count == total
    # Holding these 20,000 rows as value dicts takes about 23 MB; streaming peaks
    # near 6 MB (one batch) whatever the total.
    assert peak < 12 * 1024 * 1024, (peak, size)


# --- XLSX -------------------------------------------------------------------------


def test_xlsx_opens_with_header_and_escaped_cells(data_manager):
    patient = factories.patient(acting_user=factories.clinician())
    Patient.objects.filter(pk=patient.pk).update(address_line1=FORMULA)

    data = exports.export_xlsx(
        user=data_manager,
        entity="patients",
        columns=["mrn", "address_line1", "date_of_birth", "status"],
    )

    sheet = load_workbook(io.BytesIO(data)).active
    header, row = list(sheet.iter_rows(values_only=True))
    assert header == ("mrn", "address_line1", "date_of_birth", "status")
    assert row[0] == patient.mrn
    assert row[1] == "'" + FORMULA
    assert row[2].date() == patient.date_of_birth
    job = ExportJob.objects.get()
    assert job.completed and job.row_count == 1 and job.file_format == "xlsx"
    assert job.sha256 == hashlib.sha256(data).hexdigest()


# --- the command ------------------------------------------------------------------


def test_command_writes_the_file_for_a_data_manager(data_manager, tmp_path):
    patient = factories.patient(acting_user=factories.clinician())
    target = tmp_path / "patients.csv"
    out = io.StringIO()

    call_command(
        "export_records",
        "patients",
        str(target),
        "--user",
        data_manager.username,
        "--columns",
        "mrn,family_name",
        stdout=out,
    )

    assert target.read_bytes() == (
        f"{exports.CSV_BOM}mrn,family_name\r\n"
        f"{patient.mrn},{patient.family_name}\r\n".encode()
    )
    assert re.search(r"Wrote 1 rows to .* \([\d,]+ rows/s\)", out.getvalue())
    job = ExportJob.objects.get()
    assert job.sha256 == hashlib.sha256(target.read_bytes()).hexdigest()


def test_command_writes_xlsx(data_manager, tmp_path):
    factories.patient(acting_user=factories.clinician())
    target = tmp_path / "out.bin"
    call_command(
        "export_records",
        "patients",
        str(target),
        "--user",
        data_manager.username,
        "--format",
        "xlsx",
        stdout=io.StringIO(),
    )
    assert load_workbook(io.BytesIO(target.read_bytes())).active.max_row == 2


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["pets", "--user", "data"], "Nothing called 'pets' can be exported."),
        (["patients", "--user", "nobody"], "No active user is called 'nobody'."),
        (["patients", "--user", "data", "--columns", "mrn,x"], "Unknown columns: x."),
        (["patients", "--user", "clin"], exports.E_NO_PERMISSION),
    ],
)
def test_command_fails_clearly(data_manager, clinician, tmp_path, arguments, message):
    target = tmp_path / "out.csv"
    entity, *options = arguments
    with pytest.raises(CommandError, match=re.escape(message)):
        call_command("export_records", entity, str(target), *options)
    assert not target.exists()
    assert not list(tmp_path.iterdir())
    assert not ExportJob.objects.exists()


# --- the admin page ---------------------------------------------------------------


@pytest.mark.urls(__name__)
def test_export_page_offers_every_column_checked(client, data_manager):
    client.force_login(data_manager)
    response = client.get(EXPORT_URL + "?status=active")
    assert response.status_code == 200
    form = response.context["form"]
    assert form["columns"].value() == PATIENT_COLUMNS
    assert form["file_format"].value() == "csv"
    assert response.content.count(b'type="checkbox"') == len(PATIENT_COLUMNS)
    assert b'action="?status=active"' in response.content


@pytest.mark.urls(__name__)
def test_export_page_downloads_the_filtered_changelist_as_csv(client, data_manager):
    clinician = factories.clinician()
    active = factories.patient(acting_user=clinician)
    archived = factories.patient(acting_user=clinician)
    Patient.objects.filter(pk=archived.pk).update(status=PatientStatus.ARCHIVED)
    client.force_login(data_manager)

    response = client.post(
        EXPORT_URL + "?status=active",
        {"file_format": "csv", "columns": ["mrn", "status"]},
    )

    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert re.fullmatch(
        r'attachment; filename="ndas-patients-\d{8}-\d{4}\.csv"',
        response["Content-Disposition"],
    )
    rows = csv_rows(response.streaming_content)
    assert rows == [["mrn", "status"], [active.mrn, "active"]]
    job = ExportJob.objects.get()
    assert job.completed and job.filters == {"status": ["active"]}
    # A searched list exports what it shows; its record names the search's
    # token, not the name searched for.
    other = factories.patient(acting_user=clinician, family_name="Zyxwell")
    listed = client.post(
        "/admin/patients/patient/?status=active", {"_search": "1", "q": "Zyxwell"}
    )["Location"]
    query = listed.split("?", 1)[1]
    response = client.post(
        f"{EXPORT_URL}?{query}", {"file_format": "csv", "columns": ["mrn"]}
    )
    assert csv_rows(response.streaming_content) == [["mrn"], [other.mrn]]
    # The job keeps the term (in the database), the audit trail the filters' names.
    job = ExportJob.objects.latest("pk")
    assert job.filters == {"status": ["active"], "q": ["Zyxwell"]}
    # A token this session does not hold exports nothing: back to the whole list.
    response = client.post(
        f"{EXPORT_URL}?status=active&s=gone", {"file_format": "csv", "columns": ["mrn"]}
    )
    assert response["Location"] == f"{EXPORT_URL}?status=active"
    assert ExportJob.objects.count() == 2


@pytest.mark.urls(__name__)
def test_export_page_downloads_xlsx(client, data_manager):
    factories.patient(acting_user=factories.clinician())
    client.force_login(data_manager)
    response = client.post(EXPORT_URL, {"file_format": "xlsx", "columns": ["mrn"]})
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('.xlsx"')
    assert load_workbook(io.BytesIO(response.content)).active.max_row == 2


@pytest.mark.urls(__name__)
def test_export_page_is_forbidden_to_a_clinician(client, clinician):
    factories.patient(acting_user=clinician)
    client.force_login(clinician)
    assert client.get(EXPORT_URL).status_code == 403
    response = client.post(EXPORT_URL, {"file_format": "csv", "columns": ["mrn"]})
    assert response.status_code == 403
    assert not ExportJob.objects.exists()


@pytest.mark.urls(__name__)
def test_changelist_shows_export_button_with_its_filters(client, data_manager):
    client.force_login(data_manager)
    response = client.get(CHANGELIST_URL + "?status=active")
    assert response.status_code == 200
    assert response.context["has_export_permission"] is True
    assert b'href="/admin/patients/patient/export/?status=active"' in response.content


@pytest.mark.urls(__name__)
def test_changelist_hides_export_button_from_a_clinician(client, clinician):
    client.force_login(clinician)
    response = client.get(CHANGELIST_URL)
    assert response.status_code == 200
    assert response.context["has_export_permission"] is False
    assert b"/export/" not in response.content
