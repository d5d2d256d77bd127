"""A chart followed for years: its tabs show the latest records, newest first, and
say where the rest are; the page's queries do not grow with the chart."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from admin_ext.admin.patients.chart_inlines import LatestFormSet
from records.users import roles
from tests import factories

pytestmark = pytest.mark.django_db
SHOWN = LatestFormSet.shown


@pytest.fixture
def clinician(make_user):
    return make_user("rows-doc", roles=[roles.CLINICIAN])


def visits(patient, clinician, count):
    first = date.today() - timedelta(days=count + 1)
    return [
        factories.visit(
            acting_user=clinician, patient=patient, visit_date=first + timedelta(n)
        )
        for n in range(count)
    ]


def page(client, patient):
    url = reverse("admin:patients_patient_change", args=[patient.pk])
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return response, len(queries)


def test_a_long_chart_shows_its_latest_visits_and_where_the_rest_are(client, clinician):
    patient = factories.patient(
        acting_user=clinician, date_of_birth=date.today() - timedelta(days=900)
    )
    made = visits(patient, clinician, SHOWN + 2)
    client.force_login(clinician)
    response, _ = page(client, patient)
    forms = response.context["inline_admin_formsets"]
    tab = next(f for f in forms if f.formset.model._meta.model_name == "clinicalrecord")
    shown = [record.pk for record in tab.formset.get_queryset()]
    assert len(tab.formset.tab_rows) == SHOWN
    newest = sorted(made, key=lambda v: v.visit_date, reverse=True)[:SHOWN]
    assert shown == [v.pk for v in newest]
    body = response.content.decode()
    assert 'data-testid="more-clinicalrecord"' in body
    summary = reverse("admin:patients_patient_summary", args=[patient.pk])
    assert f'href="{summary}#timeline"' in body
    # Assessments: fewer than a tab holds, so no note.
    assert 'data-testid="more-assessment"' not in body


def test_the_page_reads_the_same_queries_for_a_short_and_a_long_chart(
    client, clinician
):
    short = factories.patient(
        acting_user=clinician, date_of_birth=date.today() - timedelta(days=900)
    )
    long = factories.patient(
        acting_user=clinician, date_of_birth=date.today() - timedelta(days=900)
    )
    visits(short, clinician, 2)
    visits(long, clinician, SHOWN + 5)
    client.force_login(clinician)
    page(client, short)  # the first request of a session records its start
    _, few = page(client, short)
    _, many = page(client, long)
    assert few == many
