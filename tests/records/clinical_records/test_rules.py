"""Visit record rules: vitals in physiological ranges, BMI, ICD-10 codes, dates."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from records.clinical_records import validators as rules
from records.clinical_records.models import ClinicalRecord
from records.patients import validators as patient_rules
from tests import factories

pytestmark = pytest.mark.django_db
TODAY = date.today()


@pytest.fixture
def visit_of(make_user):
    user = make_user("vitals")
    # Sex unknown: no growth reference applies, so the ranges alone are tested
    # (0.3 kg at 13 months is beyond rcpchgrowth's -8 SD: see test_growth).
    patient = factories.patient(
        acting_user=user, date_of_birth=TODAY - timedelta(400), sex="unknown"
    )

    def build(**overrides) -> ClinicalRecord:
        data = {
            "patient": patient,
            "visit_date": TODAY,
            "visit_type": "new",
            "clinician": user,
        }
        data.update(overrides)
        return ClinicalRecord(**data)

    return build


def errors_of(record) -> dict:
    try:
        record.full_clean()
    except ValidationError as error:
        return error.message_dict
    return {}


def test_a_minimal_visit_is_valid(visit_of):
    assert errors_of(visit_of()) == {}


@pytest.mark.parametrize("field", list(rules.VITAL_RANGES))
def test_each_vital_has_its_physiological_range(visit_of, field):
    label, low, high, unit = rules.VITAL_RANGES[field]
    step = Decimal("0.1") if field in ("weight_kg", "temperature_c") else Decimal(1)
    if field == "weight_kg":
        step = Decimal("0.001")
    message = rules.E_VITAL_RANGE.format(label=label, low=low, high=high, unit=unit)
    for good in (low, high):
        assert field not in errors_of(visit_of(**{field: good}))
    for bad in (low - step, high + step):
        assert message in errors_of(visit_of(**{field: bad}))[field]


def test_bmi_is_computed_from_weight_and_height():
    assert rules.bmi(Decimal("9.5"), Decimal("75")) == Decimal("16.9")
    assert rules.bmi(None, Decimal("75")) is None
    assert rules.bmi(Decimal("9.5"), None) is None


@pytest.mark.parametrize(
    "raw, normalised", [("f840", "F84.0"), (" F84.0 ", "F84.0"), ("r62", "R62")]
)
def test_icd10_codes_are_normalised(raw, normalised):
    assert rules.icd10_normalize(raw) == normalised


def test_valid_diagnoses_are_kept_in_order(visit_of):
    record = visit_of(diagnoses=["f840", "R62.0"])
    assert errors_of(record) == {}
    assert record.diagnoses == ["F84.0", "R62.0"]
    assert record.diagnoses_with_titles[0] == ("F84.0", "Childhood autism")


@pytest.mark.parametrize(
    "code, message",
    [
        ("Z99.99", rules.E_ICD10_UNKNOWN.format(code="Z99.99")),
        ("XYZ", rules.E_ICD10_UNKNOWN.format(code="XYZ")),
        ("F80-F89", rules.E_ICD10_UNKNOWN.format(code="F80-F89")),  # a block
        ("V", rules.E_ICD10_UNKNOWN.format(code="V")),  # a chapter
    ],
)
def test_unknown_codes_are_refused(visit_of, code, message):
    assert message in errors_of(visit_of(diagnoses=[code]))["diagnoses"]


def test_every_bad_code_is_reported_at_once(visit_of):
    errors = errors_of(visit_of(diagnoses=["F84.0", "Q99.99", "F84.0", "nope"]))
    assert errors["diagnoses"] == [
        rules.E_ICD10_UNKNOWN.format(code="Q99.99"),
        rules.E_ICD10_DUPLICATE.format(code="F84.0"),
        rules.E_ICD10_UNKNOWN.format(code="NOPE"),
    ]


def test_unknown_code_has_no_title():
    assert rules.icd10_title("Z99.99") == ""


def test_visit_dates(visit_of):
    patient = visit_of().patient
    assert errors_of(visit_of(visit_date=patient.date_of_birth - timedelta(1)))[
        "visit_date"
    ] == [patient_rules.E_DATE_BEFORE_BIRTH]
    assert errors_of(visit_of(visit_date=TODAY + timedelta(1)))["visit_date"] == [
        patient_rules.E_DATE_FUTURE
    ]
    assert errors_of(visit_of(follow_up_date=TODAY - timedelta(1)))[
        "follow_up_date"
    ] == [rules.E_FOLLOW_UP_BEFORE_VISIT]
    assert errors_of(visit_of(follow_up_date=TODAY)) == {}


def test_no_visit_after_death(visit_of):
    patient = visit_of().patient
    patient.status, patient.date_of_death = "deceased", TODAY - timedelta(10)
    assert errors_of(visit_of(visit_date=TODAY - timedelta(5)))["visit_date"] == [
        patient_rules.E_DATE_AFTER_DEATH
    ]
    assert "visit_date" not in errors_of(visit_of(visit_date=TODAY - timedelta(10)))
