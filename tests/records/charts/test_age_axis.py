"""The summary's charts by age as clinic staff read one (finding 25 of the new-user
walk): months under two years, years and months above, never decimal years; a
single score on a sensible span; each centile line named."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from records.charts import age_axis, summary
from records.users import roles
from tests import factories


def test_an_infants_axis_counts_months():
    axis = age_axis.growth_axis([3.2, 5.7])  # measured at 3 and 6 months
    assert axis["unit"] == "months" and axis["title"] == "Corrected age (months)"
    assert axis["min"] == 0 and axis["max"] == 12 and axis["step"] == 2
    assert age_axis.tick_text(6, axis["unit"]) == "6 m"


def test_an_older_childs_axis_reads_years_and_months():
    axis = age_axis.growth_axis([14.0, 30.0])
    assert axis["unit"] == "years"
    assert axis["title"] == "Corrected age (years and months)"
    assert axis["max"] > 30 and axis["step"] == 6
    assert age_axis.tick_text(18, "years") == "1 y 6 m"
    assert age_axis.tick_text(24, "years") == "2 y"
    assert age_axis.tick_text(0, "years") == "0"


def test_one_score_gets_a_padded_age_axis():
    axis = age_axis.trend_axis([2.4])  # a single score at about 10 weeks
    assert axis["title"] == "Age (months)"
    assert axis["min"] == 0 and axis["max"] >= 6
    assert axis["max"] - axis["min"] >= 6


@pytest.mark.django_db
def test_summary_data_is_in_months_with_named_centiles(make_user):
    doctor = make_user("doc", roles=[roles.CLINICIAN])
    patient = factories.patient(
        acting_user=doctor,
        sex="female",
        date_of_birth=date.today() - timedelta(days=250),
    )
    factories.visit(
        acting_user=doctor,
        patient=patient,
        visit_date=date.today() - timedelta(days=70),
        weight_kg=Decimal("6.9"),
    )
    factories.assessment(
        acting_user=doctor,
        patient=patient,
        performed_on=date.today() - timedelta(days=180),
        total_score=Decimal("28"),
    )
    result = summary.chart_summary(user=doctor, pk=patient.pk)
    weight = result.growth[0]
    assert 5.5 < weight["points"][0]["x"] < 6.5  # months, not 0.49 years
    assert weight["axis"]["unit"] == "months"
    assert [line["label"] for line in weight["lines"]] == [
        "0.4th",
        "2nd",
        "9th",
        "25th",
        "50th",
        "75th",
        "91st",
        "98th",
        "99.6th",
    ]
    assert all(
        weight["axis"]["min"] <= p["x"] <= weight["axis"]["max"]
        for line in weight["lines"]
        for p in line["points"]
    )
    trend = result.trends[0]
    assert trend["axis"]["max"] - trend["axis"]["min"] >= 6
    assert 2 < trend["points"][0]["x"] < 2.5
