"""Imports keep the growth figures as the services do: a visit's from its own row,
and every visit's again when a patient's row changes what they depend on."""

from datetime import date
from decimal import Decimal

import pytest

from records.clinical_records import growth
from records.clinical_records.models import ClinicalRecord
from records.clinical_records.services import GROWTH_RECOMPUTED_REASON
from records.imports.models import ImportJob
from records.patients.models import Patient
from records.users import roles
from tests import factories
from tests.helpers import csv_bytes, patient_row, run

pytestmark = pytest.mark.django_db
VISIT_HEADER = [
    "patient_mrn",
    "clinician_username",
    "visit_date",
    "visit_type",
    "weight_kg",
    "height_cm",
    "head_circumference_cm",
]


@pytest.fixture
def manager(make_user):
    return make_user("importer", roles=[roles.DATA_MANAGER])


def expected(patient, on, name, value) -> growth.Figure:
    return growth.figure_for(
        growth.GrowthInput(
            sex=patient.sex,
            born=patient.date_of_birth,
            on=on,
            reference=patient.growth_reference,
            gestation_weeks=patient.gestational_age_weeks,
            gestation_days=patient.gestational_age_days,
        ),
        name,
        Decimal(value),
    )


def test_imported_visits_carry_their_growth_figures(manager, make_user):
    doctor = make_user("doc", roles=[roles.CLINICIAN])
    patient = factories.patient(
        acting_user=doctor, date_of_birth=date(2024, 2, 1), sex="male"
    )
    visits = csv_bytes(
        [[patient.mrn, "doc", "2026-01-12", "new", "12.1", "86.5", "48.0"]],
        header=VISIT_HEADER,
    )
    job = run(manager, visits, entity="clinical_records")
    assert job.status == ImportJob.Status.COMMITTED, job.errors
    visit = ClinicalRecord.objects.get()
    on = date(2026, 1, 12)
    assert visit.weight_sds == expected(patient, on, "weight", "12.1").sds
    assert visit.height_centile == expected(patient, on, "height", "86.5").centile
    assert (
        visit.head_circumference_sds
        == expected(patient, on, "head_circumference", "48.0").sds
    )
    assert visit.bmi_sds is not None
    # The same file again changes nothing.
    again = run(manager, visits, entity="clinical_records", reason="Again")
    assert again.changed == 0 and again.unchanged == 1


def test_an_implausible_measurement_is_refused_in_rcpchgrowths_words(
    manager, make_user
):
    doctor = make_user("doc", roles=[roles.CLINICIAN])
    patient = factories.patient(
        acting_user=doctor, date_of_birth=date(2022, 2, 1), sex="male"
    )
    visits = csv_bytes(
        [[patient.mrn, "doc", "2026-01-12", "new", "150", "", ""]],
        header=VISIT_HEADER,
    )
    job = run(manager, visits, entity="clinical_records")
    assert job.status == ImportJob.Status.INVALID
    assert any("above +8 SD" in e["message"] for e in job.errors), job.errors
    assert not ClinicalRecord.objects.exists()


def test_a_patient_row_changing_gestation_recomputes_the_visits(manager, make_user):
    run(manager, csv_bytes([patient_row(1, date_of_birth="2025-03-14", sex="male")]))
    patient = Patient.objects.get()
    chief = make_user("chief", roles=[roles.ADMINISTRATOR])
    visit = factories.visit(
        acting_user=chief,
        patient=patient,
        visit_date=date(2025, 9, 14),
        weight_kg=Decimal("6.0"),
        height_cm=None,
    )
    term = visit.weight_sds
    rows = csv_bytes(
        [patient_row(1, date_of_birth="2025-03-14", sex="male") + ["30", "2"]],
        header=[
            "mrn",
            "given_name",
            "family_name",
            "date_of_birth",
            "sex",
            "gestational_age_weeks",
            "gestational_age_days",
        ],
    )
    job = run(manager, rows)
    assert job.changed == 1, job.errors
    visit.refresh_from_db()
    assert visit.weight_sds > term
    latest = visit.history.order_by("-history_id").first()
    assert latest.history_change_reason == GROWTH_RECOMPUTED_REASON
    assert latest.history_user == manager
