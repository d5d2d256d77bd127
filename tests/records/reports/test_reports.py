"""The auditor's console: a chart's trail with who could open it and the changes,
a user's trail, and CSV exports that are themselves audited."""

import csv
import io
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from admin_ext.admin import audit as audit_admin
from records import reports
from records.audit.models import Action, AuditEvent
from records.audit.services import audit_record
from records.common.display import show_datetime
from records.reports import Period
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
    access = {entry.username: entry.reasons for entry in response.context["access"]}
    assert access["doctor"] == ("care team: Neonatal follow-up",)
    assert "checker" in access  # auditors can open all
    moved = [c for c in response.context["changes"] if c["reason"] == "Moved"]
    assert moved[0]["fields"] == [("City", "", "Arnsby")]
    # The chart's values were shown: the auditor's reading is on its trail.
    seen = AuditEvent.objects.filter(
        actor_username="checker", action="view", patient_id=patient.pk
    )
    assert seen.count() == 1


def test_the_reports_rows_show_each_event_and_change_escaped(scene):
    """The rows are built in code (audit_rows.events_rows, changes_rows), as
    the template drew them: time, actor linked to their report, action, what,
    IP; a change's fields old -> new, a dash for nothing; text escaped."""
    doctor, patient, auditor = scene
    odd = audit_record(
        action=Action.VIEW,
        actor=doctor,
        ip="192.0.2.7",
        patient_id=patient.pk,
        summary="<b>odd</b> note",
    )
    # A failed sign-in names the username typed: no account, the name kept.
    audit_record(action=Action.VIEW, actor_username="ghost", patient_id=patient.pk)
    url = reverse("admin:audit_auditevent_patient_report", args=[patient.pk])
    page = auditor.get(url).content.decode()
    ghosts_report = reverse("admin:audit_auditevent_user_report", args=["ghost"])
    assert f'<a class="text-primary-600" href="{ghosts_report}">ghost</a>' in page
    doctors_report = reverse("admin:audit_auditevent_user_report", args=["doctor"])
    assert (
        '<tr class="border-t border-base-200 dark:border-base-800">'
        f'<td class="py-1">{show_datetime(odd.at)}</td>'
        f'<td><a class="text-primary-600" href="{doctors_report}">'
        f"{doctor.name_with_username}</a></td>"
        "<td>Viewed</td><td>&lt;b&gt;odd&lt;/b&gt; note</td><td>192.0.2.7</td></tr>"
    ) in page
    moved = "<td>Moved</td><td><div>City: — → Arnsby</div></td></tr>"
    assert moved in page


def test_user_report_and_audited_csv_export(scene):
    doctor, patient, auditor = scene
    url = reverse("admin:audit_auditevent_user_report", args=["doctor"])
    response = auditor.get(url)
    assert {event.actor_username for event in response.context["events"]} == {"doctor"}
    before = AuditEvent.objects.filter(action="audit_export").count()
    download = auditor.get(url, {"format": "csv"})
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["id", "at", "actor_username"]
    assert len(rows) - 1 == len(response.context["events"])
    exported = AuditEvent.objects.filter(action="audit_export")
    assert exported.count() == before + 1
    assert exported.last().details["rows"] == len(rows) - 1


def test_clinicians_do_not_read_the_trail(scene):
    doctor, patient, _ = scene
    client = Client()
    client.force_login(doctor)
    url = reverse("admin:audit_auditevent_patient_report", args=[patient.pk])
    assert client.get(url).status_code == 403


def test_the_trail_is_searched_by_patient_mrn_kept_out_of_the_address(scene):
    doctor, patient, auditor = scene
    other = factories.patient(acting_user=doctor)
    url = reverse("admin:audit_auditevent_changelist")

    def searched(mrn):
        listed = auditor.post(url, {"_search": "1", "q": mrn})
        assert mrn not in listed["Location"]
        return auditor.get(listed["Location"]).context["cl"].result_list

    shown = searched(patient.mrn.lower())
    assert shown and {event.patient_id for event in shown} == {patient.pk}
    assert other.pk not in {event.patient_id for event in shown}
    assert not searched("NO-SUCH")
    # The list's old ?mrn= filter, bookmarked: the same search, by token.
    response = auditor.get(url, {"mrn": patient.mrn}, follow=True)
    assert patient.mrn not in response.redirect_chain[-1][0]
    assert {e.patient_id for e in response.context["cl"].result_list} == {patient.pk}


def test_change_timeline_across_charts_and_users(scene, make_user):
    doctor, patient, auditor = scene
    make_user("newcomer", first_name="Ada")
    url = reverse("admin:audit_auditevent_timeline")
    changes = auditor.get(url).context["changes"]
    what = [change["what"] for change in changes]
    # Records named as people know them (issue #17), not "patient #6".
    assert str(patient) in what
    assert "User Ada (newcomer)" in what
    moved = next(c for c in changes if c["reason"] == "Moved")
    assert moved["fields"] == [("City", "", "Arnsby")]
    assert AuditEvent.objects.filter(
        actor_username="checker", action="view", patient_id=patient.pk
    ).exists()
    before = AuditEvent.objects.filter(action="audit_export").count()
    download = auditor.get(url, {"format": "csv"})
    assert download.content.decode("utf-8-sig").startswith("at,record,change")
    assert AuditEvent.objects.filter(action="audit_export").count() == before + 1


def test_changes_are_those_of_charts_the_reader_may_open(scene, make_user):
    doctor, patient, _ = scene
    outsider = make_user("outsider", roles=[roles.CLINICIAN])
    mine = factories.patient(acting_user=outsider)
    period = Period.of_days(date.today() - timedelta(days=1), date.today())
    changes = reports.history_changes(user=outsider, period=period)
    assert {c["what"] for c in changes.rows if c["what"].startswith("patient")} == {
        f"patient #{mine.pk}"
    }
    read = AuditEvent.objects.filter(actor_username="outsider", action="view")
    assert set(read.values_list("patient_id", flat=True)) == {mine.pk}


def test_each_change_is_told_against_the_version_before_it(scene):
    doctor, patient, auditor = scene
    for city in ("Brindle", "Calder", "Dunmore"):
        services.patient_update(
            acting_user=doctor, patient=patient, data={"city": city}, reason=city
        )
    period = Period.of_days(date.today() - timedelta(days=1), date.today())

    def changes_read():
        with CaptureQueriesContext(connection) as queries:
            rows = reports.history_changes(
                user=auditor_user(), period=period, patient_id=patient.pk
            ).rows
        return rows, len(queries)

    rows, queries = changes_read()
    told = {c["reason"]: c["fields"] for c in rows}
    assert told["Calder"] == [("city", "Brindle", "Calder")]
    assert told["Dunmore"] == [("city", "Calder", "Dunmore")]
    # One more change, no more queries: versions are read together, not each.
    services.patient_update(
        acting_user=doctor, patient=patient, data={"city": "Elton"}, reason="Elton"
    )
    assert changes_read()[1] == queries


def auditor_user():
    from records.users.models import User

    return User.objects.get(username="checker")


def test_a_long_period_says_it_is_shown_in_part(scene, monkeypatch):
    doctor, patient, auditor = scene
    period = Period.of_days(date.today() - timedelta(days=1), date.today())
    newest = factories.patient(acting_user=doctor)  # a second chart, changed last
    views = AuditEvent.objects.filter(actor_username="checker", action="view")
    before = set(views.values_list("pk", flat=True))
    changes = reports.history_changes(user=auditor_user(), period=period, limit=1)
    assert len(changes.rows) == 1 and changes.partial
    assert changes.rows[0]["chart"] == newest.pk
    # Only the chart shown counts as read, not every chart the report looked at.
    read = views.exclude(pk__in=before)
    assert list(read.values_list("patient_id", flat=True)) == [newest.pk]
    whole = reports.history_changes(user=auditor_user(), period=period)
    assert not whole.partial and len(whole.rows) > 1
    # Its CSV says so too: in the file's name and in the export's audit event.
    monkeypatch.setattr(audit_admin, "CHANGE_ROWS", 1)
    timeline = reverse("admin:audit_auditevent_timeline")
    download = auditor.get(timeline, {"format": "csv"})
    assert 'filename="ndas-audit-partial.csv"' in download["Content-Disposition"]
    assert AuditEvent.objects.filter(action="audit_export").last().details["partial"]
    monkeypatch.undo()
    monkeypatch.setattr(audit_admin, "REPORT_ROWS", 1)
    url = reverse("admin:audit_auditevent_patient_report", args=[patient.pk])
    page = auditor.get(url).content.decode()
    assert 'data-testid="events-partial"' in page
    assert 'data-testid="changes-partial"' not in page


def test_a_change_is_told_against_a_version_from_before_the_period(scene):
    doctor, patient, auditor = scene
    # Everything so far happened ten days ago; one change happens now.
    patient.history.update(history_date=timezone.now() - timedelta(days=10))
    services.patient_update(
        acting_user=doctor, patient=patient, data={"city": "Calder"}, reason="Now"
    )
    period = Period.of_days(date.today() - timedelta(days=1), date.today())
    changes = reports.history_changes(
        user=auditor_user(), period=period, patient_id=patient.pk
    )
    assert [(c["reason"], c["fields"]) for c in changes.rows] == [
        ("Now", [("city", "Arnsby", "Calder")])
    ]
