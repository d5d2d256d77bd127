"""The dashboard fitted to each role: the clinician's worklist (only charts they may
open), the data manager's imports and exports, the auditor's and administrator's
reviews; every row a link; the same queries at 5 charts and at 50."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from records.audit.models import Action
from records.audit.services import audit_record
from records.clinical_records.models import ClinicalRecord
from records.common.display import show_date
from records.common.models import ScheduledRun
from records.imports.models import ExportJob, ImportJob
from records.patients.services import access
from records.users import roles
from records.users.models import LoginEvent
from tests import factories
from tests.factories import charts_bulk_create

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


def panels(response) -> dict:
    return {panel.key: panel for panel in response.context["panels"]}


def worklist_rows(charts, clinician) -> None:
    """On each chart: a follow-up due, a visit on the 50th centile and one two
    centile spaces below it (an alert), and an opening by the clinician."""
    rows = []
    for n, chart in enumerate(charts):
        rows += [
            ClinicalRecord(
                patient=chart,
                visit_date=TODAY - timedelta(days=60),
                visit_type="new",
                clinician=clinician,
                status="final",
                follow_up_date=TODAY + timedelta(days=1 + n % 10),
                weight_sds=Decimal("0.0"),
                weight_centile=Decimal("50"),
            ),
            ClinicalRecord(
                patient=chart,
                visit_date=TODAY - timedelta(days=3),
                visit_type="urgent",
                clinician=clinician,
                status="final",
                weight_sds=Decimal("-1.5"),
                weight_centile=Decimal("6.7"),
            ),
        ]
    ClinicalRecord.objects.bulk_create(rows)
    for chart in charts:
        audit_record(action=Action.VIEW, actor=clinician, patient_id=chart.pk)


@pytest.fixture
def clinic(make_user):
    me = make_user("me", roles=[roles.CLINICIAN])
    staff = factories.clinician("bulk-staff")
    ours = factories.team("Ours", me, staff)
    theirs = factories.team("Theirs", staff)
    return me, staff, ours, theirs


def test_clinicians_worklist_shows_only_charts_of_their_teams(client, clinic):
    me, staff, ours, theirs = clinic
    (mine,) = charts_bulk_create(1, teams=[ours], staff=me)
    (other,) = charts_bulk_create(1, teams=[theirs], staff=me, start=1)
    worklist_rows([mine, other], me)
    client.force_login(me)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    found = panels(response)
    assert list(found) == [
        "drafts",
        "follow-ups",
        "growth-alerts",
        "recent-charts",
        "emergency-held",
    ]
    summary = reverse("admin:patients_patient_summary", args=[mine.pk])
    for key in ("follow-ups", "growth-alerts", "recent-charts"):
        assert [row.url for row in found[key].rows] == [summary], key
    visit, assessment = (
        mine.clinical_records.get(status="draft"),
        mine.assessments.get(),
    )
    assert {row.url for row in found["drafts"].rows} == {
        reverse("admin:clinical_records_clinicalrecord_change", args=[visit.pk]),
        reverse("admin:patients_assessment_change", args=[assessment.pk]),
    }
    page = response.content.decode()
    assert mine.mrn in page and other.mrn not in page
    assert show_date(TODAY + timedelta(days=1)) in page  # the follow-up's date
    assert "Weight faltering" in page
    assert "You hold no emergency access." in page
    # Every row, and every "all" link, opens a page the clinician may see.
    for panel in found.values():
        for url in [row.url for row in panel.rows] + [u for _, u in panel.links]:
            assert client.get(url).status_code == 200, url


def test_emergency_access_brings_the_chart_while_it_lasts(client, clinic):
    me, staff, ours, theirs = clinic
    (other,) = charts_bulk_create(1, teams=[theirs], staff=staff)
    grant = access.break_glass_open(
        acting_user=me, mrn=other.mrn, reason="Seen in the emergency department"
    )
    client.force_login(me)
    held = panels(client.get(reverse("admin:index")))["emergency-held"]
    assert [row.url for row in held.rows] == [
        reverse("admin:patients_patient_summary", args=[other.pk])
    ]
    assert held.rows[0].detail.startswith("Until ")
    type(grant).objects.filter(pk=grant.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert panels(client.get(reverse("admin:index")))["emergency-held"].rows == []


def test_the_worklist_costs_the_same_queries_at_5_and_50_charts(clinic):
    me, staff, ours, theirs = clinic
    client = Client()
    client.force_login(me)
    url = reverse("admin:index")
    client.get(url)  # a session's first request records its start
    worklist_rows(charts_bulk_create(5, teams=[ours, theirs], staff=me), me)

    def measured():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        return response, len(queries)

    few_response, few = measured()
    assert len(panels(few_response)["drafts"].rows) == 6  # three charts are ours
    more = charts_bulk_create(45, teams=[ours, theirs], staff=me, start=5)
    worklist_rows(more, me)
    many_response, many = measured()
    assert panels(many_response)["drafts"].more
    assert len(panels(many_response)["growth-alerts"].rows) == 10
    assert many == few


def test_the_worklist_costs_the_same_queries_empty_and_full(clinic):
    """Panels with nothing to show ask as panels with rows do (issue #15: the
    dashboard read two queries fewer on a quiet clinic than on a busy one)."""
    me, staff, ours, theirs = clinic
    client = Client()
    client.force_login(me)
    url = reverse("admin:index")
    client.get(url)  # a session's first request records its start

    def measured():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        return response, len(queries)

    empty_response, empty = measured()
    shown = panels(empty_response)
    assert not shown["recent-charts"].rows and not shown["growth-alerts"].rows
    worklist_rows(charts_bulk_create(5, teams=[ours, theirs], staff=me), me)
    full_response, full = measured()
    shown = panels(full_response)
    assert shown["recent-charts"].rows and shown["growth-alerts"].rows
    assert full == empty


def test_data_managers_imports_and_exports(client, make_user):
    manager = make_user("dm", roles=[roles.DATA_MANAGER])
    someone = make_user("dm2", roles=[roles.DATA_MANAGER])

    def job(user, status, stored_as="imports/x.csv"):
        return ImportJob.objects.create(
            user=user,
            entity="patients",
            file_name=f"{status}.csv",
            size_bytes=10,
            sha256="0" * 64,
            stored_as=stored_as,
            mode="create_or_update",
            reason="test",
            status=status,
        )

    waiting = job(manager, "validated")
    job(manager, "validated", stored_as="")  # expired upload: cannot be committed
    job(someone, "validated")  # only its uploader commits it
    failed = job(manager, "failed", stored_as="")
    export = ExportJob.objects.create(
        user=manager, entity="patients", file_format="csv", row_count=1234
    )
    ExportJob.objects.create(user=someone, entity="patients", file_format="csv")
    client.force_login(manager)
    response = client.get(reverse("admin:index"))
    found = panels(response)
    assert list(found) == ["imports-to-commit", "imports-failed", "exports"]
    assert [r.url for r in found["imports-to-commit"].rows] == [
        reverse("admin:imports_importjob_report", args=[waiting.pk])
    ]
    assert [r.url for r in found["imports-failed"].rows] == [
        reverse("admin:imports_importjob_report", args=[failed.pk])
    ]
    assert [r.url for r in found["exports"].rows] == [
        reverse("admin:imports_exportjob_change", args=[export.pk])
    ]
    assert "1,234 rows" in response.content.decode()
    for panel in found.values():
        for url in [row.url for row in panel.rows] + [u for _, u in panel.links]:
            assert client.get(url).status_code in (200, 302), url


@pytest.fixture
def reviews(make_user):
    """An emergency access not yet acknowledged, one acknowledged, a lockout."""
    doctor = make_user("doc", roles=[roles.CLINICIAN], first_name="Ada", last_name="Ek")
    auditor = make_user("aud", roles=[roles.AUDITOR])
    staff = factories.clinician("bulk-staff")
    charts = charts_bulk_create(
        2, teams=[factories.team("Theirs", staff)], staff=staff, records=False
    )
    live = access.break_glass_open(
        acting_user=doctor, mrn=charts[0].mrn, reason="Seen in the emergency room"
    )
    seen = access.break_glass_open(
        acting_user=doctor, mrn=charts[1].mrn, reason="Seen in the emergency room"
    )
    access.break_glass_acknowledge(acting_user=auditor, grant=seen)
    LoginEvent.objects.create(kind="lockout", username="mallory", ip="192.0.2.7")
    return auditor, live


def test_auditors_review_emergency_access_exports_and_lockouts(client, reviews):
    auditor, live = reviews
    client.force_login(auditor)
    response = client.get(reverse("admin:index"))
    found = panels(response)
    assert list(found) == ["emergency-review", "lockouts", "all-exports"]
    assert [r.url for r in found["emergency-review"].rows] == [
        reverse("admin:patients_breakglassgrant_change", args=[live.pk])
    ]
    assert found["emergency-review"].rows[0].text.startswith("Ada Ek opened ")
    assert [r.text for r in found["lockouts"].rows] == ["mallory"]
    for panel in found.values():
        for url in [row.url for row in panel.rows] + [u for _, u in panel.links]:
            assert client.get(url).status_code == 200, url


def test_administrators_see_lockouts_reviews_and_failed_jobs(
    client, make_user, reviews
):
    now = timezone.now()
    failed = ScheduledRun.objects.create(
        task="verify_audit", started_at=now, succeeded=False, message="no head"
    )
    ScheduledRun.objects.create(task="clear_sessions", started_at=now, succeeded=True)
    boss = make_user("boss", roles=[roles.ADMINISTRATOR])
    client.force_login(boss)
    found = panels(client.get(reverse("admin:index")))
    assert list(found) == ["emergency-review", "lockouts", "failed-jobs"]
    assert len(found["emergency-review"].rows) == 1
    [row] = found["failed-jobs"].rows
    assert row.text == "Checking the audit trail" and row.detail == "no head"
    for panel in found.values():
        for url in [row.url for row in panel.rows] + [u for _, u in panel.links]:
            assert client.get(url).status_code == 200, url
    runs = client.get(row.url)
    assert list(runs.context["cl"].result_list) == [failed]
    assert "Checking the audit trail" in runs.content.decode()


def test_each_panel_once_for_several_roles(client, make_user):
    both = make_user("both", roles=[roles.ADMINISTRATOR, roles.AUDITOR])
    client.force_login(both)
    keys = list(panels(client.get(reverse("admin:index"))))
    assert len(keys) == len(set(keys))
    assert {"emergency-review", "lockouts", "failed-jobs", "all-exports"} <= set(keys)
