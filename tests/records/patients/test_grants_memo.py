"""A clinician's grants are read once per GET request, and never kept past it
(records.common.context.request_memo_var; issue #15's CPU goal)."""

import pytest
from django.db import connection
from django.http import HttpResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ndas.middleware import RequestContextMiddleware
from records.common.context import request_memo_var
from records.patients import services
from records.patients.repositories import patients_visible_to
from records.users import roles
from tests import factories

pytestmark = pytest.mark.django_db

GRANTS_QUERY = "SELECT ARRAY(SELECT group_id"


def _grant_reads(queries) -> int:
    return sum(GRANTS_QUERY in q["sql"] for q in queries.captured_queries)


@pytest.fixture
def clinician(make_user):
    user = make_user("memo-doc", roles=[roles.CLINICIAN])
    factories.team("Memo team", user)
    return user


def test_a_chart_page_reads_the_grants_once(client, clinician):
    patient = factories.patient(acting_user=clinician)
    factories.assessment(acting_user=clinician, patient=patient)
    factories.visit(acting_user=clinician, patient=patient)
    client.force_login(clinician)
    url = reverse("admin:patients_patient_change", args=[patient.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    # The chart and each of its tabs ask; the first answer serves them all.
    assert _grant_reads(queries) == 1


def test_outside_a_request_every_read_is_fresh(clinician, make_user):
    other = make_user("memo-other", roles=[roles.CLINICIAN])
    factories.team("Other team", other)
    chart = factories.patient(acting_user=other)
    with CaptureQueriesContext(connection) as queries:
        assert not patients_visible_to(clinician).filter(pk=chart.pk).exists()
        services.break_glass_open(
            acting_user=clinician, mrn=chart.mrn, reason="Seizure in the ward"
        )
        assert patients_visible_to(clinician).filter(pk=chart.pk).exists()
    assert _grant_reads(queries) == 2


def test_the_memo_lives_for_one_safe_request_only():
    seen = {}

    def view(request):
        seen[request.method] = request_memo_var.get()
        return HttpResponse("ok")

    middleware = RequestContextMiddleware(view)
    factory = RequestFactory()
    for method in ("get", "head", "post", "put", "delete"):
        middleware(getattr(factory, method)("/x"))
    assert seen["GET"] == {} and seen["HEAD"] == {}
    assert seen["POST"] is None and seen["PUT"] is None and seen["DELETE"] is None
    assert request_memo_var.get() is None  # reset after each request
