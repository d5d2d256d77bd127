"""Builders of valid chart data for tests; every write goes through the services."""

from datetime import date, timedelta
from decimal import Decimal
from itertools import count

from django.contrib.auth.models import Group

from records.clinical_records import services as visit_services
from records.patients import services
from records.users import roles
from records.users.models import CareTeam, User

_sequence = count(1)


def clinician(username: str | None = None) -> User:
    user = User.objects.create_user(
        username=username or f"clin{next(_sequence)}",
        password="correct-horse-battery-staple",
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
