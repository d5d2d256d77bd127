"""Lists say how many rows they hold: exact when few, estimated beyond, never by
counting a large table."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from admin_ext.admin import counts
from records.patients.models import Patient
from records.users import roles
from tests import factories

pytestmark = pytest.mark.django_db


def test_few_rows_are_counted_exactly(client, make_user):
    clinician = make_user("count-doc", roles=[roles.CLINICIAN])
    for _ in range(3):
        factories.patient(acting_user=clinician)
    client.force_login(clinician)
    body = client.get(reverse("admin:patients_patient_changelist")).content.decode()
    assert ">3 patients</p>" in body


def test_beyond_the_limit_the_planners_estimate_is_said_to_be_one(
    client, make_user, monkeypatch
):
    monkeypatch.setattr(counts, "EXACT_UP_TO", 2)
    monkeypatch.setattr(counts, "estimated_rows", lambda queryset: 298_734)
    clinician = make_user("count-doc2", roles=[roles.CLINICIAN])
    for _ in range(3):
        factories.patient(acting_user=clinician)
    client.force_login(clinician)
    body = client.get(reverse("admin:patients_patient_changelist")).content.decode()
    assert "About 300,000 patients (an estimate)" in body


def test_the_estimate_comes_from_explain(make_user):
    clinician = make_user("count-doc3", roles=[roles.CLINICIAN])
    factories.patient(acting_user=clinician)
    assert counts.estimated_rows(Patient.objects.all()) >= 1
    assert counts.rounded(298_734) == 300_000 and counts.rounded(7) == 7


def test_the_dashboard_counts_exactly_when_few_and_estimates_beyond(
    client, make_user, monkeypatch
):
    clinician = make_user("count-doc4", roles=[roles.CLINICIAN])
    for _ in range(3):
        factories.patient(acting_user=clinician)
    client.force_login(clinician)
    figures = client.get(reverse("admin:index")).context["chart_figures"]
    assert figures["patients"] == "3"
    monkeypatch.setattr(counts, "EXACT_UP_TO", 2)
    monkeypatch.setattr(counts, "estimated_rows", lambda queryset: 664_412)
    body = client.get(reverse("admin:index")).content.decode()
    assert "About 660,000</p>" in body


def test_far_beyond_the_limit_one_row_is_read(make_user, monkeypatch):
    """A search over common names at a million charts: the planner's estimate
    is said as it is, after reading one row (there is one), in the same two
    queries as a list of a few rows."""
    clinician = make_user("count-doc5", roles=[roles.CLINICIAN])
    factories.patient(acting_user=clinician)
    monkeypatch.setattr(counts, "estimated_rows", lambda queryset: 25_427)
    with CaptureQueriesContext(connection) as queries:
        assert counts.count_text(Patient.objects.all()) == (
            "About 25,000 patients (an estimate)"
        )
    (read,) = queries.captured_queries
    assert read["sql"].endswith("LIMIT 1) subquery")  # counted, not fetched
    assert counts.count_text(Patient.objects.filter(mrn="none such")) == "0 patients"
    monkeypatch.setattr(counts, "estimated_rows", lambda queryset: 9_000)
    assert counts.count_text(Patient.objects.all()) == "1 patient"


def test_a_list_of_nothing_asks_nothing(make_user):
    """A user who may open no chart gets .none(): no SQL to estimate or read."""
    with CaptureQueriesContext(connection) as queries:
        assert counts.count_text(Patient.objects.none()) == "0 patients"
    assert queries.captured_queries == []
