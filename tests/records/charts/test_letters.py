"""The clinic letter's and the printed summary's read model
(records/charts/letters.py), and the PDF renderer's fetcher (admin_ext/pdf.py)."""

import threading
from datetime import date, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from weasyprint import HTML

from admin_ext.pdf import local_files_fetcher, stylesheet_path
from records.charts import letters
from records.clinical_records import services as visit_services
from records.clinical_records.models import ClinicalRecord
from records.patients import services
from records.patients.models import Assessment, Patient
from records.users import roles
from tests import factories

pytestmark = pytest.mark.django_db
TODAY = date.today()


@pytest.fixture
def clinician(make_user):
    return make_user(
        "adoc", roles=[roles.CLINICIAN], first_name="Ada", last_name="Lovelace"
    )


@pytest.fixture
def chart(clinician):
    return factories.patient(
        acting_user=clinician,
        given_name="Orrin",
        sex="male",
        date_of_birth=TODAY - timedelta(days=700),
    )


def final_visit(clinician, chart, **data):
    visit = factories.visit(
        acting_user=clinician,
        patient=chart,
        visit_date=TODAY - timedelta(days=10),
        weight_kg=Decimal("11.5"),
        height_cm=Decimal("84.0"),
        head_circumference_cm=Decimal("47.5"),
        heart_rate=110,
        diagnoses=["F84.0", "R62.0"],
        assessment_and_plan="Speech and language therapy referral.",
        follow_up_date=TODAY + timedelta(days=90),
        **data,
    )
    return visit_services.clinical_record_finalize(acting_user=clinician, record=visit)


def test_visit_letter_holds_what_the_letter_says(clinician, chart, settings):
    settings.CLINIC_NAME = "Riverside Child Development Centre"
    settings.CLINIC_ADDRESS = "Riverside Hospital; 2 Mill Lane;  ; Riverton RV1 1AA"
    visit = final_visit(clinician, chart, examination="Alert, playful.")

    letter = letters.visit_letter(user=clinician, pk=visit.pk)

    assert letter.patient == chart and letter.kind == "visit"
    assert letter.letterhead.name == "Riverside Child Development Centre"
    assert letter.letterhead.address_lines == [
        "Riverside Hospital",
        "2 Mill Lane",
        "Riverton RV1 1AA",
    ]
    labels = {line.label: line.text for line in letter.measurements}
    weight = visit.weight_centile
    assert labels["Weight"].startswith("11.5 kg, ")
    assert f"centile, SDS {float(visit.weight_sds):+.2f}" in labels["Weight"]
    assert weight is not None and "centile" in labels["Head circumference"]
    assert labels["Heart rate"] == "110 beats/min"
    assert "Temperature" not in labels  # not measured: no line
    assert letter.diagnoses == [
        ("F84.0", "Childhood autism"),
        ("R62.0", "Delayed milestone"),
    ]
    assert [(f.label, f.text) for f in letter.findings] == [
        ("Examination", "Alert, playful.")
    ]
    assert letter.plan == "Speech and language therapy referral."
    assert letter.follow_up == TODAY + timedelta(days=90)
    assert letter.clinician == "Ada Lovelace"
    assert letter.growth_reference == "UK-WHO"
    assert letter.filename == f"ndas-letter-visit-{visit.pk}.pdf"
    assert chart.mrn not in letter.filename


def test_assessment_letter_names_the_assessor_and_the_outcome(clinician, chart):
    assessment = factories.assessment(
        acting_user=clinician,
        patient=chart,
        findings="Fidgety movements present.",
        recommendations="Routine follow-up.",
    )
    services.assessment_finalize(acting_user=clinician, assessment=assessment)

    letter = letters.assessment_letter(user=clinician, pk=assessment.pk)

    found = {line.label: line.text for line in letter.findings}
    assert found == {
        "Assessment": "HINE",
        "Total score": "60.0",
        "Outcome": "Typical",
        "Findings": "Fidgety movements present.",
    }
    assert letter.plan == "Routine follow-up."
    assert letter.clinician == "Ada Lovelace"
    assert letter.filename == f"ndas-letter-assessment-{assessment.pk}.pdf"


def test_a_draft_is_not_a_letter(clinician, chart):
    visit = factories.visit(acting_user=clinician, patient=chart)
    assessment = factories.assessment(acting_user=clinician, patient=chart)

    with pytest.raises(letters.DraftLetterError) as refused:
        letters.visit_letter(user=clinician, pk=visit.pk)
    assert refused.value.messages == [
        letters.E_DRAFT_LETTER.format(kind="visit record")
    ]
    with pytest.raises(letters.DraftLetterError):
        letters.assessment_letter(user=clinician, pk=assessment.pk)


def test_a_record_out_of_reach_is_not_found(clinician, chart, make_user):
    visit = final_visit(clinician, chart)
    assessment = factories.assessment(acting_user=clinician, patient=chart)
    stranger = make_user("other", roles=[roles.CLINICIAN])

    with pytest.raises(ClinicalRecord.DoesNotExist):
        letters.visit_letter(user=stranger, pk=visit.pk)
    with pytest.raises(Assessment.DoesNotExist):
        letters.assessment_letter(user=stranger, pk=assessment.pk)
    with pytest.raises(Patient.DoesNotExist):
        letters.summary_print(user=stranger, pk=chart.pk)


def test_printed_summary_rows(clinician, chart, monkeypatch):
    monkeypatch.setattr(letters, "PRINT_GROWTH_ROWS", 2)
    monkeypatch.setattr(letters, "PRINT_SCORES", 1)
    for days in (300, 200, 100):
        factories.visit(
            acting_user=clinician,
            patient=chart,
            visit_date=TODAY - timedelta(days=days),
        )
    assessment = factories.assessment(
        acting_user=clinician, patient=chart, total_score=Decimal("55")
    )

    printed = letters.summary_print(user=clinician, pk=chart.pk)

    assert [row["on"] for row in printed.growth_rows] == [
        TODAY - timedelta(days=100),
        TODAY - timedelta(days=200),
    ]
    assert printed.growth_rows_left == 1
    assert "centile" in printed.growth_rows[0]["weight"]
    assert printed.trends == [("HINE", [(assessment.performed_on, "55.0")], 0)]
    assert len(printed.timeline) == 4 and printed.timeline_left == 0
    assert printed.filename == f"ndas-summary-{chart.pk}.pdf"
    # A second HINE: the latest one shown (PRINT_SCORES), one said to be left out.
    factories.assessment(acting_user=clinician, patient=chart)
    trends = letters.summary_print(user=clinician, pk=chart.pk).trends
    assert len(trends[0][1]) == 1 and trends[0][2] == 1


def test_letterhead_without_a_usable_logo(settings, tmp_path):
    settings.CLINIC_LOGO = str(tmp_path / "missing.png")
    assert letters.letterhead().logo_path == ""
    script = tmp_path / "logo.html"
    script.write_text("<p>not an image</p>")
    settings.CLINIC_LOGO = str(script)
    assert letters.letterhead().logo_path == ""
    logo = tmp_path / "logo.png"
    logo.write_bytes(b"\x89PNG\r\n\x1a\n")
    settings.CLINIC_LOGO = str(logo)
    assert letters.letterhead().logo_path == str(logo.resolve())
    settings.CLINIC_LOGO = ""
    assert letters.letterhead().logo_path == ""


class _Counter(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802 - http.server's name
        type(self).hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def listening():
    """A local HTTP server that counts the requests it gets."""
    _Counter.hits = []
    server = HTTPServer(("127.0.0.1", 0), _Counter)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", _Counter.hits
    server.shutdown()
    server.server_close()


def test_the_fetcher_serves_its_files_and_refuses_every_other_address(
    listening, tmp_path
):
    url, hits = listening
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the letter")
    css = stylesheet_path()
    fetcher = local_files_fetcher([css])
    page = (
        f'<link rel="stylesheet" href="file://{css}">'
        f'<img src="{url}/pixel.png"><link rel="stylesheet" href="{url}/x.css">'
        f'<img src="file://{secret}"><img src="data:image/png;base64,AAAA">'
    )

    pdf = HTML(string=page, url_fetcher=fetcher).write_pdf()

    assert pdf.startswith(b"%PDF")
    assert hits == []  # nothing reached the server
    assert f"{url}/pixel.png" in fetcher.refused
    assert f"{url}/x.css" in fetcher.refused
    assert f"file://{secret}" in fetcher.refused
    assert not any(css in refused for refused in fetcher.refused)


def test_a_logo_that_is_not_there_is_a_deploy_warning(settings, tmp_path):
    from ndas import checks

    settings.CLINIC_LOGO = str(tmp_path / "missing.png")
    assert [w.id for w in checks.clinic_logo_check()] == ["ndas.W002"]
    settings.CLINIC_LOGO = ""  # no logo, on purpose
    assert checks.clinic_logo_check() == []
    settings.CLINIC_LOGO = stylesheet_path().replace(
        "letters/letter.css", "favicon.svg"
    )
    assert checks.clinic_logo_check() == []
