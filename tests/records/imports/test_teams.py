"""The care team of imported patients: any team for a data manager, and no team
only as an explicit choice, on every path (service, upload page, command line,
Resource API); the report says which before the commit."""

import io

import pytest
import tablib
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from records.audit.models import AuditEvent
from records.imports import services
from records.imports.models import ImportJob
from records.imports.resources import PatientResource
from records.imports.teams import E_TEAM_CHOICE, E_TEAM_REQUIRED
from records.patients.models import Patient
from records.patients.repositories import patients_visible_to
from records.users import roles
from tests import factories

pytestmark = pytest.mark.django_db

HEADER = b"mrn,given_name,family_name,date_of_birth,sex\n"
TWO_NEW = HEADER + (
    b"TEAM-0001,Talvi,Quennard,2025-03-14,female\n"
    b"TEAM-0002,Orrin,Velmarch,2024-02-11,male\n"
)
REFUSED = E_TEAM_CHOICE.format(count="2")


@pytest.fixture
def manager(make_user):
    return make_user("importer", roles=[roles.DATA_MANAGER])


@pytest.fixture
def clinician(make_user):
    return make_user("doc", roles=[roles.CLINICIAN])


@pytest.fixture
def team(clinician):
    """A team the data manager is not in (the demo's data manager is in none)."""
    return factories.team("Neonatal follow-up", clinician)


def imported(manager, data=TWO_NEW, **kw) -> ImportJob:
    return services.import_file(
        acting_user=manager,
        entity="patients",
        file_name="referrals.csv",
        data=data,
        reason="Referrals",
        **kw,
    )


def last_import_event() -> AuditEvent:
    return AuditEvent.objects.filter(action="import").latest("pk")


def test_new_patients_without_a_team_need_the_explicit_choice(manager):
    for dry_run in (True, False):
        job = imported(manager, dry_run=dry_run)
        assert job.status == ImportJob.Status.INVALID
        assert [(e["row"], e["message"]) for e in job.errors] == [(1, REFUSED)]
    assert not Patient.objects.exists()
    assert not AuditEvent.objects.filter(action="import").exists()


def test_no_team_chosen_explicitly_is_audited_and_seen_by_no_clinician(
    manager, clinician, team
):
    job = imported(manager, no_care_team=True)
    assert job.status == ImportJob.Status.COMMITTED and job.new == 2
    assert Patient.objects.count() == 2
    assert not patients_visible_to(clinician).exists()
    assert last_import_event().details["care_team"] is None


def test_a_data_manager_puts_new_patients_in_any_team(manager, clinician, team):
    assert not manager.groups.filter(pk=team.group_id).exists()
    job = imported(manager, care_team=team)
    assert job.status == ImportJob.Status.COMMITTED
    assert sorted(patients_visible_to(clinician).values_list("mrn", flat=True)) == [
        "TEAM-0001",
        "TEAM-0002",
    ]
    # Who may open the new charts is in the import's audit event.
    assert last_import_event().details["care_team"] == team.pk


def test_updates_and_other_records_need_no_team(manager, clinician, team):
    imported(manager, care_team=team)
    changed = TWO_NEW.replace(b"Velmarch", b"Velmarche")
    job = imported(manager, data=changed)  # no new patient: nothing to choose
    assert (job.status, job.changed) == (ImportJob.Status.COMMITTED, 1)
    job = imported(manager, data=changed, mode="update_only")
    assert job.status == ImportJob.Status.COMMITTED


def test_a_commit_that_would_make_patients_nobody_chose_a_team_for_is_refused(
    manager, s3_storage
):
    """Validated with nothing new (so no choice was asked), a patient is created
    elsewhere and deleted before the commit: the commit finds a new patient."""
    imported(manager, data=TWO_NEW, no_care_team=True)
    job = services.import_validate(
        acting_user=manager,
        entity="patients",
        file_name="referrals.csv",
        data=TWO_NEW,
        reason="Again",
    )
    assert (job.status, job.new) == (ImportJob.Status.VALIDATED, 0)
    Patient.objects.filter(mrn="TEAM-0002").delete()
    job = services.import_commit(acting_user=manager, job=job)
    assert job.status == ImportJob.Status.INVALID
    assert [e["message"] for e in job.errors] == [E_TEAM_CHOICE.format(count="1")]
    assert not Patient.objects.filter(mrn="TEAM-0002").exists()


def test_the_resource_api_obeys_the_same_rule(manager):
    dataset = tablib.Dataset().load(TWO_NEW.decode(), format="csv")
    result = PatientResource(user=manager, reason="Referrals").import_data(dataset)
    assert result.import_job.status == ImportJob.Status.INVALID
    assert not Patient.objects.exists()
    chosen = PatientResource(user=manager, reason="Referrals", no_care_team=True)
    assert chosen.import_data(dataset).totals["new"] == 2


# --- the upload page -------------------------------------------------------------


@pytest.fixture
def browser(manager, s3_storage):
    client = Client()
    client.force_login(manager)
    return client


def upload(client, **extra):
    fields = {
        "entity": "patients",
        "file": SimpleUploadedFile("referrals.csv", TWO_NEW),
        "mode": "create_or_update",
        "blank_keeps_value": "on",
        "reason": "Referrals",
        **extra,
    }
    return client.post(reverse("admin:imports_importjob_upload"), fields)


def test_the_page_asks_for_a_team_or_no_team(browser):
    page = upload(browser)
    assert page.status_code == 200
    assert page.context["form"].errors["care_team"] == [E_TEAM_REQUIRED]
    assert not ImportJob.objects.exists()
    # Updating only, or other records: no new patients, nothing to ask.
    assert upload(browser, mode="update_only").status_code == 302
    assessments = SimpleUploadedFile("a.csv", b"patient_mrn,instrument,date\n")
    assert upload(browser, entity="assessments", file=assessments).status_code == 302


def test_the_report_names_the_team_then_the_commit_puts_patients_in_it(
    browser, clinician, team
):
    response = upload(browser, care_team=str(team.pk))
    report = browser.get(response["Location"])
    content = report.content.decode()
    assert "New patients join the care team Neonatal follow-up." in content
    job = ImportJob.objects.get()
    browser.post(reverse("admin:imports_importjob_commit", args=[job.pk]))
    assert patients_visible_to(clinician).count() == 2


def test_the_report_warns_of_no_team_before_the_commit(browser, clinician):
    response = upload(browser, care_team="none")
    content = browser.get(response["Location"]).content.decode()
    assert (
        "No care team was chosen for the 2 new patients: only administrators, "
        "data managers and auditors will see their charts" in content
    )
    job = ImportJob.objects.get()
    committed = browser.post(
        reverse("admin:imports_importjob_commit", args=[job.pk]), follow=True
    )
    assert "The 2 new patients were placed in no care team" in (
        committed.content.decode()
    )
    assert Patient.objects.count() == 2
    assert not patients_visible_to(clinician).exists()


def test_a_team_outside_the_menu_is_refused(browser):
    page = upload(browser, care_team="999999")
    assert "care_team" in page.context["form"].errors
    assert not ImportJob.objects.exists()


# --- the command line ------------------------------------------------------------


def command(tmp_path, *options) -> str:
    path = tmp_path / "referrals.csv"
    path.write_bytes(TWO_NEW)
    out = io.StringIO()
    call_command(
        "import_records",
        "patients",
        str(path),
        "--user",
        "importer",
        "--reason",
        "Referrals",
        *options,
        stdout=out,
    )
    return out.getvalue()


def test_the_command_line_needs_a_team_or_no_team(manager, clinician, team, tmp_path):
    out = io.StringIO()
    with pytest.raises(CommandError, match="--care-team, or say --no-care-team"):
        call_command(
            "import_records",
            "patients",
            _file(tmp_path),
            "--user",
            "importer",
            "--reason",
            "Referrals",
            stdout=out,
        )
    assert REFUSED in out.getvalue()
    assert not Patient.objects.exists()
    with pytest.raises(CommandError, match="not allowed with argument"):
        command(tmp_path, "--care-team", team.name, "--no-care-team")
    assert "committed: 2 rows (2 new" in command(
        tmp_path, "--care-team", "Neonatal follow-up"
    )
    assert patients_visible_to(clinician).count() == 2


def test_the_command_line_makes_patients_in_no_team_when_told(
    manager, clinician, tmp_path
):
    assert "committed: 2 rows (2 new" in command(tmp_path, "--no-care-team")
    assert Patient.objects.count() == 2
    assert not patients_visible_to(clinician).exists()


def _file(tmp_path) -> str:
    path = tmp_path / "referrals.csv"
    path.write_bytes(TWO_NEW)
    return str(path)
