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


def test_each_word_narrows_the_search(viewer, patients):
    """Every word must start or look like one of the chart's names: a second
    word finds fewer charts, not more (each word once found charts alone)."""
    assert found(viewer, "Smith John") == ["NDA-1001"]
    assert found(viewer, "Smith Orrin") == []
    assert sorted(found(viewer, "Smith")) == ["NDA-1001", "NDA-1002"]


def test_a_word_that_is_a_date_asks_for_that_date_of_birth(viewer, patients):
    assert found(viewer, "Quen 02/01/2024") == ["NDA-2001"]
    assert found(viewer, "Smith 02/01/2024") == []
    # Both Smith and Smyth (alike) were born on 17 May 2023: the closer first.
    assert found(viewer, "2023-05-17 Smyth") == ["NDA-1002", "NDA-1001"]


def test_unranked_the_matches_come_newest_first(viewer, patients):
    by_name = repositories.patients_visible_to(viewer).order_by("family_name")
    unranked = repositories.patient_search(
        user=viewer, query="Smith", queryset=by_name, ranked=False
    )
    assert [p.mrn for p in unranked] == ["NDA-1002", "NDA-1001"]  # Smyth: newer
    assert "SIMILARITY(" not in str(unranked.query).upper()
    ranked = repositories.patient_search(user=viewer, query="Smith", ranked=True)
    assert [p.mrn for p in ranked][0] == "NDA-1001"


@pytest.mark.parametrize(
    "text, ranks",
    [("Smith", True), ("NDA-1001", True), ("Smith 17/05/2023", True)]
    + [("17/05/2023", False), ("  ", False)],
)
def test_names_are_ranked_dates_of_birth_are_not(text, ranks):
    assert repositories.patient_search_ranks(text) is ranks


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


@pytest.mark.parametrize("query", ["%", "_", "-", "Smith %", "' --"])
def test_a_word_of_punctuation_alone_names_nobody(viewer, patients, query):
    """It matches no name, and no index answers it (PostgreSQL read every chart
    looking): the search asks for the MRN alone, no names."""
    assert found(viewer, query) == []
    sql = str(repositories.patient_search(user=viewer, query=query).query)
    assert "ILIKE" not in sql and "_name" not in sql.split(" WHERE ", 1)[1]


def test_an_mrn_with_punctuation_is_still_found(viewer, patients):
    assert found(viewer, "NDA-2001") == ["NDA-2001"]
