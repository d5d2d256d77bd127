"""The chart summary page: what opening a patient shows, to whom, and how it is
recorded; the list and a save lead to it; a gestation changed by the form recomputes
the visits' growth figures."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from records.audit.models import AuditEvent
from records.clinical_records.models import ClinicalRecord
from records.clinical_records.services import GROWTH_RECOMPUTED_REASON
from records.patients import services
from records.patients.models import BreakGlassUse
from records.users import roles
from tests import factories
from tests.helpers import admin_form_data

pytestmark = pytest.mark.django_db
TODAY = date.today()


@pytest.fixture
def clinician(client, make_user):
    user = make_user("doc", roles=[roles.CLINICIAN])
    client.force_login(user)
    return user


@pytest.fixture
def chart(clinician):
    patient = factories.patient(
        acting_user=clinician,
        given_name="Orrin",
        sex="male",
        date_of_birth=TODAY - timedelta(days=700),
        gestational_age_weeks=29,
        gestational_age_days=3,
    )
    factories.assessment(acting_user=clinician, patient=patient)
    for days, weight, head in ((600, "7.9", "43.5"), (300, "9.6", "46.0")):
        factories.visit(
            acting_user=clinician,
            patient=patient,
            visit_date=TODAY - timedelta(days=days),
            weight_kg=Decimal(weight),
            height_cm=None,
            head_circumference_cm=Decimal(head),
            diagnoses=["F84.0", "R62.0"],
            follow_up_date=TODAY + timedelta(days=30),
        )
    return patient


def summary_url(patient):
    return reverse("admin:patients_patient_summary", args=[patient.pk])


def test_summary_shows_the_chart(client, chart):
    response = client.get(summary_url(chart))
    assert response.status_code == 200
    page = response.content.decode()
    assert chart.mrn in page and "ORRIN" not in page  # the family name is upper
    assert chart.family_name.upper() in page
    assert "corrected" in page  # a preterm child under two
    assert "UK-WHO" in page
    assert 'id="growth-data"' in page and "data-growth-chart" in page
    assert "summary_charts.js" in page
    assert "<script>" not in page.replace('<script id="', "")  # no inline script
    assert "F84.0" in page and "Childhood autism" in page
    assert "Follow-ups due" in page
    assert f"?patient={chart.pk}" in page  # add buttons with the patient
    assert reverse("admin:patients_patient_change", args=[chart.pk]) in page
    # A clinician sees neither the audit report nor who could open it.
    assert "Audit report" not in page and "Who could open" not in page


def test_summary_is_a_recorded_chart_opening(client, chart, clinician):
    before = AuditEvent.objects.filter(action="view").count()
    client.get(summary_url(chart))
    event = AuditEvent.objects.filter(action="view").order_by("-pk").first()
    assert AuditEvent.objects.filter(action="view").count() == before + 1
    assert event.actor_id == clinician.pk
    assert event.patient_id == chart.pk


def test_summary_outside_access_is_a_404(client, chart, make_user):
    stranger = make_user("stranger", roles=[roles.CLINICIAN])
    client.force_login(stranger)
    assert client.get(summary_url(chart)).status_code == 404
    assert client.get("/admin/patients/patient/999999/summary/").status_code == 404


def test_emergency_access_shows_the_banner_and_counts(client, chart, make_user):
    outsider = make_user("er", roles=[roles.CLINICIAN])
    services.break_glass_open(
        acting_user=outsider, mrn=chart.mrn, reason="Seizure in the emergency room"
    )
    client.force_login(outsider)
    page = client.get(summary_url(chart)).content.decode()
    assert 'data-testid="emergency-banner"' in page
    assert BreakGlassUse.objects.filter(grant__patient=chart).exists()


def test_auditor_gets_the_audit_and_access_links(client, chart, make_user):
    auditor = make_user("aud", roles=[roles.AUDITOR])
    client.force_login(auditor)
    page = client.get(summary_url(chart)).content.decode()
    assert reverse("admin:audit_auditevent_patient_report", args=[chart.pk]) in page
    assert reverse("admin:patients_patient_access", args=[chart.pk]) in page
    assert "Add visit" not in page


def test_list_row_links_open_the_summary(client, chart):
    page = client.get(reverse("admin:patients_patient_changelist")).content.decode()
    assert summary_url(chart) in page


def test_save_opens_the_summary_and_gestation_by_form_recomputes(
    client, chart, clinician
):
    visit = ClinicalRecord.objects.filter(patient=chart).order_by("visit_date")[0]
    before = visit.weight_sds
    url = reverse("admin:patients_patient_change", args=[chart.pk])
    page = client.get(url)
    data = admin_form_data(
        page,
        gestational_age_weeks="38",
        gestational_age_days="0",
        change_reason="Birth letter",
        care_teams=[factories.team(f"Team of {clinician.username}").pk],
    )
    response = client.post(url, data)
    assert response.status_code == 302, _debug(response)
    assert response["Location"] == summary_url(chart)
    visit.refresh_from_db()
    assert visit.weight_sds < before  # corrected by 2 weeks, not 10+4
    assert visit.history.first().history_change_reason == GROWTH_RECOMPUTED_REASON
    # Save and continue editing stays on the form.
    page = client.get(url)
    data = admin_form_data(page, care_teams=data["care_teams"], _continue="1")
    response = client.post(url, data)
    assert response["Location"].startswith(url)


def test_visit_page_shows_figures(client, chart):
    visit = ClinicalRecord.objects.filter(patient=chart).order_by("visit_date")[0]
    page = client.get(
        reverse("admin:clinical_records_clinicalrecord_change", args=[visit.pk])
    ).content.decode()
    assert "7.9 kg, " in page and "centile, SDS " in page


def test_timeline_is_paged(client, clinician):
    patient = factories.patient(acting_user=clinician, sex="female")
    for n in range(25):
        factories.visit(
            acting_user=clinician,
            patient=patient,
            visit_date=TODAY - timedelta(days=n),
            weight_kg=None,
            height_cm=None,
        )
    first = client.get(summary_url(patient)).content.decode()
    assert "Page 1 of 2" in first and "?page=2" in first
    second = client.get(summary_url(patient) + "?page=2").content.decode()
    assert "Page 2 of 2" in second


def _debug(response):
    form = response.context["adminform"].form
    return form.errors
