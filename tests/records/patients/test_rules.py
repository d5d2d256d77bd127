"""Every field rule of patients and assessments, valid and invalid, with its message."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from records.patients import ages, validators
from records.patients.models import Assessment, MediaFile, Patient
from records.users import roles
from tests import factories

pytestmark = pytest.mark.django_db

TODAY = date.today()


def errors_of(instance) -> dict[str, list[str]]:
    try:
        instance.full_clean()
    except ValidationError as error:
        return error.message_dict
    return {}


def patient(**overrides) -> Patient:
    return Patient(**factories.patient_data(**overrides))


def test_a_valid_patient_has_no_errors():
    assert errors_of(patient()) == {}


def test_mrn_is_trimmed_and_upper_cased():
    p = patient(mrn="  nda-0042 ")
    assert errors_of(p) == {} and p.mrn == "NDA-0042"


@pytest.mark.parametrize("mrn", ["ab1", "A" * 21, "AB_12", "AB 12", ""])
def test_bad_mrns_are_refused(mrn):
    expected = validators.E_MRN_FORMAT if mrn else "This field cannot be blank."
    assert expected in errors_of(patient(mrn=mrn))["mrn"]


def test_mrn_is_unique_whatever_the_case(make_user):
    factories.patient(acting_user=make_user(), mrn="NDA-7777")
    assert "mrn" in errors_of(patient(mrn="nda-7777"))


def test_mrn_pattern_comes_from_settings(settings):
    settings.PATIENT_MRN_PATTERN = r"\d{6}"
    assert "mrn" in errors_of(patient(mrn="NDA-0042"))
    assert "mrn" not in errors_of(patient(mrn="123456"))


def test_names_are_required():
    errors = errors_of(patient(given_name="", family_name=""))
    assert set(errors) >= {"given_name", "family_name"}


@pytest.mark.parametrize(
    "born, message",
    [
        (TODAY + timedelta(days=1), validators.E_DATE_FUTURE),
        (date(1899, 12, 31), validators.E_DATE_BEFORE_1900),
    ],
)
def test_date_of_birth_limits(born, message):
    assert errors_of(patient(date_of_birth=born))["date_of_birth"] == [message]


def test_date_of_birth_today_and_1900_are_allowed():
    assert errors_of(patient(date_of_birth=TODAY)) == {}
    assert errors_of(patient(date_of_birth=date(1900, 1, 1))) == {}


def test_sex_must_be_a_known_value():
    assert "sex" in errors_of(patient(sex="x"))


@pytest.mark.parametrize(
    "field, bad, good",
    [
        ("gestational_age_weeks", [21, 45], [22, 44]),
        ("birth_weight_grams", [299, 6501], [300, 6500]),
    ],
)
def test_birth_ranges(field, bad, good):
    for value in bad:
        assert field in errors_of(patient(**{field: value}))
    for value in good:
        assert field not in errors_of(patient(**{field: value}))


def test_gestation_days_need_weeks_and_stay_below_seven():
    assert errors_of(patient(gestational_age_days=3))["gestational_age_days"] == [
        validators.E_GESTATION_DAYS_WITHOUT_WEEKS
    ]
    assert "gestational_age_days" in errors_of(
        patient(gestational_age_weeks=30, gestational_age_days=7)
    )
    assert errors_of(patient(gestational_age_weeks=30, gestational_age_days=6)) == {}


def test_guardian_phone_is_stored_in_international_form():
    # Ofcom's range for drama: valid, and never a real subscriber.
    p = patient(guardian_phone="020 7946 0123")
    assert errors_of(p) == {} and p.guardian_phone == "+442079460123"


@pytest.mark.parametrize("phone", ["12", "not a number", "+44 1", "07700 900123"])
def test_bad_phone_numbers_are_refused(phone):
    assert errors_of(patient(guardian_phone=phone))["guardian_phone"] == [
        validators.E_PHONE
    ]


def test_guardian_email_must_be_an_address():
    assert "guardian_email" in errors_of(patient(guardian_email="nope"))


def test_deceased_needs_a_date_of_death_within_life():
    born = TODAY - timedelta(days=300)
    assert errors_of(patient(status="deceased", date_of_birth=born))[
        "date_of_death"
    ] == [validators.E_DEATH_DATE_REQUIRED]
    assert errors_of(
        patient(
            status="deceased", date_of_birth=born, date_of_death=born - timedelta(1)
        )
    )["date_of_death"] == [validators.E_DATE_BEFORE_BIRTH]
    assert "date_of_death" in errors_of(
        patient(
            status="deceased", date_of_birth=born, date_of_death=TODAY + timedelta(1)
        )
    )
    assert (
        errors_of(patient(status="deceased", date_of_birth=born, date_of_death=TODAY))
        == {}
    )


def test_only_the_deceased_have_a_date_of_death():
    assert errors_of(patient(status="active", date_of_death=TODAY))[
        "date_of_death"
    ] == [validators.E_DEATH_DATE_UNEXPECTED]


# --- assessments --------------------------------------------------------------------


@pytest.fixture
def saved_patient(make_user):
    user = make_user("rules", roles=[roles.CLINICIAN])
    return (
        factories.patient(acting_user=user, date_of_birth=TODAY - timedelta(days=200)),
        user,
    )


def assessment(saved_patient, **overrides) -> Assessment:
    patient_, user = saved_patient
    data = {
        "patient": patient_,
        "instrument": "hine",
        "performed_on": TODAY,
        "assessor": user,
    }
    data.update(overrides)
    return Assessment(**data)


def test_assessment_dates(saved_patient):
    patient_, _ = saved_patient
    before = patient_.date_of_birth - timedelta(days=1)
    assert errors_of(assessment(saved_patient, performed_on=before))[
        "performed_on"
    ] == [validators.E_DATE_BEFORE_BIRTH]
    assert errors_of(assessment(saved_patient, performed_on=TODAY + timedelta(1)))[
        "performed_on"
    ] == [validators.E_DATE_FUTURE]
    assert errors_of(assessment(saved_patient)) == {}


def test_no_assessment_after_death(saved_patient):
    patient_, _ = saved_patient
    patient_.status, patient_.date_of_death = "deceased", TODAY - timedelta(days=3)
    assert errors_of(assessment(saved_patient))["performed_on"] == [
        validators.E_DATE_AFTER_DEATH
    ]


@pytest.mark.parametrize(
    "instrument, low, high",
    [(key, low, high) for key, (low, high) in validators.SCORE_RANGES.items()],
)
def test_total_score_ranges_per_instrument(saved_patient, instrument, low, high):
    for score in (low, high):
        assert (
            errors_of(
                assessment(saved_patient, instrument=instrument, total_score=score)
            )
            == {}
        )
    for score in (low - Decimal("0.1"), high + Decimal("0.1")):
        [message] = errors_of(
            assessment(saved_patient, instrument=instrument, total_score=score)
        )["total_score"]
        assert message.startswith("A ") and str(high) in message


def test_media_must_belong_to_the_assessments_patient(saved_patient, make_user):
    patient_, user = saved_patient
    other = factories.patient(acting_user=user)
    exam = factories.assessment(acting_user=user, patient=other)
    media = MediaFile(patient=patient_, assessment=exam)
    with pytest.raises(ValidationError) as error:
        media.clean()
    assert error.value.message_dict["assessment"] == [validators.E_ASSESSMENT_PATIENT]


# --- ages ----------------------------------------------------------------------------


def test_corrected_age_for_a_preterm_infant():
    born = date(2026, 1, 1)
    on = date(2026, 7, 1)  # 181 days old
    corrected = ages.corrected_age_in_days(
        born=born, on=on, gestation_weeks=30, gestation_days=0
    )
    assert corrected == 181 - 70  # born ten weeks early


def test_no_correction_at_term_or_from_two_years():
    born = date(2024, 1, 1)
    assert (
        ages.corrected_age_in_days(
            born=born, on=date(2024, 6, 1), gestation_weeks=38, gestation_days=0
        )
        is None
    )
    assert (
        ages.corrected_age_in_days(
            born=born, on=date(2026, 1, 1), gestation_weeks=30, gestation_days=2
        )
        is None
    )
    assert (
        ages.corrected_age_in_days(
            born=born, on=date(2024, 6, 1), gestation_weeks=None, gestation_days=None
        )
        is None
    )


@pytest.mark.parametrize(
    "born, on, text",
    [
        (date(2026, 1, 1), date(2026, 1, 11), "1 w 3 d"),
        (date(2026, 1, 31), date(2026, 3, 30), "1 m 30 d"),
        (date(2025, 1, 15), date(2026, 3, 20), "14 m 5 d"),
        (date(2020, 2, 29), date(2026, 2, 28), "5 y 11 m"),
        (date(2020, 2, 29), date(2026, 3, 1), "6 y 0 m"),
    ],
)
def test_age_text(born, on, text):
    assert ages.age_text(born, on) == text


@pytest.mark.parametrize(
    "days, text",
    [
        (None, ""),
        (-30, "-4 w 2 d"),
        (-14, "-2 w"),
        (20, "2 w 6 d"),
        (100, "3 m 9 d"),
        (800, "2 y 2 m"),
    ],
)
def test_age_text_from_days(days, text):
    assert ages.age_text_from_days(days) == text
