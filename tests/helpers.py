"""The plain helpers the test suites share: paths and settings, sign-ins, admin
forms, files, imports and exports, the audit table, PDFs.

Test modules import shared helpers from here (and chart data from
tests/factories.py, the heavier machinery from tests/support/), never from a
`test_*` module or a conftest: tests/test_layout.py holds that. Shared fixtures
live in the conftest of the suites that use them.
"""

import csv
import io
import os
import re
import runpy
import time
import zipfile
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from pathlib import Path
from unittest import mock

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from openpyxl import Workbook
from pypdf import PdfReader

from records.audit.models import Action, AuditEvent
from records.audit.services import audit_record
from records.imports import exports, services
from records.patients.models import Patient

# --- the project: paths and settings --------------------------------------------------

BASE_DIR = Path(__file__).resolve().parent.parent
PRODUCTION_ENV_FILE = BASE_DIR / "tests" / "production.env"
TEST_BUCKET = "ndas-test-media"
# The hung S3's client (tests/faults/conftest.py): one try, a second to connect and
# two to wait for a read.
HUNG_S3_READ_TIMEOUT = 2
HUNG_S3_MAX_ATTEMPTS = 1


def read_env_file(path: Path) -> dict[str, str]:
    env = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            env[key.strip()] = value.strip()
    return env


def load_settings(env: dict[str, str]) -> dict:
    """Evaluate ndas/settings.py under exactly this environment; return its names."""
    with mock.patch.dict(os.environ, env, clear=True):
        return runpy.run_path(str(BASE_DIR / "ndas" / "settings.py"))


# --- accounts and signing in ----------------------------------------------------------

TEST_PASSWORD = "correct-horse-battery-staple"
# Who the access and security tests sign in as (the `world` fixture, tests/conftest.py).
PERSONAS = (
    "anonymous",
    "superuser",
    "administrator",
    "clinician_in_team",
    "clinician_outside",
    "clinician_break_glass",
    "clinician_expired_glass",
    "data_manager",
    "auditor",
)


def client_for(user) -> Client:
    """A test client signed in as `user` (both factors)."""
    client = Client()
    client.force_login(user)
    return client


def password_only_login(client: Client, user) -> None:
    """Sign `client` in with the password alone: the second step still to come."""
    client.password_only = True
    try:
        client.force_login(user)
    finally:
        client.password_only = False


def totp_code(device: TOTPDevice, *, offset: int = 0) -> str:
    """The code the user's app (django-otp's own TOTP) shows now; `offset` time
    steps later. A step already used (django-otp refuses a code twice) is skipped
    for the next one, which the device accepts within its tolerance."""
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + offset * device.step
    if totp.t() <= device.last_t:
        totp.time = (device.last_t + 1) * device.step + device.t0
    return f"{totp.token():0{device.digits}d}"


def second_step(page, username: str) -> None:
    """In the browser, after the password: the authenticator app's code on the
    second step, or, on a first sign-in, the enrolment (a code of the new app),
    then on from the recovery codes."""
    page.wait_for_selector("[data-testid=mfa-verify], [data-testid=mfa-enrol]")
    device = TOTPDevice.objects.filter(user__username=username).order_by("-pk")[0]
    if page.get_by_test_id("mfa-enrol").count():
        page.fill("input[name=code]", totp_code(device))
        page.click("[data-testid=mfa-enrol] button[type=submit]")
        page.get_by_test_id("mfa-recovery-codes").wait_for()
        page.click("text=I have kept them: continue")
    else:
        page.fill("input[name=code]", totp_code(device))
        page.click("[data-testid=mfa-code-form] button[type=submit]")


def sign_in(page, username: str, *, base_url: str = "") -> None:
    """In the browser: the password, the second step, and on to the dashboard.
    `base_url` is the live server's, unless the page's context has one."""
    # Browser tests alone need Playwright: imported here, not for every test.
    from playwright.sync_api import expect

    page.goto(f"{base_url}/admin/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("button[type=submit]")
    second_step(page, username)
    if base_url:
        expect(page).to_have_url(f"{base_url}/admin/")
    else:
        expect(page).to_have_url(re.compile(r"/admin/$"))


# --- admin forms ----------------------------------------------------------------------


def _value(value):
    if value is None:
        return ""
    if isinstance(value, (date, Decimal, int)):
        return str(value)
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    if hasattr(value, "pk"):
        return value.pk
    return value


def admin_form_data(response, **changes) -> dict:
    """The POST body of the admin form a page shows, as the browser would submit
    it untouched (its initial values, inline management forms), with `changes`."""
    form = response.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        initial = form.initial.get(name, field.initial)
        if callable(initial):
            initial = initial()
        if field.disabled:
            continue
        if field.widget.__class__.__name__ in ("CheckboxInput",):
            if initial:
                data[name] = "on"
            continue
        data[name] = _value(initial)
    for inline in response.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        for name in ("TOTAL_FORMS", "INITIAL_FORMS", "MIN_NUM_FORMS", "MAX_NUM_FORMS"):
            data[f"{management.prefix}-{name}"] = management[name].value()
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def change_form_data(response) -> dict:
    """What a change page's form would post back untouched (its bound values)."""
    form = response.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        if field.disabled:
            continue
        value = form[name].value()
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        elif isinstance(value, (list, tuple)):
            data[name] = [str(v) for v in value]
        elif value is not None:
            data[name] = value
    return data


# --- files ----------------------------------------------------------------------------

DEMO_MEDIA = BASE_DIR / "fixtures" / "demo_media"
PNG = (DEMO_MEDIA / "sample.png").read_bytes()


def pdf_text(response) -> str:
    """The text of a PDF download (read back by pypdf), words single-spaced."""
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    body = response.content
    assert body.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(body))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def letter_url(record):
    """The admin's letter (PDF) of an assessment or a visit."""
    opts = record._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_letter", args=[record.pk])


# --- imports and exports --------------------------------------------------------------

HEADER = ["mrn", "given_name", "family_name", "date_of_birth", "sex"]
# A patients file the import page takes, and one with a row in error.
GOOD = (
    b"mrn,given_name,family_name,date_of_birth,sex\n"
    b"IMP-0001,Talvi,Quennard,2025-03-14,female\n"
)
BAD = GOOD + b"x,Orrin,Velmarch,2024-02-30,male\n"
# Rows a browser test types into an import (the second row's date is wrong).
IMPORT_ROWS = [
    HEADER,
    ["A11Y-1001", "Talvi", "Quennard", "2025-03-14", "female"],
    ["A11Y-1002", "Orrin", "Velmarch", "14th March", "male"],
]
EXPORT_URL = "/admin/patients/patient/export/"
SHEET = "xl/worksheets/sheet1.xml"
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def csv_bytes(rows, header=HEADER, delimiter=",", bom=False) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(header)
    writer.writerows(rows)
    data = out.getvalue().encode()
    return (b"\xef\xbb\xbf" + data) if bom else data


def patient_row(n: int, **overrides) -> list[str]:
    row = {
        "mrn": f"IMP-{n:05d}",
        "given_name": "Talvi",
        "family_name": f"Quennard{n}",
        "date_of_birth": "2025-03-14",
        "sex": "female",
    }
    row.update(overrides)
    return list(row.values())


def run(manager, data, *, entity="patients", name="file.csv", dry_run=False, **kw):
    """Import `data` through the service (import_file) as `manager`."""
    kw.setdefault("reason", "Quarterly upload")
    if entity == "patients" and "care_team" not in kw:
        # New patients in no team, by choice (tests/records/imports/test_teams.py).
        kw.setdefault("no_care_team", True)
    return services.import_file(
        acting_user=manager,
        entity=entity,
        file_name=name,
        data=data,
        dry_run=dry_run,
        **kw,
    )


def upload(client, data, name="patients.csv", **extra):
    """Post `data` to the admin's import page as `client`."""
    fields = {
        "entity": "patients",
        "file": SimpleUploadedFile(name, data),
        "mode": "create_or_update",
        "blank_keeps_value": "on",
        "reason": "Quarterly upload",
        "care_team": "none",  # new patients in no team (test_teams.py)
        **extra,
    }
    return client.post(reverse("admin:imports_importjob_upload"), fields)


def csv_rows(chunks) -> list[list[str]]:
    """The rows of an export's CSV chunks (after its byte order mark)."""
    text = b"".join(chunks).decode("utf-8")
    assert text.startswith(exports.CSV_BOM)
    return list(csv.reader(io.StringIO(text[1:])))


def writing() -> bool:
    """Another session holds the lock an import's write transaction takes."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE relation = %s::regclass "
            "AND mode = 'ShareRowExclusiveLock' AND granted "
            "AND pid <> pg_backend_pid()",
            [Patient._meta.db_table],
        )
        return cursor.fetchone()[0] > 0


def sheet_xml(rows, *, dimension: str | None = None, prolog: str = "") -> bytes:
    """A sheet's XML, cells as inline strings (`rows` of text, or of
    (row number, cells) to place rows where a sheet would not)."""
    parts = []
    for at, row in enumerate(rows, start=1):
        if isinstance(row, tuple):
            at, row = row
        cells = "".join(
            f'<c r="{_column(n)}{at}" t="inlineStr"><is><t>{text}</t></is></c>'
            for n, text in enumerate(row)
            if text != ""
        )
        parts.append(f'<row r="{at}">{cells}</row>')
    size = f'<dimension ref="{dimension}"/>' if dimension else ""
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'{prolog}<worksheet xmlns="{_MAIN}">{size}'
        f"<sheetData>{''.join(parts)}</sheetData></worksheet>"
    ).encode()


def _column(index: int) -> str:
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def xlsx_with(parts: dict[str, bytes]) -> bytes:
    """A workbook made by openpyxl (one sheet, "data"), with these parts of its
    zip replaced or added."""
    book = Workbook()
    book.active.title = "data"
    made = io.BytesIO()
    book.save(made)
    out = io.BytesIO()
    with (
        zipfile.ZipFile(made) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for item in source.infolist():
            if item.filename not in parts:
                target.writestr(item, source.read(item))
        for name, data in parts.items():
            target.writestr(name, data)
    return out.getvalue()


# --- the audit table ------------------------------------------------------------------

AUDIT_TABLE = AuditEvent._meta.db_table


@contextmanager
def triggers_disabled():
    """What the audit table's owner (or a superuser) can do: switch its guard off."""
    with connection.cursor() as cursor:
        cursor.execute(f'ALTER TABLE "{AUDIT_TABLE}" DISABLE TRIGGER USER')
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'ALTER TABLE "{AUDIT_TABLE}" ENABLE TRIGGER USER')


def record(count: int) -> list[AuditEvent]:
    """`count` chart openings written to the audit trail."""
    return [
        audit_record(
            action=Action.VIEW,
            actor_username="clin",
            object_type="patients.patient",
            object_id=n,
            patient_id=n,
            summary=f"Opened chart {n}",
        )
        for n in range(1, count + 1)
    ]


def advisory_lock_released(classid: int, objid: int) -> None:
    """Wait (10 s at most) for the server to drop a closed connection's advisory
    lock: its backend lets its locks go a moment after the client has gone."""
    deadline = time.monotonic() + 10
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                "AND classid = %s AND objid = %s",
                [classid, objid],
            )
            if cursor.fetchone()[0] == 0:
                return
        assert time.monotonic() < deadline, "the lock was never released"
        time.sleep(0.05)


def whole_counts(sqls) -> list[str]:
    """The statements that COUNT rows without a LIMIT inside (a list's count is
    of at most 1,001 ids, admin_ext/admin/counts.py: never of the whole table)."""
    return [
        sql
        for sql in sqls
        if "COUNT(" in sql.upper() and not re.search(r"LIMIT \d+\) subquery$", sql)
    ]
