"""django-import-export's Resource API, answered by the NDAS services."""

import pytest
import tablib
from django.core.exceptions import PermissionDenied, ValidationError

from records.imports.models import ExportJob, ImportJob
from records.imports.resources import (
    AssessmentResource,
    ClinicalRecordResource,
    PatientResource,
)
from records.patients.models import Patient
from records.users import roles
from tests import factories

pytestmark = pytest.mark.django_db

HEADERS = ["mrn", "given_name", "family_name", "date_of_birth", "sex"]


def dataset(*rows) -> tablib.Dataset:
    return tablib.Dataset(*rows, headers=HEADERS)


@pytest.fixture
def manager(make_user):
    return make_user("importer", roles=[roles.DATA_MANAGER])


def test_an_import_goes_through_the_service(manager):
    rows = dataset(
        ["RES-0001", "Talvi", "Quennard", "2025-03-14", "female"],
        ["RES-0002", "Orrin", "Velmarch", "14/03/2025", "Male"],
    )
    resource = PatientResource(user=manager, reason="Referrals", no_care_team=True)
    checked = resource.import_data(rows, dry_run=True)
    assert checked.totals["new"] == 2 and not checked.has_validation_errors()
    assert checked.import_job.status == ImportJob.Status.VALIDATED
    assert not Patient.objects.exists()
    result = resource.import_data(rows)
    assert result.import_job.status == ImportJob.Status.COMMITTED
    assert (result.total_rows, result.totals["new"]) == (2, 2)
    entry = Patient.objects.get(mrn="RES-0002").history.get()
    assert entry.history_change_reason == f"import #{result.import_job.pk}: Referrals"
    assert resource.import_data(rows).totals["skip"] == 2  # nothing written again


def test_invalid_rows_come_back_as_import_export_invalid_rows(manager):
    rows = dataset(
        ["RES-0001", "Talvi", "Quennard", "2025-03-14", "female"],
        ["RES-0002", "Orrin", "", "2099-01-01", "?"],
    )
    resource = PatientResource(user=manager, reason="Referrals", no_care_team=True)
    result = resource.import_data(rows)
    assert result.has_validation_errors() and result.totals["invalid"] == 1
    (invalid,) = result.invalid_rows
    assert invalid.number == 3
    assert set(invalid.field_specific_errors) == {
        "family_name",
        "date_of_birth",
        "sex",
    }
    assert not Patient.objects.exists()  # all or nothing
    with pytest.raises(ValidationError):
        resource.import_data(rows, raise_errors=True)


def test_an_export_is_the_services_export(manager, make_user):
    doctor = make_user("doc", roles=[roles.CLINICIAN])
    mine = factories.patient(acting_user=doctor, family_name="=1+1")
    other = factories.patient(acting_user=make_user("locum", roles=[roles.CLINICIAN]))
    exported = PatientResource(user=manager).export(
        export_fields=["mrn", "family_name"]
    )
    assert exported.headers == ["mrn", "family_name"]
    assert sorted(exported["mrn"]) == sorted([mine.mrn, other.mrn])
    assert "'=1+1" in exported["family_name"]  # escaped, as every export
    job = ExportJob.objects.get()
    assert (job.user, job.row_count, job.completed) == (manager, 2, True)
    # A queryset narrows the export.
    narrowed = PatientResource(user=manager).export(
        queryset=Patient.objects.filter(pk=mine.pk)
    )
    assert narrowed["mrn"] == [mine.mrn]


def test_who_may_import_and_export_is_the_services_answer(make_user):
    clinician = make_user("doc", roles=[roles.CLINICIAN])
    with pytest.raises(PermissionDenied):
        PatientResource(user=clinician, reason="x").import_data(dataset())
    with pytest.raises(PermissionDenied):
        AssessmentResource(user=clinician).export()
    with pytest.raises(PermissionDenied):
        ClinicalRecordResource(user=clinician, reason="x").import_data(dataset())
