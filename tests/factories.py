"""Builders of valid chart data for tests: every write goes through the services,
but charts_bulk_create's (rows alone, for tests of size)."""

import uuid
from datetime import date, timedelta
from decimal import Decimal
from itertools import count

from django.contrib.auth.models import Group, Permission

from records.clinical_records import services as visit_services
from records.clinical_records.models import ClinicalRecord
from records.patients import services
from records.patients.models import (
    Assessment,
    MediaFile,
    Patient,
    PatientGroupObjectPermission,
)
from records.users import roles
from records.users.models import CareTeam, User
from tests.helpers import TEST_PASSWORD

_sequence = count(1)


def clinician(username: str | None = None) -> User:
    user = User.objects.create_user(
        username=username or f"clin{next(_sequence)}",
        password=TEST_PASSWORD,
        is_staff=True,
    )
    user.groups.add(Group.objects.get(name=roles.CLINICIAN))
    return user


def patient_data(**overrides) -> dict:
    n = next(_sequence)
    data = {
        "mrn": f"TST-{n:05d}",
        "given_name": "Talvi",
        "family_name": f"Quennard{n}",
        "date_of_birth": date.today() - timedelta(days=400),
        "sex": "female",
    }
    data.update(overrides)
    return data


def team(name: str, *members: User) -> CareTeam:
    """A care team (made once per name) with these members added."""
    found = CareTeam.objects.filter(name=name).first()
    if found is None:
        group = Group.objects.create(name=name)
        found = CareTeam.objects.create(name=name, group=group)
    for member in members:
        member.groups.add(found.group)
    return found


def patient(*, acting_user, care_teams=None, **overrides):
    """A patient in `care_teams`; by default in a team of the acting user's own,
    unless that user opens every chart anyway."""
    if care_teams is None:
        if acting_user.has_perm("patients.view_all_patients"):
            care_teams = []
        else:
            care_teams = [team(f"Team of {acting_user.username}", acting_user)]
            acting_user = type(acting_user).objects.get(pk=acting_user.pk)
    return services.patient_create(
        acting_user=acting_user,
        data=patient_data(**overrides),
        care_teams=care_teams,
        reason="test",
    )


def assessment(*, acting_user, patient, **overrides):
    data = {
        "patient": patient,
        "instrument": "hine",
        # Distinct days: (patient, instrument, date) identifies an assessment.
        "performed_on": date.today() - timedelta(days=1 + next(_sequence) % 300),
        "assessor": acting_user,
        "total_score": Decimal("60"),
        "outcome": "typical",
    }
    data.update(overrides)
    return services.assessment_create(acting_user=acting_user, data=data)


def visit(*, acting_user, patient, **overrides):
    data = {
        "patient": patient,
        "visit_date": date.today() - timedelta(days=1 + next(_sequence) % 300),
        "visit_type": "follow_up",
        "clinician": acting_user,
        "diagnoses": ["F84.0"],
    }
    data.update(overrides)
    # Measurements a child of that age could have (rcpchgrowth refuses those beyond
    # 8 SD): the reference's median, unless the test names its own.
    for field, method, default in (
        ("weight_kg", "weight", Decimal("9.5")),
        ("height_cm", "height", Decimal("75.0")),
    ):
        if field not in data:
            data[field] = typical_measurement(
                patient, data["visit_date"], method, default
            )
    return visit_services.clinical_record_create(acting_user=acting_user, data=data)


def typical_measurement(patient, on: date, method: str, default: Decimal) -> Decimal:
    """The growth reference's median `method` for the patient at `on`, to one
    decimal; `default` where no reference covers them."""
    from rcpchgrowth.date_calculations import corrected_decimal_age
    from rcpchgrowth.global_functions import measurement_from_sds

    if patient.sex not in ("male", "female") or on < patient.date_of_birth:
        return default
    try:
        age = corrected_decimal_age(
            birth_date=patient.date_of_birth,
            observation_date=on,
            gestation_weeks=patient.gestational_age_weeks or 40,
            gestation_days=patient.gestational_age_days or 0,
        )
        value = measurement_from_sds(
            reference=patient.growth_reference,
            requested_sds=0,
            measurement_method=method,
            sex=patient.sex,
            age=age,
        )
    except Exception:  # no reference data at that age
        return default
    if not value:
        return default
    return Decimal(str(value)).quantize(Decimal("0.1"))


# --- in bulk --------------------------------------------------------------------------
# Charts made in bulk for tests of size (query counts, plans): no history, no audit,
# no files in storage, only rows as the lists read them.


def charts_bulk_create(
    count: int, *, teams, staff, start: int = 0, records: bool = True
) -> list[Patient]:
    """`count` charts, dealt round the `teams` in turn, each (with `records`) with
    an assessment, a visit and a media file recorded by `staff`."""
    born = date(2020, 1, 1)
    patients = Patient.objects.bulk_create(
        Patient(
            mrn=f"BULK-{n:07d}",
            given_name=("Amara", "Noah", "Isla", "Leo")[n % 4],
            family_name=f"Bulkley{n}",
            date_of_birth=born + timedelta(days=n % 900),
            sex="female",
        )
        for n in range(start, start + count)
    )
    permissions = list(
        Permission.objects.filter(
            content_type__app_label="patients",
            codename__in=("view_patient", "change_patient"),
        )
    )
    PatientGroupObjectPermission.objects.bulk_create(
        PatientGroupObjectPermission(
            content_object=patient,
            group_id=teams[n % len(teams)].group_id,
            permission=permission,
        )
        for n, patient in enumerate(patients)
        for permission in permissions
    )
    if not records:
        return patients
    Assessment.objects.bulk_create(
        Assessment(
            patient=patient,
            instrument="hine",
            performed_on=patient.date_of_birth + timedelta(days=90),
            assessor=staff,
            total_score=Decimal("60"),
            outcome="typical",
        )
        for patient in patients
    )
    ClinicalRecord.objects.bulk_create(
        ClinicalRecord(
            patient=patient,
            visit_date=patient.date_of_birth + timedelta(days=100),
            visit_type="follow_up",
            clinician=staff,
            diagnoses=["F84.0"],
        )
        for patient in patients
    )
    MediaFile.objects.bulk_create(
        MediaFile(
            patient=patient,
            kind="image",
            file=f"media/{uuid.uuid4().hex}.png",
            original_name="scan.png",
            content_type="image/png",
            size_bytes=100,
            sha256="0" * 64,
            uploaded_by=staff,
        )
        for patient in patients
    )
    return patients
