"""The auditor's console: a chart's trail with who could open it and the changes,
a user's trail, and CSV exports that are themselves audited."""

import csv
import io
from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from records.audit.models import AuditEvent
from records.patients import services
from records.users import roles
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene(make_user):
    doctor = make_user("doctor", roles=[roles.CLINICIAN])
    team = factories.team("Neonatal follow-up", doctor)
    patient = factories.patient(
        acting_user=doctor, care_teams=[team], date_of_birth=date(2025, 1, 1)
    )
    services.patient_update(
        acting_user=doctor, patient=patient, data={"city": "Arnsby"}, reason="Moved"
    )
    viewer = Client()
    viewer.force_login(doctor)
    viewer.get(reverse("admin:patients_patient_change", args=[patient.pk]))
    auditor = Client()
    auditor.force_login(make_user("checker", roles=[roles.AUDITOR]))
    return doctor, patient, auditor


def test_patient_report(scene):
    doctor, patient, auditor = scene
    url = reverse("admin:audit_auditevent_patient_report", args=[patient.pk])
    response = auditor.get(url)
    assert response.status_code == 200
    actions = [event.action for event in response.context["events"]]
    assert actions[:3] == ["create", "grant", "grant"] and "view" in actions
    assert dict(response.context["access"])["doctor"] == [
        "care team: Neonatal follow-up"
    ]
    assert "checker" in dict(response.context["access"])  # auditors can open all
    moved = [c for c in response.context["changes"] if c["reason"] == "Moved"]
    assert moved[0]["fields"] == [("city", "", "Arnsby")]


def test_user_report_and_audited_csv_export(scene):
    doctor, patient, auditor = scene
    url = reverse("admin:audit_auditevent_user_report", args=["doctor"])
    response = auditor.get(url)
    assert {event.actor_username for event in response.context["events"]} == {"doctor"}
    before = AuditEvent.objects.filter(action="audit_export").count()
    download = auditor.get(url, {"format": "csv"})
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["id", "at", "actor_username"]
    assert len(rows) - 1 == response.context["events"].count()
    exported = AuditEvent.objects.filter(action="audit_export")
    assert exported.count() == before + 1
    assert exported.last().details["rows"] == len(rows) - 1


def test_clinicians_do_not_read_the_trail(scene):
    doctor, patient, _ = scene
    client = Client()
    client.force_login(doctor)
    url = reverse("admin:audit_auditevent_patient_report", args=[patient.pk])
    assert client.get(url).status_code == 403


def test_the_trail_is_filtered_by_patient_mrn(scene):
    doctor, patient, auditor = scene
    other = factories.patient(acting_user=doctor)
    url = reverse("admin:audit_auditevent_changelist")
    shown = auditor.get(url, {"mrn": patient.mrn.lower()}).context["cl"].result_list
    assert shown and {event.patient_id for event in shown} == {patient.pk}
    assert other.pk not in {event.patient_id for event in shown}
    assert not auditor.get(url, {"mrn": "NO-SUCH"}).context["cl"].result_list


def test_change_timeline_across_charts_and_users(scene, make_user):
    doctor, patient, auditor = scene
    make_user("newcomer", first_name="Ada")
    url = reverse("admin:audit_auditevent_timeline")
    changes = auditor.get(url).context["changes"]
    what = [change["what"] for change in changes]
    assert f"patient #{patient.pk}" in what
    assert any(w.startswith("user #") for w in what)
    moved = next(c for c in changes if c["reason"] == "Moved")
    assert moved["fields"] == [("city", "", "Arnsby")]
    before = AuditEvent.objects.filter(action="audit_export").count()
    download = auditor.get(url, {"format": "csv"})
    assert download.content.decode("utf-8-sig").startswith("at,record,change")
    assert AuditEvent.objects.filter(action="audit_export").count() == before + 1
