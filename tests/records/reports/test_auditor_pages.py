"""The auditor's pages as an auditor reads them (issue #17): who could open a
chart on a day, including emergency access used and expired that day."""

from datetime import datetime, time, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from records.audit.models import AuditEvent
from records.patients.models import PatientGroupObjectPermission
from records.common.display import show_date
from records.patients import services
from records.users import roles
from records.users.models import LoginEvent
from tests import factories

pytestmark = pytest.mark.django_db

# A past day (sessions are made in real time).
DAY = timezone.localdate() - timedelta(days=2)
SHOWN = show_date(DAY)  # 6 Dec 2026


@pytest.fixture
def emergency_day(make_user):
    """A chart opened under emergency access at 05:38, the grant gone by noon."""
    doctor = make_user("doctor", roles=[roles.CLINICIAN])
    team = factories.team("Neonatal follow-up", doctor)
    patient = factories.patient(acting_user=doctor, care_teams=[team])
    stranger = make_user(
        "stranger", roles=[roles.CLINICIAN], first_name="Ada", last_name="Lovelace"
    )
    morning = timezone.make_aware(datetime.combine(DAY, time(5, 38)))
    with time_machine.travel(morning, tick=False):
        services.break_glass_open(
            acting_user=stranger,
            mrn=patient.mrn,
            reason="Seizure in the waiting room, chart needed",
        )
        opener = Client()
        opener.force_login(stranger)
        page = opener.get(reverse("admin:patients_patient_change", args=[patient.pk]))
        assert page.status_code == 200
    auditor = Client()
    auditor.force_login(make_user("checker", roles=[roles.AUDITOR]))
    return patient, auditor


def test_who_could_open_lists_emergency_access_of_that_day(emergency_day):
    patient, auditor = emergency_day
    url = reverse("admin:patients_patient_access", args=[patient.pk])
    page = auditor.get(url, {"on": DAY.isoformat()})
    assert page.status_code == 200
    entries = {entry.username: entry for entry in page.context["entries"]}
    assert entries["stranger"].reasons == ("emergency access",)
    assert entries["stranger"].uses == 1
    text = page.content.decode()
    assert "Ada Lovelace (stranger)" in text
    assert f"opened once, {SHOWN}, 05:38" in text
    # A heading naming the chart and the day, in the clinic's date format.
    assert f"Who could open the chart of {patient} on {SHOWN}" in text
    assert patient.mrn in text
    assert DAY.isoformat() not in text
    summary = reverse("admin:patients_patient_summary", args=[patient.pk])
    assert f'href="{summary}"' in text  # the chart opens at its summary
    # The day before, nobody held emergency access.
    before = auditor.get(url, {"on": (DAY - timedelta(days=1)).isoformat()})
    assert "stranger" not in {e.username for e in before.context["entries"]}


def test_chart_audit_report_shows_the_same_emergency_use(emergency_day):
    patient, auditor = emergency_day
    url = reverse("admin:audit_auditevent_patient_report", args=[patient.pk])
    page = auditor.get(url, {"start": f"{DAY:%d/%m/%Y}", "end": f"{DAY:%d/%m/%Y}"})
    assert page.status_code == 200
    access = {entry.username: entry for entry in page.context["access"]}
    assert access["stranger"].reasons == ("emergency access",)
    assert f"opened once, {SHOWN}, 05:38" in page.content.decode()


def test_one_lockout_is_one_row_on_the_dashboard(make_user):
    """axes records a "locked out" event for each attempt while the lockout
    holds: the dashboard shows each lockout once, with the attempts counted."""
    start = timezone.now() - timedelta(hours=5)
    for minutes in (0, 1, 2, 3):  # one lockout, four events
        with time_machine.travel(start + timedelta(minutes=minutes), tick=False):
            LoginEvent.objects.create(kind="lockout", username="mallory", ip="1.2.3.4")
    with time_machine.travel(start + timedelta(hours=2), tick=False):  # a new one
        LoginEvent.objects.create(kind="lockout", username="mallory", ip="1.2.3.4")
        LoginEvent.objects.create(kind="lockout", username="eve", ip="1.2.3.5")
    auditor = Client()
    auditor.force_login(make_user("checker", roles=[roles.AUDITOR]))
    page = auditor.get(reverse("admin:index"))
    panel = {p.key: p for p in page.context["panels"]}["lockouts"]
    assert [row.text for row in panel.rows] == ["eve", "mallory", "mallory"]
    assert panel.rows[2].at == start
    text = page.content.decode()
    assert "3 more attempts while locked out" in text
    assert text.count("From 1.2.3.4") == 2


def test_sign_in_events_say_what_happened_and_who_reset_factors(make_user):
    from records.users import mfa

    admin_user = make_user(
        "boss", roles=[roles.ADMINISTRATOR], first_name="Ann", last_name="Admin"
    )
    target = make_user("lost-phone", roles=[roles.CLINICIAN])
    LoginEvent.objects.create(kind="success", username="lost-phone", user=target)
    mfa.factors_reset(
        request=None, acting_user=admin_user, user=target, reason="Phone lost"
    )
    auditor = Client()
    auditor.force_login(make_user("checker", roles=[roles.AUDITOR]))
    url = reverse("admin:users_loginevent_changelist")
    text = auditor.get(url).content.decode()
    assert "Password accepted" in text
    assert "Second factors reset by Ann Admin (boss)" in text
    # The filter offers the same words, and links by stored kind still work.
    only = auditor.get(url, {"kind__exact": "success"})
    assert {e.kind for e in only.context["cl"].result_list} == {"success"}
    assert ">Signed in<" not in only.content.decode()


def test_emergency_access_review_says_who_acknowledged_and_when(emergency_day):
    from records.patients.models import BreakGlassGrant

    patient, auditor = emergency_day
    reviewer = BreakGlassGrant.objects.get().user.__class__.objects.get(
        username="checker"
    )
    reviewer.first_name, reviewer.last_name = "Ida", "Checker"
    reviewer.save()
    url = reverse("admin:patients_breakglassgrant_changelist")
    text = auditor.get(url).content.decode()
    assert "Not yet" in text and "Ended " + SHOWN in text
    summary = reverse("admin:patients_patient_summary", args=[patient.pk])
    assert f'href="{summary}"' in text
    assert "LIVE" not in text and "live" not in text.split("<body")[1].lower()
    grant = BreakGlassGrant.objects.get()
    chosen = {"action": "acknowledge", "_selected_action": [grant.pk]}
    form = auditor.post(url, chosen).content.decode()
    assert "Review note (optional)" in form and "Ada Lovelace (stranger)" in form
    page = auditor.post(
        url, {**chosen, "apply": "1", "note": "Confirmed with the ED rota"}, follow=True
    )
    text = page.content.decode()
    assert "By Ida Checker (checker), " + show_date(timezone.localdate()) in text
    assert "Confirmed with the ED rota" in text
    grant.refresh_from_db()
    assert grant.review_note == "Confirmed with the ED rota"
    event = AuditEvent.objects.filter(summary__endswith="acknowledged").get()
    assert event.details == {"note": True}  # the note's words stay on the grant
    assert "Ada Lovelace (stranger)" in text


def test_audit_screens_name_charts_and_records_in_words(emergency_day):
    """No "create patient #2", "break_glass emergency access #1", "status:
    active → archived": the chart's MRN and name, the object in words, field
    names and choice labels as the forms show them."""
    patient, auditor = emergency_day
    doctor = patient.__class__.history.earliest().history_user
    services.patient_update(
        acting_user=doctor,
        patient=patient,
        data={"status": "archived"},
        reason="Moved away",
    )
    report = auditor.get(
        reverse("admin:audit_auditevent_patient_report", args=[patient.pk]),
        {"start": f"{DAY:%d/%m/%Y}"},
    )
    whats = [event.what for event in report.context["events"]]
    assert str(patient) in whats  # created, viewed
    assert f"Emergency access by Ada Lovelace (stranger), for {patient}" in whats
    assert any(w.startswith("Care team Neonatal follow-up") for w in whats)
    text = report.content.decode()
    assert f"#{patient.pk}<" not in text and "break_glass" not in text
    assert f"Audit of {patient}" in text
    status = [c for c in report.context["changes"] if c["reason"] == "Moved away"]
    assert status[0]["fields"] == [("Status", "Active", "Archived")]
    # The audit trail: no raw id columns, the same words; naming the chart
    # there is an audited reading of it.
    trail = auditor.get(reverse("admin:audit_auditevent_changelist"))
    text = trail.content.decode()
    assert AuditEvent.objects.filter(
        actor_username="checker",
        action="view",
        patient_id=patient.pk,
        summary=f"chart #{patient.pk} named in the audit trail",
    ).exists()
    assert "Object id" not in text and "Patient id</" not in text
    assert f"Emergency access by Ada Lovelace (stranger), for {patient}" in text
    # The change timeline.
    timeline = auditor.get(reverse("admin:audit_auditevent_timeline"))
    assert str(patient) in [c["what"] for c in timeline.context["changes"]]
    assert "Status: Active → Archived" in timeline.content.decode()


def test_timeline_names_people_and_visits(make_user):
    from records.clinical_records import services as visits

    doctor = make_user(
        "doctor", roles=[roles.CLINICIAN], first_name="Tom", last_name="Fletcher"
    )
    other = make_user(
        "other-doc", roles=[roles.CLINICIAN], first_name="Priya", last_name="Shah"
    )
    team = factories.team("Neonatal follow-up", doctor, other)
    patient = factories.patient(acting_user=doctor, care_teams=[team])
    visit = factories.visit(acting_user=doctor, patient=patient)
    visits.clinical_record_update(
        acting_user=doctor,
        record=visit,
        data={"clinician": other},
        reason="Seen by Priya",
    )
    visits.clinical_record_finalize(acting_user=doctor, record=visit)
    auditor = Client()
    auditor.force_login(make_user("checker", roles=[roles.AUDITOR]))
    page = auditor.get(reverse("admin:audit_auditevent_timeline"))
    text = page.content.decode()
    assert f"visit on {show_date(visit.visit_date)}, for {patient}" in text
    assert "Clinician: Tom Fletcher (doctor) → Priya Shah (other-doc)" in text
    assert "Status: Draft → Final" in text


def test_a_users_report_is_headed_by_their_name(emergency_day):
    patient, auditor = emergency_day
    url = reverse("admin:audit_auditevent_user_report", args=["stranger"])
    page = auditor.get(url, {"start": f"{DAY:%d/%m/%Y}"})
    text = page.content.decode()
    assert "Audit of Ada Lovelace (stranger)" in text
    assert f"Emergency access by Ada Lovelace (stranger), for {patient}" in text


def test_the_trail_is_not_filled_with_its_own_readings(emergency_day):
    """Opening the trail again records no second reading of the same chart that
    day, and the trail hides the audit screens' own readings unless asked."""
    patient, auditor = emergency_day
    url = reverse("admin:audit_auditevent_changelist")
    readings = AuditEvent.objects.filter(
        action="view", summary=f"chart #{patient.pk} named in the audit trail"
    )
    auditor.get(url)
    auditor.get(url)
    assert readings.count() == 1
    shown = auditor.get(url).context["cl"].result_list
    assert readings.first() not in shown
    assert all(not e.summary.endswith("named in the audit trail") for e in shown)
    with_readings = auditor.get(url, {"screen_readings": "shown"})
    assert readings.first() in with_readings.context["cl"].result_list


def test_who_could_open_reads_a_fixed_number_of_queries(make_user):
    """Sign-ins (each writes a user history row, the last sign-in) and changes of
    access alike: the report replays them in the same six queries. What it finds
    is what patient_access_at finds at each moment of the period."""
    from django.contrib.auth.models import update_last_login
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from records.patients.repositories import patient_access_at
    from records.reports import Period, who_could_open
    from records.users.services import care_team_set_members

    admin = make_user("boss", roles=[roles.ADMINISTRATOR])
    doctor = make_user("signs-in", roles=[roles.CLINICIAN])
    team = factories.team("Neonatal follow-up", doctor)
    patient = factories.patient(acting_user=doctor, care_teams=[team])
    period = Period.of_days(DAY, timezone.localdate())

    def measured():
        with CaptureQueriesContext(connection) as queries:
            found = who_could_open(patient=patient, period=period)
        return found, len(queries)

    found, queries = measured()
    assert found["signs-in"] == {"care team: Neonatal follow-up"}
    for _ in range(5):
        update_last_login(None, doctor)  # as each sign-in does
    assert doctor.history.count() >= 6
    assert measured() == (found, queries)
    newcomer = make_user("newcomer", roles=[roles.CLINICIAN])
    care_team_set_members(acting_user=admin, team=team, members=[newcomer])
    services.patient_unassign_care_team(
        acting_user=admin, patient=patient, team=team, reason="moved"
    )
    found, again = measured()
    assert again == queries
    assert found["newcomer"] == {"care team: Neonatal follow-up"}
    assert found["signs-in"] == {"care team: Neonatal follow-up"}  # before it left
    # The same as asking patient_access_at at every moment something changed.
    moments = {period.start}
    for model in (type(doctor), PatientGroupObjectPermission):
        moments.update(
            model.history.filter(history_date__gte=period.start).values_list(
                "history_date", flat=True
            )
        )
    expected = {}
    for moment in moments:
        for entry in patient_access_at(patient=patient, at=moment):
            expected.setdefault(entry.username, set()).update(entry.reasons)
    assert found == expected
