"""Not found: NDAS's own page, with DEBUG on or off, and the same words for a chart
that does not exist and one outside the user's care teams."""

import pytest
from django.urls import reverse

from ndas.errors import NOT_FOUND_MESSAGE
from records.users import roles
from tests import factories

pytestmark = pytest.mark.django_db

BREAK_GLASS = "/admin/patients/patient/emergency-access/"


@pytest.fixture
def charts(make_user):
    clinician = make_user("nf-clin", roles=[roles.CLINICIAN])
    colleague = make_user("nf-other", roles=[roles.CLINICIAN])
    theirs = factories.team("Theirs", colleague)
    factories.team("Ours", clinician)
    other = factories.patient(acting_user=colleague, care_teams=[theirs])
    return clinician, other


@pytest.mark.parametrize("debug", [True, False])
def test_chart_outside_ones_teams_is_ndas_not_found_page(
    client, settings, charts, debug
):
    settings.DEBUG = debug
    clinician, other = charts
    client.force_login(clinician)
    outside = client.get(reverse("admin:patients_patient_change", args=[other.pk]))
    missing = client.get(reverse("admin:patients_patient_change", args=[999999]))
    for response in (outside, missing):
        assert response.status_code == 404
        body = response.content.decode()
        assert NOT_FOUND_MESSAGE in body
        assert BREAK_GLASS in body
        assert "URLconf" not in body and "urlpatterns" not in body.lower()
    # The same page either way, but for the request id.
    strip = lambda r: r.content.decode().split("Request id")[0]  # noqa: E731
    assert strip(outside) == strip(missing)


@pytest.mark.parametrize("path", ["/admin/no/such/page/", "/no-such-page/"])
def test_unknown_address_under_debug_is_ndas_page(client, settings, make_user, path):
    settings.DEBUG = True
    client.force_login(make_user("nf-admin", roles=[roles.ADMINISTRATOR]))
    response = client.get(path)
    assert response.status_code == 404
    body = response.content.decode()
    assert NOT_FOUND_MESSAGE in body
    assert "Using the URLconf" not in body


def test_emergency_access_offered_only_to_those_who_may_use_it(
    client, settings, make_user
):
    settings.DEBUG = False
    client.force_login(make_user("nf-dm", roles=[roles.DATA_MANAGER]))
    response = client.get(reverse("admin:patients_patient_change", args=[999999]))
    assert response.status_code == 404
    assert NOT_FOUND_MESSAGE in response.content.decode()
    assert BREAK_GLASS not in response.content.decode()
