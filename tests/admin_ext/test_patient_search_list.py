"""A name search on the patient list: closest first when its matches are few; past
a thousand (counts.EXACT_UP_TO) newest first, which an index gives, with a note
saying how to narrow it; the same queries either way."""

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from admin_ext.admin import counts
from admin_ext.admin.patients.patient import I_SEARCH_UNRANKED
from records.users import roles
from tests import factories
from tests.factories import charts_bulk_create

pytestmark = pytest.mark.django_db

URL = reverse("admin:patients_patient_changelist")


@pytest.fixture
def clinician(client, make_user):
    user = make_user("searcher", roles=[roles.CLINICIAN])
    client.force_login(user)
    return user


@pytest.fixture
def charts(clinician, make_user):
    """Two charts of the clinician's team, and a closer match in another team."""
    other = make_user("elsewhere", roles=[roles.CLINICIAN])
    for given, family in (("Ada", "Harris"), ("Zoe", "Harrison")):
        factories.patient(acting_user=clinician, given_name=given, family_name=family)
    factories.patient(acting_user=other, given_name="Zoe", family_name="Harrison")


def _search(client, term: str):
    return client.get(client.post(URL, {"_search": "1", "q": term})["Location"])


def _names(response) -> list[str]:
    return [
        f"{p.given_name} {p.family_name}" for p in response.context["cl"].result_list
    ]


def _notes(response) -> list[str]:
    return [m.message for m in get_messages(response.wsgi_request)]


UNRANKED = I_SEARCH_UNRANKED.format(limit=1)


def test_a_few_matches_come_closest_first_with_no_note(client, charts):
    response = _search(client, "Harrison")
    assert _names(response) == ["Zoe Harrison", "Ada Harris"]  # not by name
    assert "2 patients" in response.content.decode()
    assert UNRANKED not in _notes(response)


def test_past_the_limit_the_matches_come_newest_first_and_the_list_says_so(
    client, clinician, charts, monkeypatch
):
    monkeypatch.setattr(counts, "EXACT_UP_TO", 1)
    factories.patient(acting_user=clinician, given_name="Bo", family_name="Harrison")
    response = _search(client, "Harrison")
    # Newest first: neither closest first nor by name.
    assert _names(response) == ["Bo Harrison", "Zoe Harrison", "Ada Harris"]
    assert _notes(response) == [UNRANKED]
    body = response.content.decode()
    assert "(an estimate)" in body and "Add a given name or a date of birth" in body
    # Sorting by a column leaves them newest first (a name's charts are found
    # evenly by id, not by name: see patient_search).
    by_name = client.get(response.wsgi_request.get_full_path() + "&o=2")
    assert _names(by_name) == _names(response)


def test_a_date_of_birth_or_an_mrn_search_says_nothing_of_ranking(
    client, clinician, monkeypatch
):
    monkeypatch.setattr(counts, "EXACT_UP_TO", 1)
    for _ in range(3):
        chart = factories.patient(acting_user=clinician)
    response = _search(client, f"{chart.date_of_birth:%d/%m/%Y}")
    assert len(_names(response)) == 3 and _notes(response) == []
    assert _names(_search(client, chart.mrn)) == [
        f"{chart.given_name} {chart.family_name}"
    ]


@pytest.mark.parametrize("limit", [1000, 1])
def test_either_way_the_list_holds_exactly_the_charts_the_user_may_open(
    client, charts, monkeypatch, limit
):
    monkeypatch.setattr(counts, "EXACT_UP_TO", limit)
    for term in ("Harrison", "Harrisson", "Harr", "Zoe Harrison"):
        shown = _names(_search(client, term))
        assert sorted(shown) == sorted(set(shown)), term
        assert shown.count("Zoe Harrison") == 1, term  # not the other team's


@pytest.mark.parametrize("role", [roles.CLINICIAN, roles.ADMINISTRATOR])
def test_a_search_of_5_and_of_500_matches_costs_the_same_queries(
    make_user, monkeypatch, role
):
    """500 matches are past the limit (100 here): listed in the list's order, the
    count made once, for the order and the count line alike."""
    monkeypatch.setattr(counts, "EXACT_UP_TO", 100)
    user = make_user(f"bulk-{role[:4].lower()}", roles=[role])
    staff = factories.clinician("bulk-staff")
    teams = [factories.team("Ours", user, staff), factories.team("Theirs", staff)]
    charts_bulk_create(5, teams=teams, staff=staff, records=False)
    client = Client()
    client.force_login(user)
    client.get(URL)  # a session's first requests record its start
    listed = client.post(URL, {"_search": "1", "q": "Bulk"})["Location"]

    def page(url):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200
        return response, len(queries)

    few, few_queries = page(listed)
    assert _notes(few) == []
    charts_bulk_create(495, teams=teams, staff=staff, records=False, start=5)
    many, many_queries = page(listed)
    assert _notes(many) == [I_SEARCH_UNRANKED.format(limit=100)]
    assert len(_names(many)) == 50
    assert many_queries == few_queries
    # The search's count is the count line's: no more queries than the list.
    assert page(URL)[1] == many_queries
