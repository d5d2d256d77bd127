"""Reads: what a user may see, each search mode, the chart, likely duplicates."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from records.clinical_records.repositories import patient_chart
from records.patients import repositories
from records.users import roles
from tests import factories

pytestmark = pytest.mark.django_db


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


def found(viewer, query):
    return [p.mrn for p in repositories.patient_search(user=viewer, query=query)]


def test_exact_mrn_in_any_case(viewer, patients):
    assert found(viewer, " nda-2001 ") == ["NDA-2001"]


def test_name_prefix_over_given_family_and_preferred(viewer, patients):
    assert found(viewer, "Quen") == ["NDA-2001"]
    assert found(viewer, "ozz") == ["NDA-2001"]
    assert found(viewer, "orrin quenn") == ["NDA-2001"]


def test_fuzzy_name_finds_misspellings_best_first(viewer, patients):
    misspelt = found(viewer, "Smiht")
    assert misspelt[0] == "NDA-1001" and "NDA-2001" not in misspelt
    assert found(viewer, "John Smith")[0] == "NDA-1001"


@pytest.mark.parametrize("text", ["2023-05-17", "17/05/2023", "17.05.2023"])
def test_date_of_birth_in_common_formats(viewer, patients, text):
    assert sorted(found(viewer, text)) == ["NDA-1001", "NDA-1002"]


def test_empty_query_lists_everything_visible(viewer, patients):
    assert len(found(viewer, "   ")) == 3


def test_nothing_is_visible_without_the_permission(make_user, patients):
    nobody = make_user("nobody")
    assert found(nobody, "Smith") == []
    assert not repositories.patients_visible_to(nobody).exists()
    assert not repositories.patients_visible_to(None).exists()


def test_inactive_users_see_nothing(make_user, patients):
    user = make_user("gone", roles=[roles.AUDITOR], is_active=False)
    assert not repositories.patients_visible_to(user).exists()


def test_duplicates_by_birthday_and_similar_name(viewer, patients):
    dupes = repositories.patient_duplicates(
        user=viewer,
        date_of_birth=date(2023, 5, 17),
        given_name="Jon",
        family_name="Smith",
    )
    assert {p.mrn for p in dupes} == {"NDA-1001", "NDA-1002"}


def test_a_shared_guardian_phone_alone_is_a_sibling_not_a_duplicate(viewer, patients):
    dupes = repositories.patient_duplicates(
        user=viewer,
        date_of_birth=date(2020, 1, 1),
        given_name="Someone",
        family_name="Else",
        guardian_phone="+442079460001",
    )
    assert dupes == []


def test_no_duplicates_for_a_different_child(viewer, patients):
    assert (
        repositories.patient_duplicates(
            user=viewer,
            date_of_birth=date(2023, 5, 17),
            given_name="Talvi",
            family_name="Orrinsdottir",
        )
        == []
    )
    same = patients["smith"]
    assert (
        repositories.patient_duplicates(
            user=viewer,
            date_of_birth=same.date_of_birth,
            given_name="Xavi",
            family_name="Brelling",
            exclude_pk=same.pk,
        )
        == []
    )


def chart_queries(viewer, pk) -> int:
    viewer = type(viewer).objects.get(pk=viewer.pk)  # no permission cache
    with CaptureQueriesContext(connection) as queries:
        chart = patient_chart(user=viewer, pk=pk)
        for assessment in chart.assessments.all():
            assert assessment.assessor.username
        for visit in chart.clinical_records.all():
            assert visit.clinician.username
        list(chart.media_files.all())
    return len(queries)


def test_chart_loads_in_a_fixed_number_of_queries(viewer, patients, make_user):
    author = make_user("charter", roles=[roles.ADMINISTRATOR])
    patient = patients["other"]
    factories.assessment(acting_user=author, patient=patient)
    factories.visit(acting_user=author, patient=patient)
    few = chart_queries(viewer, patient.pk)
    for _ in range(5):
        factories.assessment(acting_user=author, patient=patient)
        factories.visit(acting_user=author, patient=patient)
    assert chart_queries(viewer, patient.pk) == few
