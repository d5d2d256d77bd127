"""A chart's growth as its summary (and the worklist) show it: the alerts a
visit's figures raise (weight faltering, head circumference crossing or out of
range) and the series its growth charts plot."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache

from rcpchgrowth.date_calculations import corrected_decimal_age

from records.charts import age_axis
from records.clinical_records import growth
from records.clinical_records.models import ClinicalRecord
from records.common.display import show_date
from records.patients.models import Patient

# --- growth alerts -----------------------------------------------------------------

# UK-WHO's centile lines (0.4th, 2nd, 9th, ... 99.6th) are two thirds of an SD apart:
# a centile space.
CENTILE_SPACE_SDS = Decimal(2) / Decimal(3)
FALL_SPACES = 2
HEAD_CROSSING_SPACES = 2
HEAD_LOW_CENTILE = Decimal("0.4")
HEAD_HIGH_CENTILE = Decimal("99.6")

A_WEIGHT_FALTERING = (
    "Weight faltering: from the {before} to the {after} centile between "
    "{first} and {second} (SDS {drop:+.2f})."
)
A_HEAD_CROSSING = (
    "Head circumference crossed {spaces} centile spaces: from the {before} to the "
    "{after} centile between {first} and {second}."
)
A_HEAD_LOW = "Head circumference below the 0.4th centile ({centile}) on {on}."
A_HEAD_HIGH = "Head circumference above the 99.6th centile ({centile}) on {on}."


@dataclass(frozen=True)
class Alert:
    kind: str  # weight_faltering, head_crossing, head_low, head_high
    on: date
    message: str


def _spaces(change: Decimal) -> Decimal:
    return change / CENTILE_SPACE_SDS


def growth_alerts(visits: list[ClinicalRecord]) -> list[Alert]:
    """The alert rules over a chart's visits (their stored figures), newest first:

    - weight faltering: weight SDS falls by two centile spaces or more (4/3 SD) from
      one visit with a weight to the next;
    - head circumference crossing two centile spaces or more, either way, between
      consecutive measurements;
    - head circumference below the 0.4th or above the 99.6th centile at a visit.
    """
    alerts: list[Alert] = []
    ordered = sorted(visits, key=lambda v: (v.visit_date, v.pk))
    weights = [v for v in ordered if v.weight_sds is not None]
    for before, after in zip(weights, weights[1:]):
        drop = after.weight_sds - before.weight_sds
        if _spaces(-drop) >= FALL_SPACES:
            alerts.append(
                Alert(
                    "weight_faltering",
                    after.visit_date,
                    A_WEIGHT_FALTERING.format(
                        before=growth.ordinal(before.weight_centile),
                        after=growth.ordinal(after.weight_centile),
                        first=show_date(before.visit_date),
                        second=show_date(after.visit_date),
                        drop=drop,
                    ),
                )
            )
    heads = [v for v in ordered if v.head_circumference_sds is not None]
    for before, after in zip(heads, heads[1:]):
        spaces = _spaces(
            abs(after.head_circumference_sds - before.head_circumference_sds)
        )
        if spaces >= HEAD_CROSSING_SPACES:
            alerts.append(
                Alert(
                    "head_crossing",
                    after.visit_date,
                    A_HEAD_CROSSING.format(
                        spaces=int(spaces),
                        before=growth.ordinal(before.head_circumference_centile),
                        after=growth.ordinal(after.head_circumference_centile),
                        first=show_date(before.visit_date),
                        second=show_date(after.visit_date),
                    ),
                )
            )
    for visit in heads:
        centile = visit.head_circumference_centile
        if centile < HEAD_LOW_CENTILE:
            alerts.append(
                Alert(
                    "head_low",
                    visit.visit_date,
                    A_HEAD_LOW.format(
                        centile=growth.ordinal(centile), on=show_date(visit.visit_date)
                    ),
                )
            )
        elif centile > HEAD_HIGH_CENTILE:
            alerts.append(
                Alert(
                    "head_high",
                    visit.visit_date,
                    A_HEAD_HIGH.format(
                        centile=growth.ordinal(centile), on=show_date(visit.visit_date)
                    ),
                )
            )
    alerts.sort(key=lambda a: a.on, reverse=True)
    return alerts


# --- growth series -----------------------------------------------------------------

GROWTH_CHARTS = (
    # name, label, unit
    ("weight", "Weight", "kg"),
    ("height", "Height / length", "cm"),
    ("head_circumference", "Head circumference", "cm"),
    ("bmi", "BMI", "kg/m²"),
)


def corrected_age_years(patient: Patient, on: date) -> float | None:
    """rcpchgrowth's corrected decimal age (its charts' x axis)."""
    try:
        return corrected_decimal_age(
            birth_date=patient.date_of_birth,
            observation_date=on,
            gestation_weeks=patient.gestational_age_weeks or 40,
            gestation_days=patient.gestational_age_days or 0,
        )
    except ValueError:
        return None


@lru_cache(maxsize=64)
def _lines_in_months(reference: str, method: str, sex: str) -> tuple:
    """The reference's centile lines as ((centile, its label, ((age in years, in
    months, value), ...)), ...): each chart reads a few thousand of their points
    (every summary page), so their ages are turned into months once."""
    return tuple(
        (
            centile,
            growth.ordinal(centile),
            tuple((x, age_axis.months_from_years(x), y) for x, y in line),
        )
        for centile, line in growth.centile_lines(reference, method, sex)
    )


def growth_series(patient: Patient, visits: list[ClinicalRecord]) -> list[dict]:
    """Per measurement: the child's points by corrected age in months, the
    reference's centile lines over the ages shown and the age axis (JSON-ready)."""
    charts = []
    # Each visit's age and date, worked out once for all the charts.
    dated = [
        (
            visit,
            corrected_age_years(patient, visit.visit_date),
            show_date(visit.visit_date),
        )
        for visit in sorted(visits, key=lambda v: v.visit_date)
    ]
    for name, label, unit in GROWTH_CHARTS:
        field_name, method, _ = growth.MEASUREMENTS[name]
        points = []
        for visit, x, shown in dated:
            value = getattr(visit, field_name)
            if value is None or x is None:
                continue
            points.append(
                {
                    "x": age_axis.months_from_years(x),
                    "y": float(value),
                    "label": growth.figure_text(
                        value,
                        unit,
                        getattr(visit, f"{name}_sds"),
                        getattr(visit, f"{name}_centile"),
                    ),
                    "date": shown,
                }
            )
        axis = age_axis.growth_axis([p["x"] for p in points])
        low, high = axis["min"] / 12, axis["max"] / 12
        lines = [
            {
                "centile": centile,
                "label": label,
                "points": [
                    {"x": months, "y": y} for x, months, y in line if low <= x <= high
                ],
            }
            for centile, label, line in _lines_in_months(
                patient.growth_reference, method, patient.sex
            )
        ]
        charts.append(
            {
                "name": name,
                "label": label,
                "unit": unit,
                "points": points,
                "lines": [line for line in lines if line["points"]],
                "axis": axis,
            }
        )
    return charts
