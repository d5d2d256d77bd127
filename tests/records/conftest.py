"""Fixtures of the domain's tests: a viewer and three charts to search and read
(the patients' and the visits' repositories); a clinician, an administrator and a
ten-month-old's chart (the assessments' and visits' services)."""

from datetime import date, timedelta

import pytest

from records.users import roles
from tests import factories

TODAY = date.today()


@pytest.fixture
def viewer(make_user):
    return make_user("viewer", roles=[roles.DATA_MANAGER])


@pytest.fixture
def patients(viewer, make_user):
    author = make_user("author", roles=[roles.CLINICIAN])
    make = factories.patient
    return {
        "smith": make(
            acting_user=author,
            mrn="NDA-1001",
            given_name="John",
            family_name="Smith",
            date_of_birth=date(2023, 5, 17),
            guardian_phone="020 7946 0001",
        ),
        "smyth": make(
            acting_user=author,
            mrn="NDA-1002",
            given_name="Jon",
            family_name="Smyth",
            date_of_birth=date(2023, 5, 17),
        ),
        "other": make(
            acting_user=author,
            mrn="NDA-2001",
            given_name="Orrin",
            family_name="Quennard",
            date_of_birth=date(2024, 1, 2),
            preferred_name="Ozzy",
        ),
    }


@pytest.fixture
def doctor(make_user):
    return make_user("doctor", roles=[roles.CLINICIAN])


@pytest.fixture
def boss(make_user):
    return make_user("boss", roles=[roles.ADMINISTRATOR])


@pytest.fixture
def patient(doctor):
    return factories.patient(acting_user=doctor, date_of_birth=TODAY - timedelta(300))
