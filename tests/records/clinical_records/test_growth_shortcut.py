"""The usual measurement's shorter way through rcpchgrowth (its reference's LMS,
looked up once an age, its z-score and centile) gives exactly what its Measurement
gives, and everything unusual still gets Measurement's own words."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rcpchgrowth.global_functions import centile as rcpch_centile
from rcpchgrowth.global_functions import (
    fetch_lms,
    lms_value_array_for_measurement_for_reference,
)

from records.clinical_records import growth

# Each measurement's plausible values and beyond (grams for kilograms, metres for cm).
VALUES = {
    "weight": st.decimals("0.05", "250", places=2),
    "height": st.decimals("0.5", "230", places=1),
    "head_circumference": st.decimals("5", "80", places=1),
    "bmi": st.decimals("4", "80", places=1),
}
children = st.builds(
    growth.GrowthInput,
    sex=st.sampled_from(growth.SEXES),
    born=st.just(date(2000, 1, 1)),
    on=st.integers(0, 22 * 366).map(lambda days: date(2000, 1, 1) + timedelta(days)),
    reference=st.sampled_from(["uk-who", "trisomy-21", "turners-syndrome"]),
    gestation_weeks=st.one_of(st.none(), st.integers(22, 42)),
    gestation_days=st.one_of(st.none(), st.integers(0, 6)),
)


@settings(max_examples=400, deadline=None)
@given(
    child=children,
    name_value=st.sampled_from(sorted(VALUES)).flatmap(
        lambda name: st.tuples(st.just(name), VALUES[name])
    ),
)
def test_shorter_way_gives_measurements_figure(child, name_value):
    name, value = name_value
    assert growth.figure_for.__wrapped__(child, name, value) == (
        growth.measured_figure(child, name, value)
    )


def test_unusual_measurements_take_measurements_words():
    born = date(2020, 1, 1)
    child = growth.GrowthInput(
        sex="male", born=born, on=date(2023, 1, 1), reference="uk-who"
    )
    # Grams for kilograms, metres for centimetres: refused in rcpchgrowth's words.
    grams = growth.figure_for(child, "weight", Decimal("14000"))
    assert "above +8 SD" in grams.error and grams.sds is None
    metres = growth.figure_for(child, "height", Decimal("0.95"))
    assert "not metres" in metres.error
    # Turner's charts have no weight: no figure, and why.
    turner = growth.GrowthInput(
        sex="female", born=born, on=date(2023, 1, 1), reference="turners-syndrome"
    )
    assert growth.plain_sds(turner, "weight", 14.0) is None
    assert growth.figure_for(turner, "weight", Decimal("14")).warning.startswith(
        "Weight: no centile ("
    )
    # A typical three-year-old: the shorter way answers, near the 50th centile.
    sds = growth.plain_sds(child, "weight", 14.3)
    assert sds is not None and abs(sds) < 0.7
    figure = growth.figure_for(child, "weight", Decimal("14.3"))
    assert figure == growth.measured_figure(child, "weight", Decimal("14.3"))
    assert 20 < figure.centile < 80 and not figure.warning


@settings(max_examples=300, deadline=None)
@given(st.floats(-20, 20))
def test_centile_is_rcpchgrowths(sds):
    assert growth.centile(sds) == float(rcpch_centile(z_score=sds))


def reference_tables():
    """Every table of the three references that an age from before term to 20 picks."""
    tables = {}
    for reference in sorted(growth.PLAIN_REFERENCES):
        for method in ("weight", "height", "ofc", "bmi"):
            for sex in growth.SEXES:
                for age in [a / 10 for a in range(-4, 201)]:
                    try:
                        table = lms_value_array_for_measurement_for_reference(
                            reference=reference,
                            age=age,
                            measurement_method=method,
                            sex=sex,
                            default_youngest_reference=False,
                        )
                    except LookupError:
                        continue
                    tables[id(table)] = table
    return list(tables.values())


def test_rows_around_an_age_give_the_whole_tables_lms():
    tables = reference_tables()
    assert len(tables) > 20
    checked = 0
    for table in tables:
        ages = [row["decimal_age"] for row in table]
        # Each row's own age (to 4 decimals, as fetch_lms matches), between rows,
        # and past both ends; the rows at the ends (where it interpolates
        # linearly) and every 25th between keep the test quick.
        wanted = [ages[0] - 0.01, ages[-1], ages[-1] + 0.01]
        pairs = list(zip(ages, ages[1:]))
        for low, high in pairs[:3] + pairs[3:-3:25] + pairs[-3:]:
            wanted += [low, low + 0.00004, (low + high) / 2, high - 0.00004]
        for age in wanted:
            try:
                whole = fetch_lms(age=age, lms_value_array_for_measurement=table)
            except (IndexError, ValueError) as refusal:  # past an end: both ways
                with pytest.raises(type(refusal)):
                    fetch_lms(
                        age=age,
                        lms_value_array_for_measurement=growth._around(table, age),
                    )
                continue
            part = growth._around(table, age)
            assert len(part) <= 4
            assert fetch_lms(age=age, lms_value_array_for_measurement=part) == whole
            checked += 1
    assert checked > 2000
