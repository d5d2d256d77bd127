"""Clinic letters and the printed chart summary as PDF downloads: what the PDF says
(its text read back by pypdf), who may download it, that each download is an audit
event, that a draft is refused, and that a note's markup makes the server fetch
nothing."""

import threading
from datetime import date, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from records.audit.models import AuditEvent
from records.charts.letters import E_DRAFT_LETTER
from records.clinical_records import growth
from records.clinical_records import services as visit_services
from records.patients import services
from records.patients.models import BreakGlassUse
from records.users import roles
from tests import factories
from tests.helpers import letter_url, pdf_text

pytestmark = pytest.mark.django_db
TODAY = date.today()


@pytest.fixture
def clinician(client, make_user):
    user = make_user(
        "adoc", roles=[roles.CLINICIAN], first_name="Ada", last_name="Lovelace"
    )
    client.force_login(user)
    return user


@pytest.fixture
def chart(clinician):
    return factories.patient(
        acting_user=clinician,
        given_name="Orrin",
        sex="male",
        date_of_birth=TODAY - timedelta(days=700),
    )


@pytest.fixture
def visit(clinician, chart):
    record = factories.visit(
        acting_user=clinician,
        patient=chart,
        visit_date=TODAY - timedelta(days=10),
        weight_kg=Decimal("11.5"),
        height_cm=Decimal("84.0"),
        head_circumference_cm=Decimal("47.5"),
        diagnoses=["F84.0", "R62.0"],
        examination="Alert and playful.",
        assessment_and_plan="Speech and language therapy referral.",
        follow_up_date=TODAY + timedelta(days=90),
    )
    return visit_services.clinical_record_finalize(acting_user=clinician, record=record)


def summary_pdf_url(patient):
    return reverse("admin:patients_patient_summary_pdf", args=[patient.pk])


def test_visit_letter_pdf_says_what_a_letter_says(client, visit, chart, settings):
    settings.CLINIC_NAME = "Riverside Child Development Centre"
    response = client.get(letter_url(visit))
    text = pdf_text(response)

    assert chart.mrn in text
    assert chart.family_name.upper() in text
    assert "Riverside Child Development Centre" in text
    weight = growth.figure_text(
        visit.weight_kg, "kg", visit.weight_sds, visit.weight_centile
    )
    assert "centile" in weight and weight in text  # 11.5 kg, 50th centile, SDS ...
    assert "Childhood autism" in text and "Delayed milestone" in text
    assert "Speech and language therapy referral." in text
    assert "Ada Lovelace" in text
    assert (TODAY + timedelta(days=90)).strftime("%-d %b %Y") in text
    disposition = response["Content-Disposition"]
    assert disposition == f'attachment; filename="ndas-letter-visit-{visit.pk}.pdf"'
    assert chart.mrn not in disposition and chart.family_name not in disposition


def test_assessment_letter_pdf(client, clinician, chart):
    assessment = factories.assessment(
        acting_user=clinician,
        patient=chart,
        findings="Fidgety movements present.",
        recommendations="Routine follow-up in six months.",
    )
    services.assessment_finalize(acting_user=clinician, assessment=assessment)
    text = pdf_text(client.get(letter_url(assessment)))
    assert chart.mrn in text and "HINE" in text and "Typical" in text
    assert "Fidgety movements present." in text and "Ada Lovelace" in text


def test_each_download_is_an_audit_event(client, visit, chart, clinician):
    downloads = AuditEvent.objects.filter(action="download")
    before = downloads.count()

    client.get(letter_url(visit))
    client.get(summary_pdf_url(chart))

    assert downloads.count() == before + 2
    letter, summary = downloads.order_by("-pk")[:2][::-1]
    assert letter.actor_id == clinician.pk and letter.patient_id == chart.pk
    assert letter.object_type == "clinical_records.clinicalrecord"
    assert letter.object_id == str(visit.pk)
    assert letter.summary == f"clinic letter (PDF) of visit record #{visit.pk}"
    assert summary.object_type == "patients.patient"
    assert summary.summary == f"chart summary (PDF) of patient #{chart.pk}"
    # The trail names ids, never the patient.
    assert chart.mrn not in letter.summary + summary.summary


def test_a_draft_is_refused_with_a_message(client, clinician, chart):
    draft = factories.visit(acting_user=clinician, patient=chart)
    downloads = AuditEvent.objects.filter(action="download").count()

    response = client.get(letter_url(draft))

    change = reverse("admin:clinical_records_clinicalrecord_change", args=[draft.pk])
    assert response.status_code == 302 and response["Location"] == change
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        E_DRAFT_LETTER.format(kind="visit record")
    ]
    assert AuditEvent.objects.filter(action="download").count() == downloads
    # The draft's page offers no letter; a final one's does.
    assert "Clinic letter (PDF)" not in client.get(change).content.decode()


def test_the_final_page_and_the_summary_offer_the_pdfs(client, visit, chart):
    page = client.get(
        reverse("admin:clinical_records_clinicalrecord_change", args=[visit.pk])
    ).content.decode()
    assert "Clinic letter (PDF)" in page and letter_url(visit) in page
    summary = client.get(
        reverse("admin:patients_patient_summary", args=[chart.pk])
    ).content.decode()
    assert "Print summary (PDF)" in summary and summary_pdf_url(chart) in summary


def test_out_of_reach_is_not_found(client, visit, chart, make_user):
    stranger = make_user("stranger", roles=[roles.CLINICIAN])
    client.force_login(stranger)
    downloads = AuditEvent.objects.filter(action="download").count()
    for url in (letter_url(visit), summary_pdf_url(chart)):
        response = client.get(url)
        assert response.status_code == 404
        assert b"%PDF" not in response.content
    assert client.get("/admin/patients/patient/999999/summary/pdf/").status_code == 404
    assert AuditEvent.objects.filter(action="download").count() == downloads


def test_emergency_access_may_print_and_is_counted(client, visit, chart, make_user):
    outsider = make_user("er", roles=[roles.CLINICIAN])
    services.break_glass_open(
        acting_user=outsider, mrn=chart.mrn, reason="Seizure in the emergency room"
    )
    client.force_login(outsider)
    assert chart.mrn in pdf_text(client.get(letter_url(visit)))
    assert chart.mrn in pdf_text(client.get(summary_pdf_url(chart)))
    uses = BreakGlassUse.objects.filter(grant__patient=chart)
    assert set(uses.values_list("action", flat=True)) == {
        "clinicalrecord clinic letter",
        "patient chart summary",
    }


def test_summary_pdf_holds_the_summary(client, visit, chart, clinician):
    factories.assessment(acting_user=clinician, patient=chart)
    text = pdf_text(client.get(summary_pdf_url(chart)))
    assert "Chart summary" in text and chart.mrn in text
    assert "Childhood autism" in text and "Delayed milestone" in text
    assert "centile" in text and "HINE" in text
    assert "Follow-ups due" in text and "Timeline" in text
    disposition = client.get(summary_pdf_url(chart))["Content-Disposition"]
    assert disposition == f'attachment; filename="ndas-summary-{chart.pk}.pdf"'


class _Counter(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802 - http.server's name
        type(self).hits.append(self.path)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_markup_in_a_note_fetches_nothing(client, clinician, chart):
    _Counter.hits = []
    server = HTTPServer(("127.0.0.1", 0), _Counter)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        note = (
            f'<img src="{url}/tracker.png"> '
            f'<link rel="stylesheet" href="{url}/evil.css">'
        )
        record = factories.visit(
            acting_user=clinician,
            patient=chart,
            examination=note,
            assessment_and_plan=f"<style>@import url({url}/x.css);</style>",
        )
        visit_services.clinical_record_finalize(acting_user=clinician, record=record)
        text = pdf_text(client.get(letter_url(record)))
        summary = pdf_text(client.get(summary_pdf_url(chart)))
    finally:
        server.shutdown()
        server.server_close()
    assert _Counter.hits == []
    # The note is printed as the text it is.
    assert "tracker.png" in text and "<img" in text
    assert chart.mrn in summary
