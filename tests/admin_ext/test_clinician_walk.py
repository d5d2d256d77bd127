"""What a clinician new to NDAS met on the chart's forms and pages (issue #17's walk,
findings 7-33 of the clinician's part), each as the page says it."""

import re
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from admin_ext.admin.form_display import E_DATE
from records.clinical_records import services as visit_services
from records.clinical_records.models import ClinicalRecord
from records.patients import services
from records.patients.models import Patient
from records.users import roles
from tests import factories
from tests.helpers import admin_form_data

pytestmark = pytest.mark.django_db
DEMO_MEDIA = Path(__file__).resolve().parents[2] / "fixtures" / "demo_media"


@pytest.fixture
def clinician(client, make_user):
    user = make_user(
        "walk-doc", roles=[roles.CLINICIAN], first_name="Wren", last_name="Alder"
    )
    client.force_login(user)
    return user


def summary_url(patient):
    return reverse("admin:patients_patient_summary", args=[patient.pk])


def change_url(obj):
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])


def team_of(patient) -> int:
    return services.patient_care_teams(patient).get().pk


def text(response) -> str:
    """The page's words, without tags, on single spaces."""
    body = re.sub(
        r"<script.*?</script>|<style.*?</style>",
        " ",
        response.content.decode(),
        flags=re.S,
    )
    return " ".join(re.sub(r"<[^>]+>", " ", body).split())


def test_emergency_access_lands_on_the_summary_and_details_read_plainly(
    client, make_user, clinician
):
    patient = factories.patient(acting_user=clinician, guardian_phone="020 7946 0907")
    stranger = make_user("walk-ed", roles=[roles.CLINICIAN])
    factories.team("Emergency department", stranger)
    client.force_login(stranger)
    response = client.post(
        reverse("admin:patients_patient_break_glass"),
        {"mrn": patient.mrn, "reason": "Status epilepticus in ED"},
    )
    assert response.status_code == 302
    assert response["Location"] == summary_url(patient)
    summary = text(client.get(summary_url(patient)))
    assert "Details" in summary and "Edit details" not in summary
    details = text(client.get(change_url(patient)))
    assert "Care teams Team of walk-doc" in details
    assert "020 7946 0907" in details and "+44" not in details
    assert "Reason for change" not in details
    assert "letters, digits and dashes" not in details  # a typing hint, read-only


def test_the_auditor_reads_details_and_is_not_offered_to_edit(
    client, make_user, clinician
):
    patient = factories.patient(acting_user=clinician)
    client.force_login(make_user("walk-audit", roles=[roles.AUDITOR]))
    page = text(client.get(summary_url(patient)))
    assert "Details" in page and "Edit details" not in page


def test_dates_are_typed_as_they_are_shown(client, clinician):
    born = date(2025, 4, 14)
    patient = factories.patient(acting_user=clinician, date_of_birth=born)
    changelist = reverse("admin:patients_patient_changelist")
    for typed in ("14/04/2025", "14 Apr 2025", "14 April 2025", "2025-04-14"):
        found = (
            client.get(changelist, {"q": typed}, follow=True).context["cl"].result_list
        )
        assert [p.pk for p in found] == [patient.pk], typed
    # The patient form takes "6 Dec 2025"; a date it cannot read says how to type one.
    page = client.get(change_url(patient))
    client.post(
        change_url(patient),
        admin_form_data(
            page,
            date_of_birth="6 Dec 2024",
            change_reason="Typo",
            care_teams=team_of(patient),
        ),
    )
    assert Patient.objects.get(pk=patient.pk).date_of_birth == date(2024, 12, 6)
    page = client.get(change_url(patient))
    response = client.post(
        change_url(patient), admin_form_data(page, date_of_birth="32/13/2024")
    )
    assert E_DATE in response.content.decode()
    assert "Enter a valid date." not in response.content.decode()
    assert "Enter a date as DD/MM/YYYY" in E_DATE and "17/05/2023" in E_DATE


def test_a_new_visit_starts_today_without_version_or_reason(client, clinician):
    patient = factories.patient(acting_user=clinician)
    response = client.get(
        reverse("admin:clinical_records_clinicalrecord_add"), {"patient": patient.pk}
    )
    body = response.content.decode()
    field = re.search(r'<input[^>]*name="visit_date"[^>]*>', body).group(0)
    assert f'value="{timezone.localdate():%d/%m/%Y}"' in field
    assert 'placeholder="DD/MM/YYYY"' in field
    page = text(response)
    assert "Reason for change" not in page and "Version" not in page
    assert "Follow-up date" in page and "Follow up date" not in page
    # The names agree: sidebar, tabs and the page's own heading say "Visits".
    changelist = text(
        client.get(reverse("admin:clinical_records_clinicalrecord_changelist"))
    )
    assert "Visits" in changelist and "Visit records" not in changelist


def test_making_a_visit_final_says_so_once_and_who_signed_it_off(client, clinician):
    patient = factories.patient(acting_user=clinician)
    visit = factories.visit(acting_user=clinician, patient=patient)
    page = client.get(change_url(visit))
    response = client.post(
        change_url(visit),
        admin_form_data(page, make_final="on", _continue="1"),
        follow=True,
    )
    words = text(response)
    assert ClinicalRecord.objects.get(pk=visit.pk).status == "final"
    assert "Visit signed off as final." in words
    assert "changed successfully" not in words and "edit it again" not in words
    assert "Signed off by Wren Alder on " in words
    assert "Version" not in words
    # Its patient opens the chart's summary, not the details form.
    body = response.content.decode()
    assert f'href="{summary_url(patient)}">{patient}</a>' in body
    assert f'href="{change_url(patient)}"' not in body


def test_measurements_show_without_trailing_zeros(client, clinician):
    patient = factories.patient(
        acting_user=clinician, date_of_birth=date.today() - timedelta(days=300)
    )
    visit = factories.visit(
        acting_user=clinician, patient=patient, weight_kg=Decimal("7.600")
    )
    body = client.get(change_url(visit)).content.decode()
    field = re.search(r'<input[^>]*name="weight_kg"[^>]*>', body).group(0)
    assert 'value="7.6"' in field
    visit_services.clinical_record_finalize(acting_user=clinician, record=visit)
    words = text(client.get(change_url(visit)))
    assert "Weight (kg) 7.6 " in words or "7.6 " in words
    assert "7.600" not in words
    # The clinician is named, not linked to the user pages (administrators' only).
    body = client.get(change_url(visit)).content.decode()
    assert str(clinician) in body and "/admin/users/user/" not in body


def test_a_new_patient_duplicate_is_warned_once(client, clinician):
    first = factories.patient(acting_user=clinician)
    page = client.get(reverse("admin:patients_patient_add"))
    data = admin_form_data(
        page,
        **{
            **factories.patient_data(
                given_name=first.given_name,
                family_name=first.family_name,
                date_of_birth=first.date_of_birth,
            ),
            "care_teams": team_of(first),
            "_continue": "1",
        },
    )
    response = client.post(reverse("admin:patients_patient_add"), data, follow=True)
    assert text(response).count("Possible duplicate") == 1


def test_registering_preselects_the_only_team_and_lists_errors_on_top(
    client, make_user, clinician
):
    team = factories.team("General paediatrics", clinician)
    body = client.get(reverse("admin:patients_patient_add")).content.decode()
    select = re.search(r'<select name="care_teams".*?</select>', body, re.S).group(0)
    assert re.search(rf'<option value="{team.pk}" selected', select)
    # In two teams: none preselected, and the missing team is named at the top.
    factories.team("Neonatal follow-up", clinician)
    page = client.get(reverse("admin:patients_patient_add"))
    select = re.search(
        r'<select name="care_teams".*?</select>', page.content.decode(), re.S
    ).group(0)
    assert " selected" not in select
    response = client.post(
        reverse("admin:patients_patient_add"),
        admin_form_data(page, **factories.patient_data(), care_teams=None),
    )
    top = re.search(
        r'data-testid="form-errors".*?</div>', response.content.decode(), re.S
    ).group(0)
    assert "Care teams" in top and "Choose one of your care teams" in top


def test_counts_agree_with_their_nouns(client, clinician):
    patient = factories.patient(acting_user=clinician)
    factories.visit(acting_user=clinician, patient=patient)
    words = text(client.get(summary_url(patient)))
    assert "(1 visit, 0 assessments, 0 media files)" in words


def test_an_empty_search_says_so_in_plain_words(client, clinician):
    factories.patient(acting_user=clinician)
    response = client.get(
        reverse("admin:patients_patient_changelist"), {"q": "Zzyzx"}, follow=True
    )
    words = text(response)
    assert "No patients match your search." in words
    assert "yielded" not in words


def test_the_media_page_speaks_plainly(
    client, make_user, clinician, settings, tmp_path
):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path},
        },
    }
    patient = factories.patient(acting_user=clinician)
    media = services.media_upload(
        acting_user=clinician,
        patient=patient,
        uploaded_file=SimpleUploadedFile(
            "c.pdf", (DEMO_MEDIA / "sample.pdf").read_bytes()
        ),
    )
    words = text(client.get(change_url(media)))
    assert "File type PDF document" in words
    assert "Preview not available here. Use Download below." in words
    for jargon in ("application/pdf", "SHA-256", "S3 store", media.sha256):
        assert jargon not in words
    client.force_login(make_user("walk-audit2", roles=[roles.AUDITOR]))
    words = text(client.get(change_url(media)))
    assert f"Fingerprint (for auditors) {media.sha256}" in words


def test_no_count_says_s_in_brackets(client, make_user, clinician):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.create(user=clinician, name="Phone", confirmed=True)
    client.force_login(make_user("walk-chief", roles=[roles.ADMINISTRATOR]))
    words = text(client.get(f"/admin/mfa/reset/{clinician.pk}/"))
    apps = TOTPDevice.objects.filter(user=clinician).count()  # signing in made one
    noun = "authenticator app" if apps == 1 else "authenticator apps"
    assert f"has {apps} {noun} and 0 passkeys." in words
    assert "(s)" not in words


def header(response) -> str:
    """The page header's breadcrumb, as words."""
    body = response.content.decode()
    h1 = re.search(r"<h1.*?</h1>", body, re.S).group(0)
    return " ".join(re.sub(r"<[^>]+>|chevron_right", " ", h1).split())


def test_the_breadcrumb_names_the_patient_and_leads_to_the_summary(client, clinician):
    patient = factories.patient(acting_user=clinician)
    visit = factories.visit(acting_user=clinician, patient=patient)
    response = client.get(change_url(visit))
    assert header(response) == f"Patients {patient} Visits {visit}"
    h1 = re.search(r"<h1.*?</h1>", response.content.decode(), re.S).group(0)
    assert f'href="{summary_url(patient)}"' in h1
    assert header(client.get(summary_url(patient))) == f"Patients {patient}"
    assert header(client.get(change_url(patient))) == f"Patients {patient} Details"
