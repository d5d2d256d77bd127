"""The import and export pages in a clinic's words (#17, the data manager's walk):
field names and choice labels rather than code names, dates as 17 May 2023, an
impossible date named, a file of the wrong kind told in one message, and lists
named as the sidebar names them."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from records.imports.models import ExportJob, ImportJob
from records.imports.wording import impossible_date
from records.users import roles

pytestmark = pytest.mark.django_db

HEADER = (
    b"mrn,given_name,family_name,date_of_birth,sex,guardian_relationship,"
    b"gestational_age_weeks\n"
)
GOOD = HEADER + b"PLN-0001,Amira,Okafor,2024-02-10,female,legal_guardian,39\n"


@pytest.fixture
def manager(make_user, s3_storage):
    client = Client()
    client.force_login(make_user("plainwords", roles=[roles.DATA_MANAGER]))
    return client


def upload(client, data, entity="patients"):
    return client.post(
        reverse("admin:imports_importjob_upload"),
        {
            "entity": entity,
            "file": SimpleUploadedFile("referrals.csv", data),
            "mode": "create_or_update",
            "blank_keeps_value": "on",
            "reason": "New referrals",
            "care_team": "none",
        },
        follow=True,
    )


def test_the_preview_names_fields_and_shows_values_as_ndas_does(manager):
    page = upload(manager, GOOD).content.decode()
    assert "Preview of the first changes" in page
    assert "Given name: — → Amira" in page
    assert "Date of birth: — → 10 Feb 2024" in page
    assert "Guardian relationship: — → Legal guardian" in page
    assert "Gestation at birth (weeks): — → 39" in page
    for code_name in ("given_name", "date_of_birth", "2024-02-10", "legal_guardian"):
        assert code_name not in page
    # Plainer header: no hash, and the time taken in seconds.
    assert "SHA-256" not in page and " ms" not in page
    assert "checked in " in page and " s\n" in page
    job = ImportJob.objects.get()
    committed = manager.post(
        reverse("admin:imports_importjob_commit", args=[job.pk]), follow=True
    ).content.decode()
    assert "referrals.csv committed: 1 new" in committed
    assert "First changes made" in committed
    assert "Preview of the first changes" not in committed


def test_the_auditor_sees_the_file_fingerprint(make_user, manager):
    upload(manager, GOOD)
    job = ImportJob.objects.get()
    auditor = Client()
    auditor.force_login(make_user("plainaudit", roles=[roles.AUDITOR]))
    page = auditor.get(reverse("admin:imports_importjob_report", args=[job.pk]))
    assert page.status_code == 200  # auditors read every import
    assert "File fingerprint (SHA-256)" in page.content.decode()
    assert job.sha256 in page.content.decode()


def test_a_choice_error_lists_the_labels_and_the_codes_read():
    from records.imports.entities import ENTITIES

    column = ENTITIES["patients"].column("guardian_relationship")
    with pytest.raises(Exception) as error:
        column.clean("uncle")
    message = error.value.messages[0]
    assert message.startswith("Not one of: Mother, Father, Grandparent, ")
    assert "Foster carer (foster_carer)" in message
    assert "Legal guardian (legal_guardian)" in message
    # Both spellings are read, whatever their case.
    assert column.clean("Legal guardian") == column.clean("LEGAL_GUARDIAN")


@pytest.mark.parametrize(
    "raw, message",
    [
        ("2025-02-30", "There is no 30 February 2025."),
        ("30/02/2025", "There is no 30 February 2025."),
        ("29.02.2023", "There is no 29 February 2023."),
        ("31-04-2024", "There is no 31 April 2024."),
        ("2024-13-01", "There is no month 13: write the day first (DD/MM/YYYY)."),
        ("29/02/2024", None),  # a leap year's day is a date
        ("14th March", None),  # not a date: the format is asked for
    ],
)
def test_an_impossible_date_is_named(raw, message):
    assert impossible_date(raw) == message


def test_the_report_names_the_impossible_date(manager):
    bad = HEADER + b"PLN-0002,Ben,Hughes,2025-02-30,male,,38\n"
    page = upload(manager, bad).content.decode()
    assert "There is no 30 February 2025." in page
    assert "Enter a date as YYYY-MM-DD" not in page


def test_a_patients_file_chosen_as_assessments_is_one_clear_error(manager):
    page = upload(manager, GOOD, entity="assessments").content.decode()
    job = ImportJob.objects.get()
    assert [e["message"] for e in job.errors] == [
        "This looks like a Patients file, not assessments: choose Patients under "
        "Records, or check the header row."
    ]
    assert "Unknown column" not in page and "This column is missing" not in page


def test_a_file_with_one_wrong_column_still_names_it(manager):
    one_wrong = GOOD.replace(b"given_name", b"first_name", 1)
    upload(manager, one_wrong)
    unknown, missing = ImportJob.objects.get().errors
    assert unknown["column"] == "first_name"
    assert unknown["message"].startswith("Unknown column.")
    assert (missing["column"], missing["message"]) == (
        "given_name",
        "This column is missing.",
    )


def test_the_export_form_names_columns_and_says_export(manager):
    page = manager.get(reverse("admin:patients_patient_export"))
    content = page.content.decode()
    assert "Gestation at birth (weeks)" in content
    assert "Address line 1" in content
    assert ">gestational_age_weeks<" not in content.replace(" ", "").replace("\n", "")
    # The header: Patient charts > Patients > Export.
    header = content[content.index("<h1") : content.index("</h1>")]
    assert "Patients" in header and "Export" in header
    # The values sent stay the file's column names.
    assert 'value="gestational_age_weeks"' in content


def test_the_import_list_names_each_import_and_shows_labels(manager):
    upload(manager, GOOD)
    job = ImportJob.objects.get()
    page = manager.get(reverse("admin:imports_importjob_changelist"))
    content = page.content.decode()
    assert "referrals.csv, " in content
    assert "Validated, not committed" in content
    assert f">#{job.pk}<" not in content
    header = content[content.index("<h1") : content.index("</h1>")]
    assert "Imports" in header and "Import jobs" not in header
    assert "What" in content and "Entity" not in content


def test_the_export_list_reads_plainly(manager):
    manager.post(
        reverse("admin:patients_patient_export"),
        {"file_format": "csv", "columns": ["mrn", "given_name"]},
    ).getvalue()
    assert ExportJob.objects.get().status == ExportJob.Status.COMPLETED
    content = manager.get(reverse("admin:imports_exportjob_changelist")).content
    content = content.decode()
    header = content[content.index("<h1") : content.index("</h1>")]
    assert "Exports" in header and "Export jobs" not in header
    for shown in ("What", "Rows", "CSV", "Sent to the browser", "Completed"):
        assert shown in content
    for code in ("Entity", "Row count", "Export jobs"):
        assert code not in content
    # Its filters: the kind of records as "What", the format by its name.
    assert 'title="Excel"' in content and ">xlsx<" not in content
    assert "By what" in content and "By entity" not in content
    csv_only = manager.get(
        reverse("admin:imports_exportjob_changelist"), {"file_format": "xlsx"}
    )
    assert list(csv_only.context["cl"].result_list) == []


def test_an_assessment_preview_names_the_patient_and_the_assessor(manager, make_user):
    from datetime import date

    from tests import factories

    doctor = make_user("plaindoc", roles=[roles.CLINICIAN])
    doctor.first_name, doctor.last_name = "Ada", "Okoro"
    doctor.save()
    patient = factories.patient(acting_user=doctor, date_of_birth=date(2025, 1, 1))
    data = (
        "patient_mrn,instrument,performed_on,assessor_username,total_score,outcome\n"
        f"{patient.mrn},hine,2026-01-10,plaindoc,61,typical\n"
    ).encode()
    page = upload(manager, data, entity="assessments").content.decode()
    [item] = ImportJob.objects.get().preview
    assert item["key"].startswith(f"{patient.pk} / ")  # as stored: ids
    assert f'<td class="pr-4">{patient.mrn} / ' in page
    assert f"Patient: — → {patient.mrn}" in page
    assert "Assessor: — → Ada Okoro" in page
    assert "Performed on: — → 10 Jan 2026" in page


def test_an_exports_page_reads_as_its_list(manager, make_user):
    url = reverse("admin:patients_patient_export")
    manager.post(
        url + "?status__exact=active",
        {"file_format": "xlsx", "columns": ["mrn", "gestational_age_weeks"]},
    )
    job = ExportJob.objects.get()
    page = reverse("admin:imports_exportjob_change", args=[job.pk])
    content = manager.get(page).content.decode()
    assert "MRN, Gestation at birth (weeks)" in content
    assert "Status: active" in content and "Excel" in content
    for code in ("gestational_age_weeks", "status__exact", "SHA-256", "Entity"):
        assert code not in content
    auditor = Client()
    auditor.force_login(make_user("exportaudit", roles=[roles.AUDITOR]))
    content = auditor.get(page).content.decode()
    assert "File fingerprint (SHA-256)" in content and job.sha256 in content


def test_the_templates_column_sheet_reads_plainly(manager):
    import io

    from openpyxl import load_workbook

    xlsx = manager.get(
        reverse("admin:imports_importjob_template", args=["clinical_records", "xlsx"])
    )
    rows = list(load_workbook(io.BytesIO(xlsx.content))["columns"].values)
    assert rows[0] == ("Column", "Required", "Key", "Description", "Example")
    about = {row[0]: row for row in rows[1:]}
    assert about["patient_mrn"][1:3] == ("Yes", "Yes")
    assert about["spo2"][3].startswith("SpO2")
    assert about["temperature_c"][3].startswith("Temperature (°C)")
    assert about["visit_type"][3] == (
        "Visit type. One of: New, Follow-up (follow_up), Urgent, Telehealth."
    )
