"""Review #12, item 8: an import upload cannot take a worker's memory.

A 2 MB XLSX declaring 400,000 rows took 2.1 GB (read-only openpyxl pads every row
to the size a sheet declares); an upload past the 200 MB limit was read whole
before its size was checked; any number of imports ran at once. Now the upload
is dropped as it streams in past IMPORT_MAX_BYTES, reading counts rows and cells
against IMPORT_MAX_ROWS and IMPORT_MAX_CELLS (and what an XLSX unzips to against
IMPORT_MAX_UNZIPPED_BYTES), the size a sheet declares is not trusted either way,
and a user runs one import at a time.
"""

import io
import tracemalloc
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.core.management import CommandError, call_command
from django.db import connections
from django.test import RequestFactory
from django.urls import reverse

from records.imports import parsing, services
from records.imports.models import ImportJob
from records.imports.uploads import ImportUploadLimit, upload_refused
from records.patients.models import Patient
from tests.helpers import (
    advisory_lock_released,
    BAD,
    GOOD,
    HEADER,
    SHEET,
    csv_bytes,
    patient_row,
    run,
    sheet_xml,
    upload,
    xlsx_with,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(import_client):
    return import_client


def _rows(n: int) -> list[list[str]]:
    return [patient_row(k) for k in range(n)]


def _read(data: bytes, name: str) -> list:
    table = parsing.read_table(data=data, file_name=name)
    return [cells for _, cells in table.rows]


# --- the size a sheet declares --------------------------------------------------


def test_rows_past_the_declared_dimension_are_read(importer):
    """Read-only openpyxl stops at the rows a sheet says it has: a sheet saying
    A1:E2 but holding four rows imported one."""
    xml = sheet_xml([HEADER, *_rows(4)], dimension="A1:E2")
    job = run(importer, xlsx_with({SHEET: xml}), name="patients.xlsx")
    assert job.status == ImportJob.Status.COMMITTED, job.errors
    assert (job.rows, job.new) == (4, 4)
    assert Patient.objects.count() == 4


def test_a_sheet_declaring_400000_rows_and_every_column_is_read_as_it_is():
    xml = sheet_xml([HEADER, patient_row(1)], dimension="A1:XFD400000")
    data = xlsx_with({SHEET: xml})
    tracemalloc.start()
    try:
        rows = _read(data, "a.xlsx")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert rows == [patient_row(1)]
    assert peak < 20 * 1024 * 1024, peak


def test_a_row_far_down_the_sheet_stops_at_the_row_bound(settings):
    settings.IMPORT_MAX_ROWS = 1000
    xml = sheet_xml([HEADER, patient_row(1), (1_000_000, patient_row(2))])
    with pytest.raises(parsing.ParseError) as raised:
        _read(xlsx_with({SHEET: xml}), "a.xlsx")
    assert raised.value.message == parsing.E_TOO_MANY_ROWS.format(limit=1000)


def test_a_cell_in_the_last_column_of_every_row_stops_at_the_cell_bound(settings):
    settings.IMPORT_MAX_CELLS = 100_000
    far = [""] * 16_383 + ["x"]  # column XFD
    xml = sheet_xml([HEADER, *[far] * 20])
    with pytest.raises(parsing.ParseError) as raised:
        _read(xlsx_with({SHEET: xml}), "a.xlsx")
    assert raised.value.message == parsing.E_TOO_MANY_CELLS.format(
        limit=100_000, line=8  # the header and six rows: 98,309 cells
    )


def test_a_file_at_the_bounds_is_read(settings):
    settings.IMPORT_MAX_ROWS = 11  # the header and ten rows
    settings.IMPORT_MAX_CELLS = 55
    assert len(_read(csv_bytes(_rows(10)), "a.csv")) == 10
    xml = sheet_xml([HEADER, *_rows(10)])
    assert len(_read(xlsx_with({SHEET: xml}), "a.xlsx")) == 10


def test_csv_rows_and_cells_are_bounded_too(importer, settings):
    settings.IMPORT_MAX_ROWS = 50
    job = run(importer, csv_bytes(_rows(60)))
    assert job.status == ImportJob.Status.FAILED and job.new == 0
    assert job.errors[0]["message"] == parsing.E_TOO_MANY_ROWS.format(limit=50)
    assert not Patient.objects.exists()
    settings.IMPORT_MAX_ROWS, settings.IMPORT_MAX_CELLS = 1000, 1000
    data = b"mrn" + b"," * 2000 + b"\n"
    with pytest.raises(parsing.ParseError) as raised:
        _read(data, "a.csv")
    assert raised.value.message == parsing.E_TOO_MANY_CELLS.format(limit=1000, line=1)


def test_a_csv_line_of_a_million_commas_is_refused_before_it_is_split():
    data = csv_bytes(_rows(1)) + b"," * 2_000_000 + b"\n"
    tracemalloc.start()
    try:
        with pytest.raises(parsing.ParseError) as raised:
            _read(data, "a.csv")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert raised.value.message == parsing.E_ROW_TOO_LARGE.format(
        line=3, limit=parsing.ROW_LIMIT
    )
    assert peak < 40 * 1024 * 1024, peak  # a list of 2,000,001 cells: ~80 MB


def test_a_workbook_that_unzips_past_the_bound_is_refused(settings):
    settings.IMPORT_MAX_UNZIPPED_BYTES = 2_000_000
    padding = b"<!--" + b" " * 3_000_000 + b"-->"
    xml = sheet_xml([HEADER, patient_row(1)]).replace(b"<worksheet", padding + b"<w")
    data = xlsx_with({SHEET: xml})
    assert len(data) < 100_000  # a few kilobytes of zip
    with pytest.raises(parsing.ParseError) as raised:
        _read(data, "a.xlsx")
    assert raised.value.message == parsing.E_XLSX_UNZIPPED.format(limit=2_000_000)


def test_a_part_read_whole_may_not_unzip_past_the_upload_limit(settings):
    settings.IMPORT_MAX_BYTES = 1_000_000
    strings = b"<sst>" + b" " * 2_000_000 + b"</sst>"
    data = xlsx_with({SHEET: sheet_xml([HEADER]), "xl/sharedStrings.xml": strings})
    with pytest.raises(parsing.ParseError) as raised:
        _read(data, "a.xlsx")
    assert raised.value.message == parsing.E_XLSX_UNZIPPED.format(
        limit=settings.IMPORT_MAX_UNZIPPED_BYTES
    )


def test_a_zip_that_lies_about_its_sizes_is_not_read_past_them():
    """The bound trusts the sizes a zip declares: zipfile reads no more (and
    then finds the checksum wrong: a damaged workbook)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("big", b"x" * 100_000)
    data = bytearray(out.getvalue())
    # Declare 10 bytes, in the local header and the central directory.
    archive = zipfile.ZipFile(io.BytesIO(bytes(data)))
    info = archive.getinfo("big")
    local = info.header_offset + 22
    data[local : local + 4] = (10).to_bytes(4, "little")
    central = bytes(data).rindex(b"PK\x01\x02") + 24
    data[central : central + 4] = (10).to_bytes(4, "little")
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as lying:
        assert lying.getinfo("big").file_size == 10
        with lying.open("big") as member:
            with pytest.raises(zipfile.BadZipFile, match="CRC"):
                member.read(1000)


# --- the upload's size, as it streams in ----------------------------------------


class Recorder(FileUploadHandler):
    """Stands for the handlers that keep a file (in memory, on disk)."""

    received = 0

    def receive_data_chunk(self, raw_data, start):
        Recorder.received += len(raw_data)

    def file_complete(self, file_size):
        return None


def _parse(data: bytes, settings) -> tuple:
    settings.IMPORT_MAX_BYTES = 100_000
    Recorder.received = 0
    request = RequestFactory().post(
        reverse("admin:imports_importjob_upload"),
        {"reason": "Upload", "file": SimpleUploadedFile("p.csv", data)},
    )
    request.upload_handlers = [ImportUploadLimit(request), Recorder(request)]
    return request.POST, request.FILES, request


@pytest.mark.parametrize(
    "size, kept",
    [
        # The request says it is far too large: not one byte is kept.
        (1_000_000, 0),
        # Within the room left for the form, the file grows past the limit:
        # kept up to it, and then dropped.
        (110_000, 100_000),
    ],
)
def test_an_upload_past_the_limit_is_dropped_as_it_streams_in(settings, size, kept):
    post, files, request = _parse(b"x" * size, settings)
    assert upload_refused(request) and "file" not in files
    assert post["reason"] == "Upload"  # the rest of the form is read
    # The handlers that keep files got nothing past the limit.
    assert Recorder.received <= kept


def test_an_upload_within_the_limit_is_kept_whole(settings):
    post, files, request = _parse(b"x" * 90_000, settings)
    assert not upload_refused(request)
    assert Recorder.received == 90_000


def test_the_upload_page_says_the_file_is_too_large(manager, settings):
    settings.IMPORT_MAX_BYTES = 1000
    response = upload(manager, GOOD + b"x" * 5000)
    assert response.status_code == 200
    assert response.context["form"].errors["file"] == [services.too_large_message()]
    assert services.too_large_message() in response.content.decode()
    assert not ImportJob.objects.exists()


def test_other_uploads_are_not_this_handlers_business(settings):
    settings.IMPORT_MAX_BYTES = 10
    request = RequestFactory().post(
        "/admin/elsewhere/", {"file": SimpleUploadedFile("p.csv", b"x" * 100)}
    )
    request.upload_handlers = [ImportUploadLimit(request), Recorder(request)]
    Recorder.received = 0
    request.FILES
    assert not upload_refused(request) and Recorder.received == 100


def test_the_command_checks_the_size_before_reading_the_file(
    importer, settings, tmp_path, monkeypatch
):
    settings.IMPORT_MAX_BYTES = 100
    path = tmp_path / "big.csv"
    path.write_bytes(csv_bytes(_rows(10)))

    def no_reading(self):
        raise AssertionError("read whole")

    monkeypatch.setattr(type(path), "read_bytes", no_reading)
    with pytest.raises(CommandError, match="larger than"):
        call_command(
            "import_records", "patients", str(path), "--user", importer.username
        )


# --- one import at a time per user ----------------------------------------------


@pytest.fixture
def held_lock(importer):
    """The importer's lock held by another connection, as by an import running
    in another worker."""
    other = connections.create_connection("default")
    with other.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_lock(%s, %s)", [services.IMPORT_LOCK, importer.pk]
        )
    yield
    other.close()


def test_a_second_import_of_the_same_user_is_refused(importer, held_lock, make_user):
    from records.users import roles

    with pytest.raises(services.ServiceError) as raised:
        run(importer, csv_bytes(_rows(1)))
    assert raised.value.messages == [services.E_RUNNING]
    with pytest.raises(services.ServiceError):
        run(importer, csv_bytes(_rows(1)), dry_run=True)
    assert not ImportJob.objects.exists()
    # Someone else imports meanwhile.
    other = make_user("other-importer", roles=[roles.DATA_MANAGER])
    assert run(other, csv_bytes(_rows(1))).status == ImportJob.Status.COMMITTED


def test_the_lock_is_released_after_each_import_even_a_failed_one(importer):
    assert run(importer, b"").status == ImportJob.Status.FAILED
    assert run(importer, csv_bytes(_rows(1))).status == ImportJob.Status.COMMITTED
    assert run(importer, csv_bytes(_rows(2))).new == 1


def test_the_upload_page_and_the_commit_say_another_import_is_running(
    manager, make_user, s3_storage
):
    upload(manager, GOOD)
    job = ImportJob.objects.get()
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_lock(%s, %s)", [services.IMPORT_LOCK, job.user_id]
            )
        response = upload(manager, GOOD.replace(b"IMP-0001", b"IMP-0002"))
        assert response.status_code == 200
        assert services.E_RUNNING in response.content.decode()
        committed = manager.post(
            reverse("admin:imports_importjob_commit", args=[job.pk]), follow=True
        )
        assert services.E_RUNNING in committed.content.decode()
        assert not Patient.objects.exists()
    finally:
        other.close()
    advisory_lock_released(services.IMPORT_LOCK, job.user_id)
    committed = manager.post(
        reverse("admin:imports_importjob_commit", args=[job.pk]), follow=True
    )
    assert "committed: 1 new" in committed.content.decode()


def test_the_error_file_is_checked_as_one_of_the_users_imports(manager, s3_storage):
    upload(manager, BAD)
    job = ImportJob.objects.get()
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_lock(%s, %s)", [services.IMPORT_LOCK, job.user_id]
            )
        url = reverse("admin:imports_importjob_errors", args=[job.pk])
        refused = manager.get(url, follow=True)
        assert services.E_RUNNING in refused.content.decode()
    finally:
        other.close()
    advisory_lock_released(services.IMPORT_LOCK, job.user_id)
    assert manager.get(url)["Content-Type"] == "text/csv"


def test_a_filled_cell_past_the_xlsx_header_is_refused_not_dropped(importer):
    """Rows are no longer padded to the sheet's declared width, under a header
    padded alike: a value in a column with no header is named, as in a CSV."""
    from records.imports import engine

    xml = sheet_xml([HEADER, patient_row(1), [*patient_row(2), "", "a note"]])
    job = run(importer, xlsx_with({SHEET: xml}), name="patients.xlsx")
    assert job.status == ImportJob.Status.INVALID
    assert [(e["row"], e["message"]) for e in job.errors] == [
        (3, engine.E_CELL_COUNT.format(cells=7, expected=5))
    ]
