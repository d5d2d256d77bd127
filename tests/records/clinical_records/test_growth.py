"""Growth figures on visits: rcpchgrowth's own SDS and centiles, kept on every visit
and recomputed whenever what they depend on changes, by whichever path."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from rcpchgrowth import Measurement

from records.clinical_records import growth
from records.clinical_records import services as visit_services
from records.clinical_records.models import ClinicalRecord
from records.clinical_records.services import GROWTH_RECOMPUTED_REASON
from records.patients import services
from tests import factories

pytestmark = pytest.mark.django_db
TODAY = date.today()


def rcpch(patient, on, method, value) -> dict:
    """rcpchgrowth's own corrected figures for one measurement."""
    result = Measurement(
        sex=patient.sex,
        birth_date=patient.date_of_birth,
        observation_date=on,
        measurement_method=method,
        observation_value=float(value),
        reference=patient.growth_reference,
        gestation_weeks=patient.gestational_age_weeks or 0,
        gestation_days=patient.gestational_age_days or 0,
    ).measurement["measurement_calculated_values"]
    return {"sds": result["corrected_sds"], "centile": result["corrected_centile"]}


def assert_matches(record, name, method, value):
    expected = rcpch(record.patient, record.visit_date, method, value)
    assert float(getattr(record, f"{name}_sds")) == pytest.approx(
        expected["sds"], abs=0.0006
    )
    assert float(getattr(record, f"{name}_centile")) == pytest.approx(
        expected["centile"], abs=0.06
    )


@pytest.fixture
def user():
    return factories.clinician()


def test_term_child_matches_rcpchgrowth(user):
    patient = factories.patient(
        acting_user=user, date_of_birth=date(2021, 3, 4), sex="male"
    )
    record = factories.visit(
        acting_user=user,
        patient=patient,
        visit_date=date(2025, 3, 1),
        weight_kg=Decimal("17.4"),
        height_cm=Decimal("103.5"),
        head_circumference_cm=Decimal("51.0"),
    )
    record.refresh_from_db()
    assert_matches(record, "weight", "weight", 17.4)
    assert_matches(record, "height", "height", 103.5)
    assert_matches(record, "head_circumference", "ofc", 51.0)
    assert_matches(record, "bmi", "bmi", record.bmi)
    assert record.weight_sds is not None and record.bmi_centile is not None


@pytest.mark.parametrize("months", [6, 18, 30])
def test_preterm_infant_is_corrected_for_gestation(user, months):
    """29+3 weeks: under 2 years corrected, and over; rcpchgrowth corrects."""
    born = TODAY - timedelta(days=int(months * 30.44) + 10)
    patient = factories.patient(
        acting_user=user,
        date_of_birth=born,
        sex="female",
        gestational_age_weeks=29,
        gestational_age_days=3,
    )
    weight = {6: "5.9", 18: "9.4", 30: "12.1"}[months]
    height = {6: "61.0", 18: "78.0", 30: "88.5"}[months]
    record = factories.visit(
        acting_user=user,
        patient=patient,
        visit_date=TODAY,
        weight_kg=Decimal(weight),
        height_cm=Decimal(height),
    )
    record.refresh_from_db()
    assert_matches(record, "weight", "weight", weight)
    assert_matches(record, "height", "height", height)
    # The correction changes the figure while rcpchgrowth applies it.
    chronological = Measurement(
        sex="female",
        birth_date=born,
        observation_date=TODAY,
        measurement_method="weight",
        observation_value=float(weight),
        reference="uk-who",
        gestation_weeks=29,
        gestation_days=3,
    ).measurement["measurement_calculated_values"]["chronological_sds"]
    if months < 24:
        assert float(record.weight_sds) > chronological + 0.2


def test_trisomy_21_child_uses_its_reference(user):
    patient = factories.patient(
        acting_user=user,
        date_of_birth=date(2020, 6, 1),
        sex="female",
        growth_reference="trisomy-21",
    )
    record = factories.visit(
        acting_user=user,
        patient=patient,
        visit_date=date(2024, 6, 10),
        weight_kg=Decimal("14.2"),
        height_cm=Decimal("93.0"),
    )
    record.refresh_from_db()
    assert_matches(record, "weight", "weight", 14.2)
    assert_matches(record, "height", "height", 93.0)
    uk_who = rcpch(
        type(patient)(
            sex="female", date_of_birth=date(2020, 6, 1), growth_reference="uk-who"
        ),
        date(2024, 6, 10),
        "height",
        93.0,
    )
    assert float(record.height_sds) != pytest.approx(uk_who["sds"], abs=0.1)


def test_no_measurement_no_figures(user):
    patient = factories.patient(acting_user=user)
    record = factories.visit(
        acting_user=user, patient=patient, weight_kg=None, height_cm=None
    )
    record.refresh_from_db()
    assert record.weight_sds is None and record.weight_centile is None
    assert record.bmi_sds is None and record.head_circumference_sds is None


def test_outside_the_reference_ages_no_figures_and_a_warning(user):
    patient = factories.patient(
        acting_user=user, date_of_birth=date(2000, 1, 1), sex="male"
    )
    record = factories.visit(
        acting_user=user,
        patient=patient,
        visit_date=date(2024, 1, 1),
        weight_kg=Decimal("70"),
        height_cm=Decimal("175"),
    )
    record.refresh_from_db()
    assert record.weight_sds is None and record.height_centile is None
    warnings = record.compute_growth()
    assert any("reference data above the age of 20 years" in w for w in warnings)


def test_implausible_measurement_refused_with_rcpchgrowths_words(user):
    patient = factories.patient(
        acting_user=user, date_of_birth=date(2020, 1, 1), sex="male"
    )
    with pytest.raises(ValidationError) as raised:
        factories.visit(
            acting_user=user,
            patient=patient,
            visit_date=date(2024, 1, 1),
            weight_kg=Decimal("1.0"),
            height_cm=None,
        )
    assert "below -8 SD" in " ".join(raised.value.message_dict["weight_kg"])


def test_far_from_the_median_is_kept_with_a_warning(user):
    patient = factories.patient(
        acting_user=user, date_of_birth=date(2020, 1, 1), sex="male"
    )
    record = factories.visit(
        acting_user=user,
        patient=patient,
        visit_date=date(2024, 1, 1),
        weight_kg=Decimal("40"),
        height_cm=None,
    )
    assert record.weight_sds > 4
    assert any("beyond ±4 SD" in w for w in record.compute_growth())


def test_turner_reference_only_for_girls(user):
    with pytest.raises(ValidationError) as raised:
        factories.patient(
            acting_user=user, sex="male", growth_reference="turners-syndrome"
        )
    assert "growth_reference" in raised.value.message_dict


def test_amendment_recomputes(user):
    patient = factories.patient(
        acting_user=user, date_of_birth=date(2021, 1, 1), sex="female"
    )
    record = factories.visit(
        acting_user=user,
        patient=patient,
        visit_date=date(2024, 1, 1),
        weight_kg=Decimal("14"),
    )
    visit_services.clinical_record_finalize(acting_user=user, record=record)
    visit_services.clinical_record_amend(
        acting_user=user,
        record=record,
        reason="Scales misread",
        data={"weight_kg": Decimal("15.5")},
    )
    record.refresh_from_db()
    assert_matches(record, "weight", "weight", 15.5)


def test_gestation_change_by_service_recomputes_with_history(user):
    patient = factories.patient(
        acting_user=user, date_of_birth=TODAY - timedelta(days=200), sex="male"
    )
    record = factories.visit(
        acting_user=user, patient=patient, visit_date=TODAY, weight_kg=Decimal("6.2")
    )
    term_sds = record.weight_sds
    services.patient_update(
        acting_user=user,
        patient=patient,
        data={"gestational_age_weeks": 29, "gestational_age_days": 3},
        reason="Birth letter received",
    )
    record.refresh_from_db()
    assert record.weight_sds > term_sds
    assert_matches(record, "weight", "weight", 6.2)
    latest = record.history.first()
    assert latest.history_change_reason == GROWTH_RECOMPUTED_REASON
    assert latest.history_user_id == user.pk


def test_reference_change_recomputes(user):
    patient = factories.patient(
        acting_user=user, date_of_birth=date(2019, 1, 1), sex="female"
    )
    record = factories.visit(
        acting_user=user,
        patient=patient,
        visit_date=date(2024, 1, 1),
        height_cm=Decimal("95"),
        weight_kg=None,
    )
    services.patient_update(
        acting_user=user, patient=patient, data={"growth_reference": "turners-syndrome"}
    )
    record.refresh_from_db()
    assert_matches(record, "height", "height", 95)


def test_unchanged_figures_write_no_history(user):
    patient = factories.patient(acting_user=user, sex="female")
    record = factories.visit(acting_user=user, patient=patient)
    before = record.history.count()
    services.patient_update(
        acting_user=user, patient=patient, data={"given_name": "Other"}
    )
    assert record.history.count() == before


def test_figure_text():
    assert (
        growth.figure_text(Decimal("17.400"), "kg", Decimal("0.07"), Decimal("53.2"))
        == "17.4 kg, 53rd centile, SDS +0.07"
    )
    assert growth.ordinal(Decimal("0.3")) == "0.3th"
    assert growth.ordinal(Decimal("11.4")) == "11th"
    assert growth.ordinal(Decimal("1.6")) == "2nd"
    assert growth.figure_text(Decimal("9"), "kg", None, None) == "9 kg"
    # a figure that rounds to nought has no sign of its own
    assert growth.figure_text(Decimal("9"), "kg", Decimal("-0.001"), None) == (
        "9 kg, SDS +0.00"
    )


def test_centile_lines_are_cached_and_shaped():
    lines = growth.centile_lines("uk-who", "weight", "male")
    assert growth.centile_lines("uk-who", "weight", "male") is lines
    assert [c for c, _ in lines] == list(growth.CHART_CENTILES)
    assert growth.centile_lines("turners-syndrome", "weight", "female") == ()


def test_sex_unknown_keeps_no_figures(user):
    patient = factories.patient(acting_user=user, sex="unknown")
    record = factories.visit(acting_user=user, patient=patient)
    assert record.weight_sds is None
    assert growth.W_NO_SEX in record.compute_growth()


def test_model_has_the_fields():
    names = {f.name for f in ClinicalRecord._meta.fields}
    assert {"weight_sds", "bmi_centile", "head_circumference_sds"} <= names
