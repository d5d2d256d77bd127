"""The patient list's sorts: each one an index answers at a million charts, and a
search listed closest first."""

import re

import pytest
from django.urls import reverse

from records.users import roles
from tests import factories

pytestmark = pytest.mark.django_db

URL = reverse("admin:patients_patient_changelist")


@pytest.fixture
def clinician(client, make_user):
    user = make_user("sorter", roles=[roles.CLINICIAN])
    client.force_login(user)
    return user


def _names(response) -> list[str]:
    return [
        f"{p.given_name} {p.family_name}" for p in response.context["cl"].result_list
    ]


def test_a_search_lists_the_closest_names_first(client, clinician):
    """By name, "Ann Smit" comes before "Bo Smith"; searching Smith, the closer
    "Bo Smith" comes first."""
    for given, family in (("Ann", "Smit"), ("Bo", "Smith"), ("Cy", "Jones")):
        factories.patient(acting_user=clinician, given_name=given, family_name=family)
    listed = client.post(URL, {"_search": "1", "q": "Smith"})["Location"]
    assert _names(client.get(URL)) == ["Cy Jones", "Ann Smit", "Bo Smith"]
    assert _names(client.get(listed)) == ["Bo Smith", "Ann Smit"]


@pytest.mark.parametrize(
    "order, expected",
    [
        ("1", ("family_name", "given_name", "pk")),
        ("-1", ("-family_name", "-given_name", "-pk")),
        ("2", ("date_of_birth", "pk")),
        ("-2", ("-date_of_birth", "-pk")),
    ],
)
def test_a_sort_keeps_one_direction_down_to_the_id(client, clinician, order, expected):
    factories.patient(acting_user=clinician)
    response = client.get(f"{URL}?o={order}")
    assert response.context["cl"].queryset.query.order_by == expected


def test_only_indexed_columns_offer_a_sort(client, clinician):
    """Sex and status are filters; the last visit would be computed for every
    chart before the first page could be shown."""
    factories.patient(acting_user=clinician)
    page = client.get(URL).content.decode()
    sorts = re.findall(r'href="\?o=([-0-9.]*)"', page)
    columns = {abs(int(part)) for sort in sorts for part in sort.split(".") if part}
    assert columns == {0, 1, 2}  # MRN, name, date of birth
