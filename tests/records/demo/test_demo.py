"""Demo charts: synthetic, deterministic, idempotent, written through the services."""

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.management import CommandError, call_command
from django.db import transaction

from records.clinical_records.models import ClinicalRecord
from records.clinical_records.validators import icd10_validate
from records.demo import charts
from records.demo.assessments import SCORE_BANDS
from records.demo.charts import DemoChartsResult, demo_charts_ensure
from records.demo.constants import (
    DEMO_PHONE_PREFIX,
    DEMO_REASON,
    DEMO_SEED,
    E_NOT_DEBUG,
)
from records.demo.media import MEDIA_FILES
from records.demo.visits import PRETERM_CODE, demo_diagnosis_codes
from records.patients.models import (
    Assessment,
    MediaFile,
    Patient,
    PatientStatus,
    RecordStatus,
)
from records.patients.services import patient_create
from records.patients.services.patients import PATIENT_FIELDS
from records.patients.validators import SCORE_RANGES, phone_normalize
from records.users import roles
from records.users.models import User

pytestmark = pytest.mark.django_db

DEMO_MEDIA = Path(__file__).resolve().parents[3] / "fixtures" / "demo_media"
# Twelve charts include uploads, an archived and a deceased patient.
COUNT = 12
# A fixed clinic date in the past: every generated date is then also valid today.
TODAY = date(2026, 11, 1)
CHART_MODELS = (Patient, Assessment, ClinicalRecord, MediaFile)


@pytest.fixture
def admin(make_user, settings):
    settings.DEBUG = True
    make_user("clinician", roles=[roles.CLINICIAN])
    return make_user("admin", roles=[roles.ADMINISTRATOR])


@pytest.fixture
def seeded(admin, s3_storage) -> DemoChartsResult:
    return demo_charts_ensure(acting_user=admin, count=COUNT, today=TODAY)


def snapshot() -> dict[str, list[tuple]]:
    """Everything the demo generates, in creation order, without keys or timestamps."""
    return {
        "patients": list(
            Patient.objects.order_by("pk").values_list(*PATIENT_FIELDS, "status")
        ),
        "assessments": list(
            Assessment.objects.order_by("pk").values_list(
                "patient__mrn",
                "instrument",
                "performed_on",
                "assessor__username",
                "total_score",
                "outcome",
                "findings",
                "status",
            )
        ),
        "visits": list(
            ClinicalRecord.objects.order_by("pk").values_list(
                "patient__mrn",
                "visit_date",
                "visit_type",
                "clinician__username",
                "weight_kg",
                "height_cm",
                "diagnoses",
                "follow_up_date",
                "status",
            )
        ),
        "media": list(
            MediaFile.objects.order_by("pk").values_list(
                "patient__mrn", "assessment__performed_on", "original_name", "sha256"
            )
        ),
    }


def seeded_then_rolled_back(admin, *, seed: int = DEMO_SEED) -> dict:
    with transaction.atomic():
        demo_charts_ensure(acting_user=admin, count=COUNT, seed=seed, today=TODAY)
        rows = snapshot()
        transaction.set_rollback(True)
    return rows


def test_seeding_creates_the_charts_it_reports(seeded):
    assert seeded == DemoChartsResult(
        patients=COUNT,
        assessments=Assessment.objects.count(),
        visits=ClinicalRecord.objects.count(),
        media=MediaFile.objects.count(),
    )
    assert Patient.objects.count() == COUNT
    assert seeded.assessments > 0 and seeded.visits > 0 and seeded.media > 0
    assert sorted(Patient.objects.values_list("mrn", flat=True)) == [
        f"DEMO-{number:05d}" for number in range(1, COUNT + 1)
    ]


def test_every_row_has_history_written_by_the_acting_user(seeded, admin):
    for model in CHART_MODELS:
        ids = set(model.objects.values_list("pk", flat=True))
        created = model.history.filter(history_type="+")
        assert set(created.values_list("id", flat=True)) == ids, model
        assert set(model.history.values_list("history_user", flat=True)) == {
            admin.pk
        }, model
    for model in (Patient, Assessment, ClinicalRecord):
        reasons = model.history.filter(history_type="+").values_list(
            "history_change_reason", flat=True
        )
        assert set(reasons) == {DEMO_REASON}, model


def test_records_are_drafts_and_finals_by_the_demo_staff(seeded):
    finals = Assessment.objects.filter(status=RecordStatus.FINAL)
    assert (
        finals.exists()
        and Assessment.objects.filter(status=RecordStatus.DRAFT).exists()
    )
    assert not finals.filter(outcome="").exists()
    assert ClinicalRecord.objects.filter(status=RecordStatus.FINAL).exists()
    assert ClinicalRecord.objects.filter(status=RecordStatus.DRAFT).exists()
    staff = set(Assessment.objects.values_list("assessor__username", flat=True))
    staff |= set(ClinicalRecord.objects.values_list("clinician__username", flat=True))
    assert staff == {"clinician", "admin"}


def test_archived_and_deceased_charts_end_in_the_past(seeded):
    assert Patient.objects.filter(status=PatientStatus.ARCHIVED).exists()
    [deceased] = Patient.objects.filter(status=PatientStatus.DECEASED)
    assert deceased.date_of_birth < deceased.date_of_death <= TODAY
    for record_date in [
        *deceased.assessments.values_list("performed_on", flat=True),
        *deceased.clinical_records.values_list("visit_date", flat=True),
    ]:
        assert record_date <= deceased.date_of_death


def test_second_run_creates_nothing(seeded, admin):
    before = snapshot()
    again = demo_charts_ensure(acting_user=admin, count=COUNT, today=TODAY)
    assert again == DemoChartsResult(patients=0, assessments=0, visits=0, media=0)
    assert snapshot() == before


def test_any_demo_chart_stops_a_new_run(admin):
    patient_create(
        acting_user=admin,
        data={
            "mrn": "DEMO-99999",
            "given_name": "Talvi",
            "family_name": "Quennard",
            "date_of_birth": date(2020, 1, 1),
            "sex": "female",
        },
    )
    assert demo_charts_ensure(acting_user=admin, count=3) == DemoChartsResult()
    assert Patient.objects.count() == 1


def test_the_same_seed_gives_the_same_data(admin, s3_storage):
    first = seeded_then_rolled_back(admin)
    assert not Patient.objects.exists()
    second = seeded_then_rolled_back(admin)
    assert len(first["patients"]) == COUNT and first["media"]
    assert second == first
    other = seeded_then_rolled_back(admin, seed=DEMO_SEED + 1)
    assert other["patients"] != first["patients"]


def test_contact_details_are_fictional(seeded):
    for phone, email, postcode in Patient.objects.values_list(
        "guardian_phone", "guardian_email", "postcode"
    ):
        assert re.fullmatch(re.escape(DEMO_PHONE_PREFIX) + r"\d{3}", phone)
        assert email.endswith("@example.org")
        assert postcode[0] in "QVX"


def test_the_mobile_drama_range_is_refused_by_the_phone_field():
    """Why the demo uses Ofcom's London drama range rather than 07700 900xxx."""
    with pytest.raises(ValidationError):
        phone_normalize("+447700900123")
    assert phone_normalize(f"{DEMO_PHONE_PREFIX}123") == f"{DEMO_PHONE_PREFIX}123"


def test_media_are_stored_and_attached_within_the_chart(seeded, s3_storage):
    fixtures = {
        name: (DEMO_MEDIA / fixture).read_bytes() for fixture, name, *_ in MEDIA_FILES
    }
    for media in MediaFile.objects.select_related("assessment"):
        assert s3_storage.exists(media.file.name)
        with s3_storage.open(media.file.name) as stored:
            assert stored.read() == fixtures[media.original_name]
        if media.assessment:
            assert media.assessment.patient_id == media.patient_id
    assert MediaFile.objects.filter(assessment__isnull=False).exists()


def test_a_failed_run_leaves_no_rows_and_no_files(admin, s3_storage, monkeypatch):
    upload, uploaded = charts.patient_services.media_upload, []

    def recorded_upload(**kwargs):
        media = upload(**kwargs)
        uploaded.append(media.file.name)
        return media

    def failing_result(**counts):
        raise RuntimeError("failed after the last chart")

    monkeypatch.setattr(charts.patient_services, "media_upload", recorded_upload)
    monkeypatch.setattr(charts, "DemoChartsResult", failing_result)
    with pytest.raises(RuntimeError):
        demo_charts_ensure(acting_user=admin, count=COUNT, today=TODAY)
    assert uploaded
    assert not Patient.objects.exists() and not MediaFile.objects.exists()
    assert not any(s3_storage.exists(name) for name in uploaded)


def test_refused_without_debug(admin, settings):
    settings.DEBUG = False
    with pytest.raises(ImproperlyConfigured, match=re.escape(E_NOT_DEBUG)):
        demo_charts_ensure(acting_user=admin, count=3)
    assert not Patient.objects.exists()


def test_generated_patients_look_like_a_neurodevelopmental_clinic(admin):
    builder = charts._ChartBuilder(
        rng=charts.random.Random(DEMO_SEED), acting_user=admin, today=TODAY
    )
    patients = [builder.patient_data(number) for number in range(1, 301)]
    births = [patient["date_of_birth"] for patient in patients]
    assert min(births) >= date(2014, 1, 1)
    assert max(births) <= TODAY - timedelta(days=30)
    under_three = sum((TODAY - born).days < 3 * 365 for born in births)
    assert under_three > len(patients) / 2
    weeks = [p["gestational_age_weeks"] for p in patients]
    preterm = sum(w is not None and w < 37 for w in weeks)
    assert 0.10 < preterm / len(patients) < 0.20
    assert all(w is None or 22 <= w <= 42 for w in weeks)
    for patient in patients:
        grams, w = patient["birth_weight_grams"], patient["gestational_age_weeks"]
        assert (grams is None) == (w is None)
        if w is not None:
            assert 300 <= grams <= 6500
            assert grams < 2500 if w < 30 else grams > 1000
    assert len({p["given_name"] for p in patients}) > 150


def test_demo_diagnoses_and_scores_fit_the_domain_rules():
    codes = demo_diagnosis_codes()
    assert {"F84.0", "R50.9", PRETERM_CODE} <= set(codes)
    for code in codes:
        icd10_validate(code)
    for instrument, bands in SCORE_BANDS.items():
        low, high = SCORE_RANGES[instrument]
        assert all(
            low <= band_low <= band_high <= high for band_low, band_high in bands
        )


@pytest.fixture
def credentials(tmp_path, monkeypatch, settings):
    from records.demo.management.commands import seed_demo

    settings.DEBUG = True
    path = tmp_path / "var" / "demo-accounts.json"
    monkeypatch.setattr(seed_demo, "CREDENTIALS_FILE", path)
    return path


def test_seed_demo_command_seeds_charts_once(credentials, s3_storage, capsys):
    call_command("seed_demo", "--patients", "3")
    assert "Demo charts: 3 patients," in capsys.readouterr().out
    assert set(Patient.history.values_list("history_user__username", flat=True)) == {
        "admin"
    }
    call_command("seed_demo", "--patients", "3")
    assert "Demo charts already present." in capsys.readouterr().out
    assert Patient.objects.count() == 3


def test_seed_demo_command_refuses_a_negative_count(credentials):
    with pytest.raises(CommandError, match="patient"):
        call_command("seed_demo", "--patients", "-1")
    assert not User.objects.exists()


def test_seed_demo_command_writes_nothing_in_production(credentials, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="only created with DEBUG on"):
        call_command("seed_demo", "--patients", "3")
    assert not User.objects.exists() and not Patient.objects.exists()
