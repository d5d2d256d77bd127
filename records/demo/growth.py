"""The demo's growth: a few charts measured along a growth series drawn from the
reference itself, and the vitals of the other visits, which grow with the child."""

import contextlib
import io
import random
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from records.clinical_records.validators import VITAL_RANGES
from records.patients.models import Patient, Sex

DAYS_PER_MONTH = 365.25 / 12

# --- Growth series --------------------------------------------------------------------

# A few charts (by number, all in the demo clinician's teams) follow a growth series
# drawn from the reference itself (rcpchgrowth's measurement for an SDS at the
# child's corrected age) rather than the rough vitals: (sex, weeks+days, birth
# weight g, age in days today, growth reference, visit ages in days, SDS of weight,
# height and head circumference at each visit).
# fmt: off
GROWTH_SERIES: dict[int, dict[str, Any]] = {
    # A 29+3-week girl: on her centiles once corrected for gestation.
    1: {"sex": Sex.FEMALE, "gestation": (29, 3), "grams": 1250, "age": 610,
        "reference": "uk-who",
        "visits": (14, 60, 110, 170, 240, 320, 400, 480, 560),
        "sds": ((-0.6, -0.8, -0.3),) * 9},
    # A term boy whose weight falls through the centiles in his second year.
    3: {"sex": Sex.MALE, "gestation": (40, 0), "grams": 3500, "age": 1150,
        "reference": "uk-who",
        "visits": (20, 120, 250, 370, 480, 600, 760, 920, 1100),
        "sds": ((0.6, 0.3, 0.2), (0.6, 0.3, 0.2), (0.5, 0.3, 0.2), (0.4, 0.3, 0.2),
                (-0.2, 0.2, 0.2), (-1.9, 0.0, 0.1), (-2.0, -0.1, 0.1),
                (-1.9, -0.2, 0.1), (-1.8, -0.2, 0.1))},
    # A girl with Down syndrome, measured against the Trisomy 21 charts.
    4: {"sex": Sex.FEMALE, "gestation": (38, 2), "grams": 3000, "age": 1500,
        "reference": "trisomy-21",
        "visits": (30, 180, 365, 550, 730, 1000, 1250, 1480),
        "sds": ((0.1, -0.2, 0.0),) * 8},
}
# fmt: on


def _growth_value(spec: dict, method: str, sds: float, born: date, on: date):
    """The reference's measurement at `sds` for the child's corrected age."""
    from rcpchgrowth.date_calculations import corrected_decimal_age
    from rcpchgrowth.global_functions import measurement_from_sds

    weeks, days = spec["gestation"]
    age = corrected_decimal_age(
        birth_date=born, observation_date=on, gestation_weeks=weeks, gestation_days=days
    )
    return measurement_from_sds(
        reference=spec["reference"],
        requested_sds=sds,
        measurement_method=method,
        sex=str(spec["sex"]),
        age=age,
    )


def _months(days: int) -> float:
    return days / DAYS_PER_MONTH


def _measure(field: str, value: float, step: str) -> Decimal:
    """A measurement rounded to `step`, kept within the field's accepted range (the
    smallest preterm babies would otherwise fall just below it)."""
    _, low, high, _ = VITAL_RANGES[field]
    return min(high, max(low, Decimal(str(value)).quantize(Decimal(step))))


def _reference_value(patient: Patient, method: str, sds: float, on: date):
    """The growth reference's measurement at `sds` for the child at `on`, or None
    where no reference covers them (sex unknown, before 23 weeks, past 20 years)."""
    if patient.sex not in (Sex.MALE, Sex.FEMALE):
        return None
    spec = {
        "sex": patient.sex,
        "gestation": (
            patient.gestational_age_weeks or 40,
            patient.gestational_age_days or 0,
        ),
        "reference": patient.growth_reference,
    }
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # it prints its refusals
            return _growth_value(spec, method, sds, patient.date_of_birth, on)
    except Exception:  # no reference data at that age
        return None


def _vitals(
    rng: random.Random,
    *,
    patient: Patient,
    age_days: int,
    febrile: bool,
    sds: tuple[float, float, float] | None = None,
) -> dict[str, Any]:
    """Measurements that grow with the child; preterm children by corrected age."""
    weeks = patient.gestational_age_weeks or 40
    birth_kg = (patient.birth_weight_grams or 3400) / 1000
    months = max(0.0, _months(age_days) - max(0, 40 - weeks) / 4.35)
    years = months / 12
    if months < 4:
        weight = birth_kg + 0.75 * months
    elif months < 12:
        weight = birth_kg + 3 + 0.45 * (months - 4)
    elif months < 24:
        weight = birth_kg + 6.6 + 0.2 * (months - 12)
    else:
        weight = max(birth_kg + 9, 2 * years + 8)
    birth_cm = 50 - 1.5 * max(0, 40 - weeks)
    birth_head = 35 - 0.8 * max(0, 40 - weeks)
    if months < 12:
        height = birth_cm + (75 - birth_cm) * months / 12
        head = birth_head + (46 - birth_head) * months / 12
    elif months < 24:
        height, head = 75 + (months - 12), 46 + 2 * (months - 12) / 12
    else:
        height, head = 87 + 6 * (years - 2), min(54, 48 + 0.4 * (years - 2))
    by_age = 0 if months < 12 else 1 if months < 36 else 2 if months < 72 else 3
    heart = ((110, 160), (95, 140), (80, 120), (70, 110))[by_age]
    breaths = ((30, 50), (24, 40), (20, 30), (16, 24))[by_age]
    temperature = rng.uniform(37.8, 39.4) if febrile else rng.uniform(36.4, 37.4)
    weight *= rng.gauss(1, 0.07)
    height *= rng.gauss(1, 0.025)
    head *= rng.gauss(1, 0.02)
    # Where the growth reference covers the child, the measurement at the child's
    # own SDS (and a little noise): the rough curves above are implausible for the
    # smallest babies, and rcpchgrowth refuses what is beyond 8 SD.
    on = patient.date_of_birth + timedelta(days=age_days)
    own = sds or (0.0, 0.0, 0.0)
    weight, height, head = (
        _reference_value(patient, method, own[i] + rng.gauss(0, 0.15), on) or rough
        for i, (method, rough) in enumerate(
            (("weight", weight), ("height", height), ("ofc", head))
        )
    )
    return {
        "weight_kg": _measure("weight_kg", weight, "0.01"),
        "height_cm": _measure("height_cm", height, "0.1"),
        "head_circumference_cm": (
            _measure("head_circumference_cm", head, "0.1") if months < 60 else None
        ),
        "temperature_c": _measure("temperature_c", temperature, "0.1"),
        "heart_rate": rng.randint(*heart) + (15 if febrile else 0),
        "respiratory_rate": rng.randint(*breaths),
        "spo2": rng.choice((96, 97, 98, 98, 99, 99, 100)),
    }


class _GrowthSeries:
    """The growth-series charts' births (mixed into the chart builder; their
    visits are in records.demo.visits)."""

    def growth_series_birth(self, number: int) -> dict[str, Any]:
        """A growth-series chart's own birth details (drawn ones for the others)."""
        spec = GROWTH_SERIES.get(number)
        if spec is None:
            return {}
        weeks, days = spec["gestation"]
        return {
            "date_of_birth": self.today - timedelta(days=spec["age"]),
            "sex": spec["sex"],
            "gestational_age_weeks": weeks,
            "gestational_age_days": days,
            "birth_weight_grams": spec["grams"],
            "growth_reference": spec["reference"],
        }
