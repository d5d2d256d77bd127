"""The data manager's import pages: upload, report, error file, commit, templates."""

import csv
import io

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from records.imports.models import ImportJob
from records.patients.models import Patient
from records.users import roles
from tests.helpers import BAD, GOOD, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(import_client):
    return import_client


def test_upload_report_and_commit(manager, s3_storage):
    response = upload(manager, GOOD)
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "admin:imports_importjob_report", args=[job.pk]
    )
    assert s3_storage.exists(job.stored_as) and "patients" not in job.stored_as
    report = manager.get(response["Location"])
    content = report.content.decode()
    assert report.context["can_commit"]
    assert "IMP-0001" in content and "Given name" in content  # the preview
    assert not Patient.objects.exists()  # nothing before the commit
    committed = manager.post(
        reverse("admin:imports_importjob_commit", args=[job.pk]), follow=True
    )
    assert "committed: 1 new" in committed.content.decode()
    job.refresh_from_db()
    assert job.status == ImportJob.Status.COMMITTED and job.stored_as == ""
    assert Patient.objects.get().history.get().history_change_reason == (
        f"import #{job.pk}: Quarterly upload"
    )
    again = manager.post(
        reverse("admin:imports_importjob_commit", args=[job.pk]), follow=True
    )
    assert "Only a validated import" in again.content.decode()
    assert Patient.objects.count() == 1


def test_errors_are_listed_and_downloadable_with_an_error_column(manager):
    upload(manager, BAD)
    job = ImportJob.objects.get()
    report = manager.get(reverse("admin:imports_importjob_report", args=[job.pk]))
    assert not report.context["can_commit"]
    content = report.content.decode()
    assert "MRN must be 4 to 20 characters" in content
    assert "There is no 30 February 2024." in content  # not "Enter a date"
    download = manager.get(reverse("admin:imports_importjob_errors", args=[job.pk]))
    assert download["Content-Disposition"] == (
        f'attachment; filename="ndas-import-{job.pk}-errors.csv"'
    )
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert rows[0][-1] == "errors"
    assert rows[1][-1] == ""
    assert rows[2][0] == "x" and "mrn: MRN must be" in rows[2][-1]
    assert "date_of_birth: There is no 30 February 2024." in rows[2][-1]
    assert (
        manager.post(
            reverse("admin:imports_importjob_commit", args=[job.pk])
        ).status_code
        == 302
    )
    assert not Patient.objects.exists()


def test_a_reason_is_required_on_the_form(manager):
    response = upload(manager, GOOD, reason="")
    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_templates_describe_every_column(manager):
    xlsx = manager.get(
        reverse("admin:imports_importjob_template", args=["patients", "xlsx"])
    )
    workbook = load_workbook(io.BytesIO(xlsx.content))
    assert workbook.sheetnames == ["data", "columns"]
    header = [c.value for c in workbook["data"][1]]
    assert header[:3] == ["mrn", "given_name", "family_name"]
    described = {row[0].value for row in workbook["columns"].iter_rows(min_row=2)}
    assert described == set(header)
    text = manager.get(
        reverse("admin:imports_importjob_template", args=["assessments", "csv"])
    ).content.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("patient_mrn,instrument,performed_on")
    assert (
        manager.get(
            reverse("admin:imports_importjob_template", args=["nothing", "csv"])
        ).status_code
        == 404
    )


def test_only_importers_see_the_upload_page(make_user):
    for role in (roles.CLINICIAN, roles.AUDITOR):
        client = Client()
        client.force_login(make_user(f"u-{role}", roles=[role]))
        assert client.get(reverse("admin:imports_importjob_upload")).status_code == 403


def test_someone_elses_import_is_not_committed_by_me(manager, make_user):
    upload(manager, GOOD)
    job = ImportJob.objects.get()
    other = Client()
    other.force_login(make_user("other-importer", roles=[roles.DATA_MANAGER]))
    assert not other.get(
        reverse("admin:imports_importjob_report", args=[job.pk])
    ).context["can_commit"]
    assert (
        other.post(reverse("admin:imports_importjob_commit", args=[job.pk])).status_code
        == 403
    )
    assert not Patient.objects.exists()


def test_old_uploads_and_their_cell_values_are_forgotten(manager, s3_storage):
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    upload(manager, GOOD)  # validated, waiting for a commit
    upload(manager, BAD)  # has errors: kept for its error file
    waiting, invalid = ImportJob.objects.order_by("pk")
    fresh = upload(manager, GOOD.replace(b"IMP-0001", b"IMP-0002"))
    assert fresh.status_code == 302
    stored = [waiting.stored_as, invalid.stored_as]
    assert [e["value"] for e in invalid.errors] == ["x", "2024-02-30"]
    assert waiting.preview
    ImportJob.objects.filter(pk__in=[waiting.pk, invalid.pk]).update(
        created_at=timezone.now() - timedelta(days=31)
    )
    out = io.StringIO()
    call_command("expire_imports", stdout=out)
    assert "2 uploads deleted, cell values forgotten in 2 imports" in out.getvalue()
    waiting.refresh_from_db()
    invalid.refresh_from_db()
    assert not any(s3_storage.exists(key) for key in stored)
    assert waiting.status == ImportJob.Status.EXPIRED and waiting.stored_as == ""
    assert waiting.preview == [] and waiting.new == 1  # the counts stay
    assert invalid.status == ImportJob.Status.INVALID
    assert [e["value"] for e in invalid.errors] == ["", ""]
    assert all(e["message"] for e in invalid.errors)  # what was wrong stays
    # The newer upload is untouched; the expired one cannot be committed.
    latest = ImportJob.objects.latest("pk")
    assert latest.stored_as and s3_storage.exists(latest.stored_as)
    report = manager.get(reverse("admin:imports_importjob_report", args=[waiting.pk]))
    assert not report.context["can_commit"]
    assert "Expired" in report.content.decode()
    errors = manager.get(reverse("admin:imports_importjob_errors", args=[invalid.pk]))
    assert errors.status_code == 404
    listing = manager.get(reverse("admin:imports_importjob_changelist"))
    assert listing.status_code == 200 and "expired" in listing.content.decode()
    # A second run finds nothing more to do.
    out = io.StringIO()
    call_command("expire_imports", "--days", "30", stdout=out)
    assert "0 uploads deleted, cell values forgotten in 0 imports" in out.getvalue()


def test_expire_imports_wants_a_positive_number_of_days():
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="--days must be 1 or more"):
        call_command("expire_imports", "--days", "0")


def test_the_upload_offers_every_team_and_the_choice_of_none(manager, make_user):
    """Importers open every chart, so they may put new patients in any team
    (the demo data manager is in none); "no team" is a choice of its own."""
    from tests import factories

    factories.team("Neonatal follow-up", make_user("doc", roles=[roles.CLINICIAN]))
    factories.team("Autism assessment")
    page = manager.get(reverse("admin:imports_importjob_upload"))
    choices = page.context["form"].fields["care_team"].choices
    assert [label for _, label in choices] == [
        "Choose a care team",
        "Autism assessment",
        "Neonatal follow-up",
        "No team: only administrators, data managers and auditors will see them",
    ]
