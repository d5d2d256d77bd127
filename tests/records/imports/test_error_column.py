"""The file with an error column, fixed and uploaded again, goes through: its
`errors` column (and only that unknown column) is ignored, and the report says so."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from records.imports import engine, services
from records.imports.entities import ENTITIES, header_key
from records.imports.error_column import ERROR_COLUMN, N_ERROR_COLUMN_IGNORED
from records.imports.models import ImportJob
from records.patients.models import Patient
from records.users import roles

pytestmark = pytest.mark.django_db

BAD = (
    b"mrn,given_name,family_name,date_of_birth,sex\n"
    b"ERR-0001,Talvi,Quennard,2025-03-14,female\n"
    b"ERR-0002,Orrin,Velmarch,2024-02-30,male\n"
)


@pytest.fixture
def manager(make_user):
    return make_user("importer", roles=[roles.DATA_MANAGER])


@pytest.fixture
def browser(manager, s3_storage):
    client = Client()
    client.force_login(manager)
    return client


def upload(client, data: bytes):
    response = client.post(
        reverse("admin:imports_importjob_upload"),
        {
            "entity": "patients",
            "file": SimpleUploadedFile("referrals.csv", data),
            "mode": "create_or_update",
            "blank_keeps_value": "on",
            "reason": "Referrals",
            "care_team": "none",
        },
    )
    assert response.status_code == 302
    return ImportJob.objects.latest("pk")


def error_file(client, job) -> list[list[str]]:
    download = client.get(reverse("admin:imports_importjob_errors", args=[job.pk]))
    return list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))


def as_csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def test_the_error_file_fixed_and_uploaded_again_goes_through(browser):
    rows = error_file(browser, upload(browser, BAD))
    assert rows[0][-1] == ERROR_COLUMN and "date_of_birth" in rows[2][-1]
    rows[2][3] = "2024-02-29"  # fixed; its error cell left as it was
    job = upload(browser, as_csv(rows))
    assert (job.status, job.new, job.errors) == (ImportJob.Status.VALIDATED, 2, [])
    assert job.notes == [N_ERROR_COLUMN_IGNORED]
    report = browser.get(reverse("admin:imports_importjob_report", args=[job.pk]))
    assert "The column “errors” (from NDAS&#x27;s file with an error column) was " in (
        report.content.decode()
    )
    browser.post(reverse("admin:imports_importjob_commit", args=[job.pk]))
    assert sorted(Patient.objects.values_list("mrn", flat=True)) == [
        "ERR-0001",
        "ERR-0002",
    ]
    assert Patient.objects.get(mrn="ERR-0002").family_name == "Velmarch"


def test_an_error_file_still_wrong_gives_an_error_file_with_one_error_column(browser):
    first = error_file(browser, upload(browser, BAD))
    again = error_file(browser, upload(browser, as_csv(first)))
    assert again[0] == first[0]  # one errors column, the new one
    assert again[2][:-1] == first[2][:-1] and "date_of_birth" in again[2][-1]


def test_a_line_of_nothing_but_errors_is_not_a_row(manager):
    """The error file's line for the header's errors, once the header is fixed."""
    data = b"mrn,given_name,family_name,date_of_birth,sex,errors\n"
    data += b",,,,,notes: Unknown column.\n"
    data += b"ERR-0001,Talvi,Quennard,2025-03-14,female,\n"
    job = run(manager, data)
    assert (job.status, job.rows, job.new) == (ImportJob.Status.COMMITTED, 1, 1)


def run(manager, data: bytes) -> ImportJob:
    return services.import_file(
        acting_user=manager,
        entity="patients",
        file_name="fixed.csv",
        data=data,
        reason="Fixed",
        no_care_team=True,
    )


def test_only_the_error_files_own_column_is_ignored(manager):
    other = BAD.replace(b"sex\n", b"sex,notes\n", 1)
    job = run(manager, other)
    assert job.status == ImportJob.Status.INVALID and job.notes == []
    assert job.errors[0]["column"] == "notes"
    assert job.errors[0]["message"].startswith("Unknown column.")
    twice = b"errors," + BAD.replace(b"sex\n", b"sex,Errors\n", 1)
    job = run(manager, twice.replace(b"\nERR", b"\n,ERR"))
    assert [(e["column"], e["message"]) for e in job.errors] == [
        ("Errors", engine.E_DUPLICATE_HEADER)
    ]
    assert not Patient.objects.exists()


def test_no_kind_of_record_has_a_column_named_as_the_error_column():
    for spec in ENTITIES.values():
        assert ERROR_COLUMN not in {header_key(c.name) for c in spec.columns}


def test_the_command_line_says_the_column_was_ignored(manager, tmp_path):
    path = tmp_path / "fixed.csv"
    path.write_bytes(
        b"mrn,given_name,family_name,date_of_birth,sex,errors\n"
        b"ERR-0001,Talvi,Quennard,2025-03-14,female,date_of_birth: Enter a date.\n"
    )
    out = io.StringIO()
    call_command(
        "import_records",
        "patients",
        str(path),
        "--user",
        "importer",
        "--reason",
        "Fixed",
        "--no-care-team",
        stdout=out,
    )
    assert f"Note: {N_ERROR_COLUMN_IGNORED}" in out.getvalue()
    assert "committed: 1 rows (1 new" in out.getvalue()
