"""manage.py import_records: the command line's import, as a data manager runs it."""

import io

import pytest
from django.core.management import CommandError, call_command

from records.imports.models import ImportJob
from records.patients.models import Patient
from records.patients.repositories import patients_visible_to
from records.users import roles
from tests import factories

pytestmark = pytest.mark.django_db

GOOD = (
    "mrn,given_name,family_name,date_of_birth,sex\n"
    "CLI-0001,Talvi,Quennard,2025-03-14,female\n"
)
BAD = GOOD + "CLI-0002,Orrin,Velmarch,2024-02-30,male\n"


@pytest.fixture
def manager(make_user):
    return make_user("bulk", roles=[roles.DATA_MANAGER])


def run(path, *options) -> str:
    out = io.StringIO()
    call_command("import_records", "patients", str(path), *options, stdout=out)
    return out.getvalue()


def test_a_file_is_checked_then_committed(manager, make_user, tmp_path):
    path = tmp_path / "referrals.csv"
    path.write_text(GOOD)
    out = run(path, "--user", "bulk", "--dry-run", "--no-care-team")
    assert "validated, not committed: 1 rows (1 new" in out
    assert not Patient.objects.exists()
    clinician = make_user("doc", roles=[roles.CLINICIAN])
    factories.team("Neonatal follow-up", clinician)
    make_user("chief", roles=[roles.ADMINISTRATOR])  # assigns to any team
    out = run(
        path,
        "--user",
        "chief",
        "--reason",
        "October referrals",
        "--care-team",
        "Neonatal follow-up",
    )
    assert "committed: 1 rows (1 new, 0 changed" in out
    patient = Patient.objects.get()
    job = ImportJob.objects.latest("pk")
    assert patient.history.get().history_change_reason == (
        f"import #{job.pk}: October referrals"
    )
    assert list(patients_visible_to(clinician)) == [patient]  # the chosen team


def test_blank_overwrites_clears_stored_values(manager, tmp_path):
    path = tmp_path / "p.csv"
    path.write_text(
        GOOD.replace("sex\n", "sex,city\n").replace("female\n", "female,Arnsby\n")
    )
    run(path, "--user", "bulk", "--reason", "First", "--no-care-team")
    path.write_text(
        GOOD.replace("sex\n", "sex,city\n").replace("female\n", "female,\n")
    )
    run(path, "--user", "bulk", "--reason", "Keep")
    assert Patient.objects.get().city == "Arnsby"
    run(path, "--user", "bulk", "--reason", "Clear", "--blank-overwrites")
    assert Patient.objects.get().city == ""


def test_errors_are_listed_and_nothing_is_written(manager, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(BAD)
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 invalid row"):
        call_command(
            "import_records",
            "patients",
            str(path),
            "--user",
            "bulk",
            "--reason",
            "x",
            "--no-care-team",
            stdout=out,
        )
    assert "row 3, date_of_birth:" in out.getvalue()
    assert not Patient.objects.exists()


@pytest.mark.parametrize(
    "options, message",
    [
        (["--user", "nobody"], "No active user 'nobody'"),
        (["--user", "bulk", "--care-team", "Nowhere"], "No care team 'Nowhere'"),
        (["--user", "doc"], "You may not import spreadsheets"),
        (["--user", "bulk"], "Give the reason for this import"),
    ],
)
def test_what_stops_an_import_before_it_starts(
    manager, make_user, tmp_path, options, message
):
    make_user("doc", roles=[roles.CLINICIAN])
    path = tmp_path / "p.csv"
    path.write_text(GOOD)
    with pytest.raises(CommandError, match=message):
        run(path, *options)
    with pytest.raises(CommandError, match="Cannot read"):
        run(tmp_path / "missing.csv", "--user", "bulk", "--reason", "x")
    assert not Patient.objects.exists()
