"""Admin smoke tests for the chart screens: list, search, add, change, history."""

import re
from datetime import date

import pytest
import requests
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from admin_ext.admin.mixins import E_FINAL_NEEDS_REASON
from records.clinical_records.models import ClinicalRecord
from records.patients import services
from records.patients.media import E_UNKNOWN_TYPE
from records.patients.models import Assessment, MediaFile, Patient
from records.patients.services.assessments import E_FINAL_NEEDS_OUTCOME
from records.users import roles
from tests import factories
from tests.helpers import DEMO_MEDIA, PNG, admin_form_data, whole_counts

pytestmark = pytest.mark.django_db


@pytest.fixture
def clinician(client, make_user):
    user = make_user("doc", roles=[roles.CLINICIAN])
    client.force_login(user)
    return user


@pytest.fixture
def chart(clinician):
    patient = factories.patient(acting_user=clinician, given_name="Orrin")
    assessment = factories.assessment(acting_user=clinician, patient=patient)
    visit = factories.visit(acting_user=clinician, patient=patient)
    return patient, assessment, visit


@pytest.mark.parametrize(
    "name",
    [
        "patients_patient",
        "patients_assessment",
        "clinical_records_clinicalrecord",
        "patients_mediafile",
    ],
)
def test_changelists_and_add_pages_render(client, chart, name):
    assert client.get(reverse(f"admin:{name}_changelist")).status_code == 200
    assert client.get(reverse(f"admin:{name}_add")).status_code == 200


def test_change_and_history_pages_render(client, chart, s3_storage):
    patient, assessment, visit = chart
    media = services.media_upload(
        acting_user=assessment.assessor,
        patient=patient,
        uploaded_file=SimpleUploadedFile("c.png", PNG),
    )
    for obj in (patient, assessment, visit, media):
        opts = obj._meta
        change = reverse(
            f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]
        )
        history = reverse(
            f"admin:{opts.app_label}_{opts.model_name}_history", args=[obj.pk]
        )
        assert client.get(change).status_code == 200
        assert client.get(history).status_code == 200


def test_patient_page_shows_the_chart_tabs(client, chart):
    patient, assessment, visit = chart
    content = client.get(
        reverse("admin:patients_patient_change", args=[patient.pk])
    ).content.decode()
    assert str(assessment) in content and str(visit) in content


def test_patient_list_never_counts_the_whole_table(client, chart):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("admin:patients_patient_changelist"))
    assert response.status_code == 200
    assert any("patients_patient" in q["sql"] for q in queries)  # the list ran
    assert whole_counts(q["sql"] for q in queries) == []
    assert any("LIMIT 1001) subquery" in q["sql"] for q in queries)  # its count


def test_search_finds_by_fuzzy_name_and_keeps_it_out_of_addresses(client, chart):
    patient, *_ = chart
    url = reverse("admin:patients_patient_changelist")
    page = client.get(url).content.decode()
    assert 'method="post" role="search"' in page  # the box posts its term
    response = client.post(
        f"{url}?status__exact=active&p=2", {"_search": "1", "q": "Orin"}
    )
    # The list again, at its first page, with its filter and a token, no term.
    assert response.status_code == 302
    address = response["Location"]
    assert "Orin" not in address and "p=" not in address
    assert address.startswith(f"{url}?status__exact=active&s=")
    response = client.get(address)
    assert [p.pk for p in response.context["cl"].result_list] == [patient.pk]
    page = response.content.decode()
    assert 'value="Orin"' in page  # in the box, on the page
    assert not [link for link in re.findall(r'href="([^"]*)"', page) if "Orin" in link]
    # An address with the term in it (an old bookmark) loses it the same way.
    response = client.get(url, {"q": "Orin"})
    assert response.status_code == 302 and "Orin" not in response["Location"]
    assert client.get(response["Location"]).context["cl"].query == "Orin"
    # The same term again, the same token; an empty search is no search.
    again = client.post(url, {"_search": "1", "q": "Orin"})["Location"]
    assert again == address.replace("status__exact=active&", "")
    response = client.post(url, {"_search": "1", "q": " "})
    assert response["Location"] == url
    # A token this session does not hold: the whole list, saying so, and no
    # action or edit runs on rows nobody was shown.
    response = client.get(url, {"s": "not-a-token"}, follow=True)
    assert response.redirect_chain == [(url, 302)]
    assert [m.level_tag for m in response.context["messages"]] == ["warning"]
    response = client.post(f"{url}?s=gone", {"action": "delete_selected"})
    assert response.status_code == 302 and response["Location"] == url
    # A form posted to an address with a term is not a search: it runs (here,
    # Django's "no action selected"), and the term is not taken up.
    searches = client.session["ndas:searches"]
    response = client.post(f"{url}?q=Orin", {"action": "", "index": "0"})
    assert "?s=" not in response.get("Location", "")
    assert client.session["ndas:searches"] == searches


# --- writes through the admin --------------------------------------------------------


def test_registering_a_patient_warns_of_duplicates(client, chart, clinician):
    patient, *_ = chart
    page = client.get(reverse("admin:patients_patient_add"))
    data = admin_form_data(
        page,
        mrn="nda-9001",
        given_name="Orin",
        family_name=patient.family_name,
        date_of_birth=str(patient.date_of_birth),
        sex="male",
        status="active",
        care_teams=[factories.team(f"Team of {clinician.username}").pk],
        change_reason="New referral",
    )
    response = client.post(reverse("admin:patients_patient_add"), data, follow=True)
    new = Patient.objects.get(mrn="NDA-9001")
    assert new.created_by == clinician
    history = new.history.get()
    assert history.history_user == clinician
    assert history.history_change_reason == "New referral"
    messages = [str(m) for m in response.context["messages"]]
    assert any("Possible duplicate" in m and patient.mrn in m for m in messages)


def test_stale_patient_form_is_refused_with_a_clear_error(client, chart, clinician):
    patient, *_ = chart
    url = reverse("admin:patients_patient_change", args=[patient.pk])
    page = client.get(url)
    services.patient_update(
        acting_user=clinician, patient=patient, data={"city": "Arnsby"}
    )
    response = client.post(url, admin_form_data(page, city="Brelling"))
    assert response.status_code == 200
    assert "Someone else saved this patient" in response.content.decode()
    assert Patient.objects.get(pk=patient.pk).city == "Arnsby"


def test_final_assessment_needs_a_reason_to_change(client, chart, clinician):
    _, assessment, _ = chart
    services.assessment_finalize(acting_user=clinician, assessment=assessment)
    url = reverse("admin:patients_assessment_change", args=[assessment.pk])
    # The form is the Amend page's; it posts to the change page as it always did.
    page = client.get(f"{url}?amend=1")
    response = client.post(url, admin_form_data(page, findings="Revised"))
    assert E_FINAL_NEEDS_REASON in response.content.decode()
    assert Assessment.objects.get(pk=assessment.pk).findings == ""
    page = client.get(f"{url}?amend=1")
    response = client.post(
        url, admin_form_data(page, findings="Revised", change_reason="Late finding")
    )
    assert response.status_code == 302
    amended = Assessment.objects.get(pk=assessment.pk)
    assert amended.findings == "Revised" and amended.status == "final"
    assert amended.history.first().history_change_reason == "Amendment: Late finding"
    # Saved again as it stands: no reason asked, nothing written, no error.
    versions = amended.history.count()
    page = client.get(f"{url}?amend=1")
    response = client.post(url, admin_form_data(page), follow=True)
    assert [m.level_tag for m in response.context["messages"]] == ["success"]
    assert amended.history.count() == versions


def test_making_final_without_an_outcome_keeps_the_form(client, chart):
    _, assessment, _ = chart
    url = reverse("admin:patients_assessment_change", args=[assessment.pk])
    page = client.get(url)
    response = client.post(url, admin_form_data(page, outcome="", make_final="on"))
    assert response.status_code == 200
    assert E_FINAL_NEEDS_OUTCOME in response.content.decode()
    assert Assessment.objects.get(pk=assessment.pk).status == "draft"


def test_visit_can_be_recorded_and_finalised(client, chart, clinician):
    patient, *_ = chart
    page = client.get(reverse("admin:clinical_records_clinicalrecord_add"))
    data = admin_form_data(
        page,
        patient=patient.pk,
        visit_date=str(date.today()),
        visit_type="new",
        clinician=clinician.pk,
        weight_kg="12.5",
        height_cm="85",
        diagnoses="f840, R62.0",
        make_final="on",
    )
    response = client.post(reverse("admin:clinical_records_clinicalrecord_add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    visit = ClinicalRecord.objects.exclude(pk=chart[2].pk).get()
    assert visit.diagnoses == ["F84.0", "R62.0"] and visit.status == "final"
    assert str(visit.bmi) == "17.3"


def test_delete_needs_a_reason_and_an_administrator(client, chart, make_user):
    patient, *_ = chart
    url = reverse("admin:patients_patient_delete", args=[patient.pk])
    assert client.get(url).status_code == 403  # clinicians do not delete
    client.force_login(make_user("chief", roles=[roles.ADMINISTRATOR]))
    assert b"delete_reason" in client.get(url).content
    client.post(url, {"post": "yes", "delete_reason": " "})
    assert Patient.objects.filter(pk=patient.pk).exists()
    client.post(url, {"post": "yes", "delete_reason": "Test chart"})
    assert not Patient.objects.filter(pk=patient.pk).exists()
    entry = Patient.history.filter(id=patient.pk, history_type="-").get()
    assert entry.history_change_reason == "Test chart"


def test_history_page_shows_field_changes(client, chart, clinician):
    patient, *_ = chart
    services.patient_update(
        acting_user=clinician, patient=patient, data={"city": "Arnsby"}, reason="Moved"
    )
    url = reverse("admin:patients_patient_history", args=[patient.pk])
    content = client.get(url).content.decode()
    assert "Moved" in content and "Arnsby" in content and "city" in content.lower()


# --- media on the assessment page ----------------------------------------------------


def media_post(client, assessment, upload):
    url = reverse("admin:patients_assessment_change", args=[assessment.pk])
    page = client.get(url)
    data = admin_form_data(page)
    data.update(
        {
            "media_files-TOTAL_FORMS": "1",
            "media_files-0-file": upload,
            "media_files-0-description": "General movements",
        }
    )
    return client.post(url, data)


def test_media_uploaded_on_the_assessment_page_goes_to_s3(client, chart, s3_storage):
    _, assessment, _ = chart
    upload = SimpleUploadedFile("gm.webm", (DEMO_MEDIA / "sample.webm").read_bytes())
    response = media_post(client, assessment, upload)
    assert response.status_code == 302
    media = MediaFile.objects.get()
    assert media.assessment == assessment and media.patient == assessment.patient
    assert s3_storage.exists(media.file.name)
    download = client.get(reverse("admin:patients_mediafile_download", args=[media.pk]))
    assert download.status_code == 302
    assert download["Location"].startswith(s3_storage.endpoint_url)
    assert "no-store" in download["Cache-Control"]
    assert requests.get(download["Location"], timeout=10).status_code == 200


def test_wrong_bytes_are_refused_on_the_form(client, chart, s3_storage):
    _, assessment, _ = chart
    upload = SimpleUploadedFile("gm.webm", b"MZ definitely not a video")
    response = media_post(client, assessment, upload)
    assert response.status_code == 200
    assert E_UNKNOWN_TYPE in response.content.decode()
    assert not MediaFile.objects.exists()


def test_media_add_page_and_read_only_change_page(client, chart, s3_storage):
    patient, *_ = chart
    page = client.get(reverse("admin:patients_mediafile_add"))
    data = admin_form_data(
        page,
        patient=patient.pk,
        file=SimpleUploadedFile("c.pdf", (DEMO_MEDIA / "sample.pdf").read_bytes()),
    )
    response = client.post(reverse("admin:patients_mediafile_add"), data)
    assert response.status_code == 302
    media = MediaFile.objects.get()
    change = client.get(reverse("admin:patients_mediafile_change", args=[media.pk]))
    assert change.status_code == 200 and b"c.pdf" in change.content
    assert b'name="description"' not in change.content  # stored media never change


def test_download_of_an_unknown_media_file_is_404(client, chart):
    url = reverse("admin:patients_mediafile_download", args=[999999])
    assert client.get(url).status_code == 404


def test_local_media_is_streamed_as_an_attachment(client, chart, settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path},
        },
    }
    patient, *_ = chart
    media = services.media_upload(
        acting_user=chart[1].assessor,
        patient=patient,
        uploaded_file=SimpleUploadedFile(
            "c.png", (DEMO_MEDIA / "sample.png").read_bytes()
        ),
    )
    response = client.get(reverse("admin:patients_mediafile_download", args=[media.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")


# --- query counts do not grow with rows ---------------------------------------------


def changelist_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    "name",
    [
        "patients_patient",
        "patients_assessment",
        "clinical_records_clinicalrecord",
        "patients_mediafile",
    ],
)
def test_changelist_query_count_is_constant(client, clinician, s3_storage, name):
    url = reverse(f"admin:{name}_changelist")

    def grow_to(n):
        while Patient.objects.count() < n:
            patient = factories.patient(acting_user=clinician)
            exam = factories.assessment(acting_user=clinician, patient=patient)
            factories.visit(acting_user=clinician, patient=patient)
            services.media_upload(
                acting_user=clinician,
                patient=patient,
                assessment=exam,
                uploaded_file=SimpleUploadedFile("c.png", PNG),
            )

    grow_to(5)
    client.get(url)  # the first request of a session also records its start
    few = changelist_queries(client, url)
    grow_to(50)
    assert changelist_queries(client, url) == few


def test_the_patient_page_warns_of_likely_duplicates(client, chart, clinician):
    patient, *_ = chart
    twin = factories.patient(
        acting_user=clinician,
        given_name=patient.given_name,
        family_name=patient.family_name,
        date_of_birth=patient.date_of_birth,
    )
    url = reverse("admin:patients_patient_change", args=[twin.pk])
    messages = [str(m) for m in client.get(url).context["messages"]]
    assert any("Possible duplicate" in m and patient.mrn in m for m in messages)
