"""A clinician reads the history of their team's charts (who changed what, when and
why), and of no other chart: as the README's role table says."""

import pytest
from django.urls import reverse

from tests.helpers import client_for

pytestmark = pytest.mark.django_db


def history_urls(world):
    return [
        reverse("admin:patients_patient_history", args=[world.patient.pk]),
        reverse("admin:patients_assessment_history", args=[world.assessment.pk]),
        reverse("admin:clinical_records_clinicalrecord_history", args=[world.visit.pk]),
        reverse("admin:patients_mediafile_history", args=[world.media.pk]),
    ]


def test_clinician_sees_the_history_of_their_teams_chart(world):
    client = client_for(world.users["clinician_in_team"])
    for url in history_urls(world):
        response = client.get(url)
        assert response.status_code == 200, url
        assert 'id="change-history"' in response.content.decode(), url


def test_clinician_does_not_see_the_history_of_another_teams_chart(world):
    client = client_for(world.users["clinician_outside"])
    for url in history_urls(world):
        assert client.get(url).status_code == 404, url
