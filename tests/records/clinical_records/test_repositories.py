"""The chart with its visits (patient_chart): a fixed number of queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from records.clinical_records.repositories import patient_chart
from records.users import roles
from tests import factories

pytestmark = pytest.mark.django_db


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
