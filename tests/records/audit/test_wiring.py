"""Each audited action writes exactly one event, with the right fields."""

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from records.audit.models import AuditEvent
from records.audit.verify import audit_chain_verify
from records.imports import services as import_services
from records.imports.exports import export_csv
from records.patients import services
from records.users import roles
from tests import factories
from tests.helpers import PNG, TEST_PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def doctor(make_user):
    return make_user("doctor", roles=[roles.CLINICIAN])


@pytest.fixture
def patient(doctor):
    return factories.patient(acting_user=doctor, date_of_birth=date(2025, 1, 1))


def new_events(since: int):
    return list(AuditEvent.objects.filter(id__gt=since).order_by("id"))


def last_id() -> int:
    event = AuditEvent.objects.order_by("-id").first()
    return event.id if event else 0


def test_chart_changes(doctor, patient, make_user):
    start = last_id()
    services.patient_update(
        acting_user=doctor, patient=patient, data={"city": "Arnsby"}, reason="Moved"
    )
    [update] = new_events(start)
    assert (update.action, update.object_type, update.object_id) == (
        "update",
        "patients.patient",
        str(patient.pk),
    )
    assert update.patient_id == patient.pk and update.actor == doctor
    assert update.details == {"fields": ["city"], "version": 2}
    assert "Arnsby" not in update.summary and "Arnsby" not in str(update.details)
    # What a user writes as the reason does not name the change.
    start = last_id()
    services.patient_update(
        acting_user=doctor,
        patient=patient,
        data={"city": "Brill"},
        reason="Amendment: x",
    )
    assert [e.action for e in new_events(start)] == ["update"]

    start = last_id()
    exam = factories.assessment(acting_user=doctor, patient=patient)
    services.assessment_finalize(acting_user=doctor, assessment=exam)
    services.assessment_amend(
        acting_user=doctor, assessment=exam, data={"findings": "x"}, reason="Late"
    )
    services.patient_archive(acting_user=doctor, patient=patient, reason="Discharged")
    boss = make_user("boss", roles=[roles.ADMINISTRATOR])
    start_of_boss = last_id()
    services.assessment_delete(acting_user=boss, assessment=exam, reason="Wrong chart")
    chart_events = [e for e in new_events(start) if e.object_type != "users.user"]
    assert [(e.action, e.object_type) for e in chart_events] == [
        ("create", "patients.assessment"),
        ("update", "patients.assessment"),  # finalised
        ("amend", "patients.assessment"),
        ("archive", "patients.patient"),
        ("delete", "patients.assessment"),
    ]
    assert {e.patient_id for e in chart_events} == {patient.pk}
    [delete] = new_events(start_of_boss)
    assert delete.action == "delete"


def test_reads_and_downloads_in_the_admin(doctor, patient, s3_storage, make_user):
    media = services.media_upload(
        acting_user=doctor,
        patient=patient,
        uploaded_file=SimpleUploadedFile("c.png", PNG),
    )
    client = Client()
    client.force_login(doctor)
    start = last_id()
    response = client.get(
        reverse("admin:patients_patient_change", args=[patient.pk]),
        REMOTE_ADDR="192.0.2.77",
    )
    [view] = new_events(start)
    assert (view.action, view.patient_id, view.actor) == ("view", patient.pk, doctor)
    assert view.ip == "192.0.2.77"
    assert view.request_id == response.headers["X-Request-ID"]

    start = last_id()
    client.get(reverse("admin:patients_patient_history", args=[patient.pk]))
    client.get(reverse("admin:patients_mediafile_download", args=[media.pk]))
    assert [(e.action, e.object_type) for e in new_events(start)] == [
        ("view", "patients.patient"),
        ("download", "patients.mediafile"),
    ]

    outsider = Client()
    outsider.force_login(make_user("outsider", roles=[roles.CLINICIAN]))
    start = last_id()
    url = reverse("admin:patients_patient_change", args=[patient.pk])
    assert outsider.get(url).status_code == 404
    assert new_events(start) == []


def test_logins(make_user):
    make_user("nurse")
    start = last_id()
    client = Client()
    client.post("/admin/login/", {"username": "nurse", "password": "wrong"})
    client.post("/admin/login/", {"username": "nurse", "password": TEST_PASSWORD})
    client.post("/admin/logout/")
    events = new_events(start)
    assert [(e.action, e.actor_username) for e in events] == [
        ("login_failure", "nurse"),
        ("login", "nurse"),
        ("logout", "nurse"),
    ]
    assert all(e.ip == "127.0.0.1" for e in events)
    start = last_id()
    for _ in range(5):
        client.post("/admin/login/", {"username": "nurse", "password": "wrong"})
    assert [e.action for e in new_events(start)].count("lockout") == 1


def test_grants_emergency_access_imports_and_exports(doctor, patient, make_user):
    admin = make_user("chief", roles=[roles.ADMINISTRATOR])
    team = factories.team("Autism assessment")
    start = last_id()
    services.patient_assign_care_team(acting_user=admin, patient=patient, team=team)
    services.patient_unassign_care_team(acting_user=admin, patient=patient, team=team)
    stranger = make_user("stranger", roles=[roles.CLINICIAN])
    chart_start = last_id()
    services.break_glass_open(
        acting_user=stranger, mrn=patient.mrn, reason="Status epilepticus in ED"
    )
    actions = [(e.action, e.patient_id) for e in new_events(start)]
    assert actions[:4] == [("grant", patient.pk)] * 2 + [("revoke", patient.pk)] * 2
    assert [(e.action, e.patient_id) for e in new_events(chart_start)] == [
        ("break_glass", patient.pk)
    ]

    manager = make_user("data", roles=[roles.DATA_MANAGER])
    start = last_id()
    job = import_services.import_file(
        acting_user=manager,
        entity="patients",
        file_name="p.csv",
        data=b"mrn,given_name,family_name,date_of_birth,sex\n"
        b"AUD-1,A,B,2025-01-01,male\n",
        reason="Upload",
        no_care_team=True,
    )
    b"".join(export_csv(user=manager, entity="patients", filters={"q": "Smith"}))
    [imported, exported] = new_events(start)
    assert (imported.action, imported.object_id) == ("import", str(job.pk))
    assert imported.details["new"] == 1
    assert exported.action == "export" and exported.details["filters"] == ["q"]
    assert "Smith" not in str(exported.details)
    assert audit_chain_verify().intact
