"""Review #12, item 12: a bad upload gets a clear error, never a server error,
and never leaves a job half made.

A NUL byte in a CSV cell, or in an XLSX, and an XLSX whose XML names an entity it
does not define (&xxe;), were 500s; the NUL CSV's job stayed `validated` with 0
rows and its upload in storage. Now a file that cannot be read is a failed job
with the reason on its report, its upload deleted; a job whose process ends
while it runs is left `running` (never committable) and expire_imports marks it
failed and deletes its upload, as it deletes any old upload.
"""

import io
import zipfile
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from records.imports import engine, parsing, services
from records.imports.models import ImportJob
from records.patients.models import Patient
from tests.helpers import GOOD, HEADER, SHEET, sheet_xml, upload, xlsx_with

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(import_client):
    return import_client


ROW = ["IMP-0001", "Talvi", "Quennard", "2025-03-14", "female"]


def _report(client, job) -> str:
    page = client.get(reverse("admin:imports_importjob_report", args=[job.pk]))
    assert page.status_code == 200
    return page.content.decode()


def _failed_with(client, s3_storage, response, message: str) -> ImportJob:
    """The upload went to its report (no 500), which says why; the job failed
    and its upload is gone from storage."""
    assert response.status_code == 302
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.FAILED
    assert [error["message"] for error in job.errors] == [message]
    assert job.stored_as == "" and not s3_storage.listdir("imports")[1]
    assert (
        not services.import_commit_allowed(acting_user=job.user, job=job)
        and not Patient.objects.exists()
    )
    content = _report(client, job)
    assert "Failed" in content
    return job


def test_a_nul_byte_in_a_csv_cell(manager, s3_storage):
    data = GOOD + b"IMP-0002,Or\x00rin,Velmarch,2024-02-01,male\n"
    response = upload(manager, data)
    job = _failed_with(manager, s3_storage, response, parsing.E_NUL.format(line=3))
    assert job.rows == 0


def test_a_nul_byte_in_an_xlsx_sheets_xml(manager, s3_storage):
    """XML cannot hold NUL (nor &#0;): a sheet with one is bad XML, seen when
    the workbook is opened, or, further in, when its row is read."""
    xml = sheet_xml([HEADER, ROW]).replace(b"Talvi", b"Tal\x00vi")
    response = upload(manager, xlsx_with({SHEET: xml}), name="patients.xlsx")
    _failed_with(manager, s3_storage, response, parsing.E_XLSX_DAMAGED)


def test_a_nul_far_into_an_xlsx_names_its_row(manager, s3_storage):
    rows = [HEADER] + [[f"IMP-{n:04d}", *ROW[1:]] for n in range(3000)]
    xml = sheet_xml(rows + [["IMP-9999", "Tal&#0;vi"]], dimension="A1:E3002")
    response = upload(manager, xlsx_with({SHEET: xml}), name="patients.xlsx")
    job = _failed_with(
        manager, s3_storage, response, parsing.E_XLSX_DAMAGED_ROW.format(line=3002)
    )
    assert job.new == 0


@pytest.mark.parametrize(
    "prolog",
    [
        "",  # &xxe; used, defined nowhere
        # An external entity: never fetched, so never defined either.
        '<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
    ],
)
def test_an_xlsx_naming_an_undefined_entity(manager, s3_storage, prolog):
    xml = sheet_xml([HEADER, ["IMP-0001", "&xxe;"]], prolog=prolog)
    response = upload(manager, xlsx_with({SHEET: xml}), name="patients.xlsx")
    _failed_with(manager, s3_storage, response, parsing.E_XLSX_DAMAGED.format(line=1))
    assert "root:" not in _report(manager, ImportJob.objects.get())


def test_an_entity_bomb_is_refused(manager, s3_storage):
    entities = '<!ENTITY a0 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx">' + "".join(
        f'<!ENTITY a{n} "{f"&a{n - 1};" * 10}">' for n in range(1, 10)
    )
    xml = sheet_xml(
        [HEADER, ["IMP-0001", "&a9;"]], prolog=f"<!DOCTYPE worksheet [{entities}]>"
    )
    response = upload(manager, xlsx_with({SHEET: xml}), name="patients.xlsx")
    _failed_with(manager, s3_storage, response, parsing.E_XLSX_DAMAGED.format(line=1))


def test_a_workbook_whose_own_xml_names_an_undefined_entity(manager, s3_storage):
    book = xlsx_with({})
    with zipfile.ZipFile(io.BytesIO(book)) as archive:
        workbook_xml = archive.read("xl/workbook.xml")
    broken = workbook_xml.replace(b'name="data"', b'name="&xxe;"')
    response = upload(
        manager, xlsx_with({"xl/workbook.xml": broken}), name="patients.xlsx"
    )
    _failed_with(manager, s3_storage, response, parsing.E_XLSX_DAMAGED)


def test_any_damaged_sheet_is_a_parse_error_naming_its_row():
    xml = sheet_xml([HEADER, ROW, ROW]).replace(b'r="C3"', b'r="C3ZZZZ"')
    table = parsing.read_table(data=xlsx_with({SHEET: xml}), file_name="a.xlsx")
    with pytest.raises(parsing.ParseError) as raised:
        list(table.rows)
    assert raised.value.message == parsing.E_XLSX_DAMAGED_ROW.format(line=3)


def test_a_cell_too_large_is_still_named_as_a_cell(manager, s3_storage):
    big = b"x" * (parsing.CELL_LIMIT + 1)
    response = upload(manager, GOOD + b"IMP-0002," + big + b",V,2024-02-01,male\n")
    _failed_with(
        manager,
        s3_storage,
        response,
        parsing.E_CELL_TOO_LARGE.format(line=3, limit=parsing.CELL_LIMIT),
    )


def test_an_unexpected_failure_while_checking_fails_the_job(
    manager, s3_storage, monkeypatch
):
    """A server error is still one (and logged), but the job says it failed,
    and its upload is not kept."""

    def broken(self, rows, keys, existing):
        raise RuntimeError("a bug")

    monkeypatch.setattr(engine.Importer, "_check", broken)
    manager.raise_request_exception = False
    response = upload(manager, GOOD)
    assert response.status_code == 500
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.FAILED and job.stored_as == ""
    assert [error["message"] for error in job.errors] == [services.E_FAILED]
    assert not s3_storage.listdir("imports")[1]


def test_expire_imports_deletes_the_uploads_of_failed_and_stopped_jobs(
    manager, s3_storage
):
    upload(manager, GOOD)
    stopped = ImportJob.objects.get()
    # As a worker killed while checking leaves it: running, its upload kept.
    ImportJob.objects.filter(pk=stopped.pk).update(status=ImportJob.Status.RUNNING)
    upload(manager, GOOD.replace(b"IMP-0001", b"IMP-0002"))
    failed = ImportJob.objects.latest("pk")
    ImportJob.objects.filter(pk=failed.pk).update(status=ImportJob.Status.FAILED)
    stored = [stopped.stored_as, failed.stored_as]
    # The user's next import already ended the one whose process was gone.
    assert ImportJob.objects.get(pk=stopped.pk).status == ImportJob.Status.FAILED
    assert not s3_storage.exists(stored[0]) and s3_storage.exists(stored[1])
    assert not services.import_commit_allowed(
        acting_user=stopped.user, job=ImportJob.objects.get(pk=stopped.pk)
    )
    ImportJob.objects.update(created_at=timezone.now() - timedelta(days=31))
    call_command("expire_imports", stdout=io.StringIO())
    assert not any(s3_storage.exists(key) for key in stored)
    stopped.refresh_from_db()
    failed.refresh_from_db()
    assert stopped.status == failed.status == ImportJob.Status.FAILED
    assert stopped.errors[0]["message"] == services.E_STOPPED
    assert stopped.stored_as == failed.stored_as == ""


def test_a_file_name_with_a_long_odd_suffix(manager, s3_storage):
    name = "patients." + "x" * 240
    response = upload(manager, GOOD, name=name)
    job = _failed_with(manager, s3_storage, response, parsing.E_FORMAT)
    assert job.file_name == name[:200]
