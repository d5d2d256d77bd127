"""Reads: what a user may see, each search mode, likely duplicates (the chart with
its visits: tests/records/clinical_records/test_repositories.py)."""

from datetime import date

import pytest

from records.patients import repositories
from records.users import roles

pytestmark = pytest.mark.django_db


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
