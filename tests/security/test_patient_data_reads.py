"""Every page or answer that shows patient data is an audited reading, as opening a
chart is: who could open a chart, a chart's audit report, a picker's list."""

import pytest
from django.urls import reverse

from records.audit.models import AuditEvent
from tests.access.test_access import client_for

pytestmark = pytest.mark.django_db


def _new_events(since: int):
    return AuditEvent.objects.filter(pk__gt=since).order_by("pk")


def _last_id() -> int:
    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def test_who_could_open_a_chart_is_an_audited_reading(world):
    auditor = world.users["auditor"]
    client = client_for(auditor)
    since = _last_id()
    url = reverse("admin:patients_patient_access", args=[world.patient.pk])
    assert client.get(url).status_code == 200
    events = list(_new_events(since))
    assert [(e.action, e.actor_id, e.patient_id) for e in events] == [
        ("view", auditor.pk, world.patient.pk)
    ]


def test_a_charts_audit_report_is_an_audited_reading(world):
    auditor = world.users["auditor"]
    client = client_for(auditor)
    url = reverse("admin:audit_auditevent_patient_report", args=[world.patient.pk])
    # With changes in the period (today's), and with none (a year ago): one
    # reading each time.
    for period in ({}, {"start": "2020-01-01", "end": "2020-01-31"}):
        since = _last_id()
        assert client.get(url, period).status_code == 200
        events = list(_new_events(since))
        assert [(e.action, e.patient_id) for e in events] == [
            ("view", world.patient.pk)
        ]


def _pick(client, term: str):
    return client.post(
        reverse("admin:autocomplete"),
        {
            "term": term,
            "app_label": "patients",
            "model_name": "assessment",
            "field_name": "patient",
        },
    )


def test_a_pickers_list_of_charts_is_an_audited_reading(world):
    clinician = world.users["clinician_in_team"]
    client = client_for(clinician)
    since = _last_id()
    response = _pick(client, world.patient.family_name[:4])
    assert [r["id"] for r in response.json()["results"]] == [str(world.patient.pk)]
    (event,) = _new_events(since)
    assert event.action == "view" and event.actor_id == clinician.pk
    assert event.details == {"patient_ids": [world.patient.pk]}
    assert world.patient.family_name not in event.summary  # the term is not kept
    # A list that names nobody is no reading.
    since = _last_id()
    assert _pick(client, "Zzyzx").json()["results"] == []
    assert not _new_events(since).exists()
