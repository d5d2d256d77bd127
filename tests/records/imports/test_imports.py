"""Imports: every kind of bad input gets a clear error and writes nothing; good
files write each changed row once, with history; re-imports change nothing. (One
module past 400 lines: the import service's rules, one file each, side by side.)"""

import io
import zipfile
from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from openpyxl import Workbook

from records.clinical_records.models import ClinicalRecord
from records.imports import engine, parsing, services
from records.imports.engine import checker, lookups, runtime
from records.imports.entities import E_REQUIRED, E_UNKNOWN_PATIENT, E_UNKNOWN_USER
from records.imports.models import ImportJob
from records.patients.models import Assessment, Patient
from records.users import roles
from tests import factories
from tests.helpers import HEADER, csv_bytes, patient_row, run

pytestmark = pytest.mark.django_db

LATIN_1_FILE = "\n".join([",".join(HEADER), "A,Zoë,B,2025-01-01,m", ""]).encode(
    "latin-1"
)


@pytest.fixture
def manager(importer):
    return importer


def messages(job) -> list[tuple]:
    return [(e["row"], e["column"], e["message"]) for e in job.errors]


# --- good files -------------------------------------------------------------------


@pytest.mark.parametrize("delimiter", [",", ";"])
@pytest.mark.parametrize("bom", [False, True])
def test_csv_in_excel_dialects_is_read(manager, delimiter, bom):
    job = run(manager, csv_bytes([patient_row(1)], delimiter=delimiter, bom=bom))
    assert job.status == ImportJob.Status.COMMITTED, job.errors
    assert Patient.objects.get().mrn == "IMP-00001"


def test_headers_match_whatever_their_case_and_spacing(manager):
    header = [" MRN", "Given Name", "FAMILY_NAME", "date of birth", "Sex "]
    job = run(manager, csv_bytes([patient_row(1)], header=header))
    assert job.status == ImportJob.Status.COMMITTED, job.errors


def test_xlsx_is_read_from_its_data_sheet(manager):
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "data"
    sheet.append(HEADER)
    sheet.append(["IMP-00001", "Talvi", "Quennard", date(2025, 3, 14), "Female"])
    out = io.BytesIO()
    workbook.save(out)
    job = run(manager, out.getvalue(), name="patients.xlsx")
    assert job.status == ImportJob.Status.COMMITTED, job.errors
    assert Patient.objects.get().sex == "female"


def test_each_changed_row_gets_one_history_row_with_the_reason(manager):
    first = run(manager, csv_bytes([patient_row(1), patient_row(2)]))
    assert (first.new, first.changed) == (2, 0)
    entry = Patient.history.filter(mrn="IMP-00001").get()
    assert entry.history_type == "+" and entry.history_user == manager
    assert entry.history_change_reason == f"import #{first.pk}: Quarterly upload"
    again = run(manager, csv_bytes([patient_row(1), patient_row(2)]))
    assert (again.new, again.changed, again.unchanged) == (0, 0, 2)
    assert Patient.history.count() == 2  # re-import: nothing written
    changed = run(
        manager, csv_bytes([patient_row(1), patient_row(2, given_name="Orrin")])
    )
    assert (changed.changed, changed.unchanged) == (1, 1)
    patient = Patient.objects.get(mrn="IMP-00002")
    assert patient.given_name == "Orrin" and patient.version == 2
    latest = patient.history.order_by("-history_id").first()
    assert latest.history_type == "~"
    assert latest.history_change_reason.startswith(f"import #{changed.pk}:")
    assert latest.prev_record.given_name == "Talvi"


def test_blank_cells_keep_values_unless_told_otherwise(manager):
    header = HEADER + ["city"]
    run(manager, csv_bytes([patient_row(1) + ["Arnsby"]], header=header))
    run(manager, csv_bytes([patient_row(1) + [""]], header=header))
    assert Patient.objects.get().city == "Arnsby"
    run(
        manager,
        csv_bytes([patient_row(1) + [""]], header=header),
        blank_keeps_value=False,
    )
    assert Patient.objects.get().city == ""


def test_modes(manager):
    run(manager, csv_bytes([patient_row(1)]))
    job = run(manager, csv_bytes([patient_row(1), patient_row(2)]), mode="create_only")
    assert messages(job) == [(2, "mrn", engine.E_EXISTS)]
    job = run(manager, csv_bytes([patient_row(1), patient_row(2)]), mode="update_only")
    assert messages(job) == [(3, "mrn", engine.E_NOT_FOUND)]
    assert Patient.objects.count() == 1


def test_new_patients_join_the_chosen_care_team(manager, make_user):
    admin = make_user("boss", roles=[roles.ADMINISTRATOR])
    clinician = make_user("doc", roles=[roles.CLINICIAN])
    team = factories.team("Neonatal follow-up", clinician)
    job = run(admin, csv_bytes([patient_row(1)]), care_team=team)
    assert job.status == ImportJob.Status.COMMITTED
    from records.patients.repositories import patients_visible_to

    assert [p.mrn for p in patients_visible_to(clinician)] == ["IMP-00001"]
    from records.patients.models import PatientGroupObjectPermission

    assert PatientGroupObjectPermission.history.filter(history_user=admin).count() == 2


def test_assessments_and_visits_by_patient_mrn(manager, make_user):
    doctor = make_user("doc", roles=[roles.CLINICIAN])
    patient = factories.patient(acting_user=doctor, date_of_birth=date(2025, 1, 1))
    assessments = csv_bytes(
        [[patient.mrn, "hine", "2026-01-10", "doc", "61", "typical"]],
        header=[
            "patient_mrn",
            "instrument",
            "performed_on",
            "assessor_username",
            "total_score",
            "outcome",
        ],
    )
    job = run(manager, assessments, entity="assessments")
    assert job.status == ImportJob.Status.COMMITTED, job.errors
    exam = Assessment.objects.get()
    assert exam.chronological_age_days == 374 and exam.assessor == doctor
    visits = csv_bytes(
        [[patient.mrn, "doc", "2026-01-12", "new", "4.5", "55", "f840, R62.0"]],
        header=[
            "patient_mrn",
            "clinician_username",
            "visit_date",
            "visit_type",
            "weight_kg",
            "height_cm",
            "diagnoses",
        ],
    )
    job = run(manager, visits, entity="clinical_records")
    assert job.status == ImportJob.Status.COMMITTED, job.errors
    visit = ClinicalRecord.objects.get()
    assert visit.diagnoses == ["F84.0", "R62.0"] and str(visit.bmi) == "14.9"
    assert visit.history.get().history_user == manager


def test_final_records_are_not_changed_by_imports(manager, make_user):
    doctor = make_user("doc", roles=[roles.CLINICIAN])
    patient = factories.patient(acting_user=doctor, date_of_birth=date(2025, 1, 1))
    exam = factories.assessment(
        acting_user=doctor, patient=patient, performed_on=date(2026, 1, 10)
    )
    from records.patients.services import assessment_finalize

    assessment_finalize(acting_user=doctor, assessment=exam)
    data = csv_bytes(
        [[patient.mrn, "hine", "2026-01-10", "doc", "70"]],
        header=[
            "patient_mrn",
            "instrument",
            "performed_on",
            "assessor_username",
            "total_score",
        ],
    )
    job = run(manager, data, entity="assessments")
    assert messages(job) == [(2, "", engine.E_FINAL)]


# --- bad input: a clear error, nothing written --------------------------------------


@pytest.mark.parametrize(
    "overrides, column, message",
    [
        ({"mrn": "x"}, "mrn", "MRN must be 4 to 20 characters"),
        ({"given_name": ""}, "given_name", E_REQUIRED),
        ({"date_of_birth": "14th March"}, "date_of_birth", "Enter a date"),
        (
            {"date_of_birth": "2999-01-01"},
            "date_of_birth",
            "This date is in the future",
        ),
        ({"sex": "f?"}, "sex", "Not one of: Female, Male, Other, Unknown"),
    ],
)
def test_each_column_rule(manager, overrides, column, message):
    job = run(manager, csv_bytes([patient_row(1, **overrides)]))
    [(row, got_column, got)] = messages(job)
    assert (row, got_column) == (2, column) and got.startswith(message)
    assert not Patient.objects.exists()


def test_ranges_phones_and_cross_field_rules(manager):
    header = HEADER + ["gestational_age_weeks", "guardian_phone", "status"]
    job = run(
        manager,
        csv_bytes(
            [
                patient_row(1) + ["45", "", ""],
                patient_row(2) + ["30", "12", ""],
                patient_row(3) + ["", "", "deceased"],
            ],
            header=header,
        ),
    )
    assert [(r, c) for r, c, _ in messages(job)] == [
        (2, "gestational_age_weeks"),
        (3, "guardian_phone"),
        (4, "date_of_death"),
    ]


def test_unknown_patients_and_users(manager, make_user):
    doctor = make_user("doc", roles=[roles.CLINICIAN])
    patient = factories.patient(acting_user=doctor)
    data = csv_bytes(
        [
            ["NOPE-0001", "hine", "2026-01-10", "doc"],
            [patient.mrn, "hine", "2026-01-11", "ghost"],
        ],
        header=["patient_mrn", "instrument", "performed_on", "assessor_username"],
    )
    job = run(manager, data, entity="assessments")
    assert messages(job) == [
        (2, "patient_mrn", E_UNKNOWN_PATIENT),
        (3, "assessor_username", E_UNKNOWN_USER),
    ]


def test_unknown_missing_and_duplicated_headers(manager):
    header = ["mrn", "mrn", "given_name", "shoe_size", "date_of_birth", "sex"]
    job = run(
        manager, csv_bytes([["A", "A", "B", "9", "2025-01-01", "male"]], header=header)
    )
    found = {(c, m.split(".")[0]) for _, c, m in messages(job)}
    assert ("mrn", engine.E_DUPLICATE_HEADER.rstrip(".")) in found
    assert ("shoe_size", "Unknown column") in found
    assert ("family_name", engine.E_MISSING_HEADER.rstrip(".")) in found


def test_duplicate_keys_inside_one_file(manager):
    job = run(manager, csv_bytes([patient_row(1), patient_row(2), patient_row(1)]))
    assert messages(job) == [(4, "", engine.E_DUPLICATE_KEY.format(key="mrn", first=2))]
    assert not Patient.objects.exists()


@pytest.mark.parametrize("dry_run", [True, False])
@pytest.mark.parametrize("memory_keys", [100_000, 2])  # 2: most keys in the table
def test_duplicate_keys_chunks_apart(
    manager, make_user, monkeypatch, dry_run, memory_keys
):
    monkeypatch.setattr(checker, "CHUNK_ROWS", 2)  # rows 2-3, 4-5, 6-7, ...
    monkeypatch.setattr(lookups, "MEMORY_KEYS", memory_keys)
    rows = [patient_row(n) for n in range(1, 6)] + [patient_row(2), patient_row(5)]
    job = run(manager, csv_bytes(rows), dry_run=dry_run)
    duplicate = engine.E_DUPLICATE_KEY
    assert messages(job) == [
        (7, "", duplicate.format(key="mrn", first=3)),
        (8, "", duplicate.format(key="mrn", first=6)),
    ]
    assert not Patient.objects.exists()
    # Keys of several cells: patient, instrument and date.
    doctor = make_user("doc", roles=[roles.CLINICIAN])
    patient = factories.patient(acting_user=doctor, date_of_birth=date(2025, 1, 1))
    header = ["patient_mrn", "instrument", "performed_on", "assessor_username"]
    exam = [patient.mrn, "hine", "2026-01-10", "doc"]
    other = [patient.mrn, "hine", "2026-01-11", "doc"]
    job = run(
        manager,
        csv_bytes([exam, other, other[:2] + ["2026-01-12", "doc"], exam], header),
        entity="assessments",
        dry_run=dry_run,
    )
    key = "patient_mrn, instrument, performed_on"
    assert messages(job) == [(5, "", duplicate.format(key=key, first=2))]


@pytest.mark.parametrize(
    "data, name, message",
    [
        (b"", "file.csv", parsing.E_EMPTY),
        (b"\n\n", "file.csv", parsing.E_EMPTY),
        (
            LATIN_1_FILE,
            "file.csv",
            "The file is not UTF-8",
        ),
        (
            b'mrn,given_name,family_name,date_of_birth,sex\n"IMP-1,Talvi\n',
            "file.csv",
            "The file cannot be read as CSV near line 2: unexpected end of data",
        ),
        (b"mrn\nA\n", "file.pdf", parsing.E_FORMAT),
    ],
)
def test_unreadable_files(manager, data, name, message):
    job = run(manager, data, name=name)
    assert job.status == ImportJob.Status.FAILED  # with the reason
    assert job.errors[0]["message"].startswith(message)


def test_xlsx_that_is_a_zip_of_something_else(manager):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("notes.txt", "hello")
    job = run(manager, out.getvalue(), name="patients.xlsx")
    assert job.errors[0]["message"] == parsing.E_NOT_XLSX
    job = run(manager, b"not even a zip", name="patients.xlsx")
    assert job.errors[0]["message"] == parsing.E_NOT_XLSX


def test_rows_with_too_many_or_too_few_cells(manager):
    data = csv_bytes(
        [patient_row(1) + ["extra"], patient_row(2)[:3], patient_row(3) + [""]]
    )
    job = run(manager, data)
    assert messages(job) == [
        (2, "", engine.E_CELL_COUNT.format(cells=6, expected=5)),
        (3, "", engine.E_CELL_COUNT.format(cells=3, expected=5)),
    ]


def test_a_fifty_megabyte_cell(manager):
    header = b"mrn,given_name,family_name,date_of_birth,sex\n"
    data = header + b"IMP-1," + b"x" * (50 * 1024 * 1024) + b",B,2025-01-01,male\n"
    job = run(manager, data)
    # Refused as a row too large for any row, before the reader splits it.
    assert job.errors[0]["message"] == parsing.E_ROW_TOO_LARGE.format(
        line=2, limit=parsing.ROW_LIMIT
    )
    assert not Patient.objects.exists()


def test_a_bad_last_row_after_ten_thousand_good_ones_writes_nothing(manager):
    rows = [patient_row(n) for n in range(10_000)] + [patient_row(10_000, sex="?")]
    job = run(manager, csv_bytes(rows))
    assert job.status == ImportJob.Status.INVALID
    assert (job.rows, job.invalid) == (10_001, 1)
    assert Patient.objects.count() == 0 and Patient.history.count() == 0


def test_a_failure_while_writing_leaves_nothing_partial(manager, monkeypatch):
    def fail(self, cursor, *chunk):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(engine.Writer, "_write", fail)
    with pytest.raises(RuntimeError):
        run(manager, csv_bytes([patient_row(n) for n in range(50)]))
    assert Patient.objects.count() == 0 and Patient.history.count() == 0
    assert ImportJob.objects.get().status == ImportJob.Status.FAILED


def test_the_databases_own_error_is_the_one_raised(manager, monkeypatch):
    import psycopg

    def divide_by_zero(self, cursor, *chunk):
        cursor.execute("SELECT 1 / 0")

    # Many chunks: the main thread goes on reading while the writer has failed.
    monkeypatch.setattr(checker, "CHUNK_ROWS", 10)
    monkeypatch.setattr(engine.Writer, "_write", divide_by_zero)
    with pytest.raises(psycopg.errors.DivisionByZero):
        run(manager, csv_bytes([patient_row(n) for n in range(100)]))
    assert Patient.objects.count() == 0 and Patient.history.count() == 0
    assert ImportJob.objects.get().status == ImportJob.Status.FAILED


def test_only_importers_import(make_user):
    from django.contrib.auth.models import Permission

    for role in (roles.CLINICIAN, roles.AUDITOR):
        user = make_user(f"no-{role}", roles=[role])
        with pytest.raises(PermissionDenied):
            run(user, csv_bytes([patient_row(1)]))
    # Importing without opening every chart: the file could name any chart.
    narrow = make_user("narrow", roles=[roles.CLINICIAN])
    narrow.user_permissions.add(Permission.objects.get(codename="import_records"))
    narrow = type(narrow).objects.get(pk=narrow.pk)
    assert narrow.has_perm("imports.import_records")
    with pytest.raises(PermissionDenied):
        run(narrow, csv_bytes([patient_row(1)]))
    assert not ImportJob.objects.exists()


def test_a_reason_is_required(manager):
    with pytest.raises(ValidationError) as error:
        run(manager, csv_bytes([patient_row(1)]), reason=" ")
    assert error.value.message_dict == {"reason": [services.E_REASON]}


def test_an_identical_file_is_flagged(manager):
    first = run(manager, csv_bytes([patient_row(1)]), dry_run=True)
    second = run(manager, csv_bytes([patient_row(1)]), dry_run=True)
    assert second.same_file_as == first and first.same_file_as is None
    assert first.status == ImportJob.Status.VALIDATED
    assert len(first.sha256) == 64 and first.size_bytes > 0


def test_an_export_imports_back_unchanged(manager, make_user):
    from records.imports.exports import export_csv

    doctor = make_user("doc", roles=[roles.CLINICIAN])
    factories.patient(
        acting_user=doctor,
        given_name="=cmd|' /C calc'!A0",
        guardian_phone="020 7946 0123",
        city="-Arnsby",
        gestational_age_weeks=31,
        gestational_age_days=2,
    )
    data = b"".join(export_csv(user=manager, entity="patients"))
    assert b"'=cmd" in data and b"'+442079460123" in data
    job = run(manager, data)
    assert (job.rows, job.unchanged, job.changed, job.new) == (1, 1, 0, 0), job.errors


def test_a_blank_key_cell_is_named(manager):
    job = run(manager, csv_bytes([patient_row(1, mrn="")]))
    assert messages(job) == [(2, "mrn", E_REQUIRED)]


def test_a_row_written_otherwise_but_meaning_the_same_is_unchanged(manager):
    header = HEADER + ["guardian_phone", "gestational_age_weeks"]
    run(manager, csv_bytes([patient_row(1) + ["+442079460123", "31"]], header=header))
    # Another spelling of every value: lower-case MRN, a label for the code, a
    # day-first date, a spaced national phone number, a decimal whole number.
    same = patient_row(1, mrn="imp-00001", sex="Female", date_of_birth="14/03/2025") + [
        "020 7946 0123",
        "31.0",
    ]
    job = run(manager, csv_bytes([same], header=header))
    assert (job.unchanged, job.changed, job.new) == (1, 0, 0), job.errors
    assert Patient.history.count() == 1


def test_one_file_adds_changes_and_keeps_rows(manager):
    run(manager, csv_bytes([patient_row(1), patient_row(2)]))
    job = run(
        manager,
        csv_bytes([patient_row(1), patient_row(2, given_name="Orrin"), patient_row(3)]),
    )
    assert (job.unchanged, job.changed, job.new) == (1, 1, 1), job.errors
    kinds = Patient.history.values_list("mrn", "history_type")
    assert sorted(kinds) == [
        ("IMP-00001", "+"),
        ("IMP-00002", "+"),
        ("IMP-00002", "~"),
        ("IMP-00003", "+"),
    ]
    assert Patient.objects.get(mrn="IMP-00002").version == 2


def test_an_mrn_that_looks_like_a_formula_imports_back_unchanged(manager, make_user):
    from records.imports.exports import export_csv

    doctor = make_user("doc", roles=[roles.CLINICIAN])
    factories.patient(acting_user=doctor, mrn="-A123")
    data = b"".join(export_csv(user=manager, entity="patients"))
    assert b"'-A123" in data
    job = run(manager, data)
    assert (job.rows, job.unchanged, job.new) == (1, 1, 0), job.errors


def test_exported_assessments_and_visits_import_back_unchanged(manager, make_user):
    from records.imports.exports import export_csv

    doctor = make_user("doc", roles=[roles.CLINICIAN])
    patient = factories.patient(acting_user=doctor, date_of_birth=date(2025, 1, 1))
    factories.assessment(acting_user=doctor, patient=patient, findings="Symmetric")
    factories.visit(acting_user=doctor, patient=patient, diagnoses=["F84.0", "R62.0"])
    for entity, model in (
        ("assessments", Assessment),
        ("clinical_records", ClinicalRecord),
    ):
        history = model.history.count()
        data = b"".join(export_csv(user=manager, entity=entity))
        job = run(manager, data, entity=entity)
        assert (job.rows, job.unchanged, job.changed) == (1, 1, 0), job.errors
        assert model.history.count() == history
    # A different clinician on the visit is a change.
    make_user("locum", roles=[roles.CLINICIAN])
    data = b"".join(export_csv(user=manager, entity="clinical_records"))
    job = run(manager, data.replace(b",doc,", b",locum,"), entity="clinical_records")
    assert job.changed == 1, job.errors
    assert ClinicalRecord.objects.get().clinician.username == "locum"
    # A username nobody has is an error, whatever is stored.
    job = run(manager, data.replace(b",doc,", b",nobody,"), entity="clinical_records")
    assert messages(job) == [(2, "clinician_username", E_UNKNOWN_USER)]


def test_the_cycle_collector_is_paused_while_reading_and_restored(manager, monkeypatch):
    """In a process that only imports (a worker, the command line)."""
    import gc

    monkeypatch.setattr(runtime, "_tweaks", True)
    seen = []
    original = engine.Importer._check

    def check(self, *args):
        seen.append(gc.isenabled())
        return original(self, *args)

    monkeypatch.setattr(engine.Importer, "_check", check)
    run(manager, csv_bytes([patient_row(1)]))
    assert seen == [False] and gc.isenabled()
    gc.disable()  # whoever turned it off keeps it off
    try:
        run(manager, csv_bytes([patient_row(2)]))
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_web_process_keeps_its_cycle_collector(manager, monkeypatch):
    """Elsewhere (a web process's threads), the collector is left alone."""
    import gc

    monkeypatch.setattr(runtime, "_tweaks", False)
    seen = []
    original = engine.Importer._check

    def check(self, *args):
        seen.append(gc.isenabled())
        return original(self, *args)

    monkeypatch.setattr(engine.Importer, "_check", check)
    run(manager, csv_bytes([patient_row(1)]))
    with engine.process_tweaks_allowed():
        run(manager, csv_bytes([patient_row(2)]))
    assert seen == [True, False] and not runtime._tweaks


def test_a_dry_run_that_failed_does_not_stop_the_next_one(manager, monkeypatch):
    # One row a chunk, no keys in memory: the second chunk's read makes the table.
    monkeypatch.setattr(checker, "CHUNK_ROWS", 1)
    monkeypatch.setattr(lookups, "MEMORY_KEYS", 0)
    original = engine.Importer._check
    calls = []

    def fail_on_the_second_chunk(self, *args):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("interrupted")
        return original(self, *args)

    monkeypatch.setattr(engine.Importer, "_check", fail_on_the_second_chunk)
    with pytest.raises(RuntimeError):
        run(manager, csv_bytes([patient_row(1), patient_row(2)]), dry_run=True)
    monkeypatch.setattr(engine.Importer, "_check", original)
    job = run(manager, csv_bytes([patient_row(1), patient_row(1)]), dry_run=True)
    assert messages(job) == [(3, "", engine.E_DUPLICATE_KEY.format(key="mrn", first=2))]


def test_every_required_cell_left_blank_is_named_at_once(manager):
    job = run(manager, csv_bytes([patient_row(1, family_name="", sex="")]))
    assert messages(job) == [(2, "family_name", E_REQUIRED), (2, "sex", E_REQUIRED)]
    # An existing record keeps its values for blank cells: nothing is missing.
    run(manager, csv_bytes([patient_row(1)]))
    job = run(manager, csv_bytes([patient_row(1, family_name="", sex="")]))
    assert (job.invalid, job.unchanged) == (0, 1), job.errors


def test_new_birth_details_in_a_file_update_the_assessments_ages(manager, make_user):
    from records.patients.services.patients import AGES_RECOMPUTED_REASON

    run(manager, csv_bytes([patient_row(1, date_of_birth="2025-03-14")]))
    patient = Patient.objects.get()
    chief = make_user("chief", roles=[roles.ADMINISTRATOR])
    exam = factories.assessment(
        acting_user=chief, patient=patient, performed_on=date(2025, 9, 14)
    )
    assert exam.chronological_age_days == 184
    job = run(manager, csv_bytes([patient_row(1, date_of_birth="2025-03-10")]))
    assert job.changed == 1, job.errors
    exam.refresh_from_db()
    assert exam.chronological_age_days == 188
    latest = exam.history.order_by("-history_id").first()
    assert latest.history_change_reason == AGES_RECOMPUTED_REASON
    assert latest.history_user == manager
