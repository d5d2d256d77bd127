"""Growth figures of a visit: SDS and centiles against the patient's growth reference.

Every figure comes from rcpchgrowth (RCPCH's UK-WHO, Trisomy 21 and Turner syndrome
references, corrected for gestation); nothing of the growth maths is done here.
"""

import contextlib
import io
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from rcpchgrowth import Measurement
from rcpchgrowth.constants import (
    MAXIMUM_BMI_ADVISORY_SDS,
    MAXIMUM_HEIGHT_WEIGHT_OFC_ADVISORY_SDS,
    MINIMUM_BMI_ADVISORY_SDS,
    MINIMUM_HEIGHT_WEIGHT_OFC_ADVISORY_SDS,
)

from records.clinical_records import centile_data

# The visit's field, rcpchgrowth's measurement method, and how a person names it.
MEASUREMENTS: dict[str, tuple[str, str, str]] = {
    "weight": ("weight_kg", "weight", "Weight"),
    "height": ("height_cm", "height", "Height or length"),
    "head_circumference": ("head_circumference_cm", "ofc", "Head circumference"),
    "bmi": ("bmi", "bmi", "BMI"),
}
SEXES = ("male", "female")
W_NO_SEX = "No centiles: the growth references need a sex of male or female."
W_ADVISORY = (
    "{label} is {sds:+.2f} SDS, beyond ±4 SD of the reference: check the measurement."
)
W_NO_REFERENCE = "{label}: no centile ({message})"
_SDS = Decimal("0.001")
_CENTILE = Decimal("0.1")


@dataclass(frozen=True)
class Figure:
    """One measurement's corrected SDS and centile (None when there is none)."""

    sds: Decimal | None = None
    centile: Decimal | None = None
    # rcpchgrowth's own words: an implausible value (refused), or why there is no
    # figure or why it should be checked (warnings).
    error: str = ""
    warning: str = ""


@dataclass(frozen=True)
class GrowthInput:
    sex: str
    born: date
    on: date
    reference: str
    gestation_weeks: int | None = None
    gestation_days: int | None = None


def _quantize(value, step: Decimal) -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(float(value))).quantize(step, rounding=ROUND_HALF_UP)


def measurement_result(child: GrowthInput, method: str, value) -> dict:
    """rcpchgrowth's result for one measurement (its Measurement.measurement)."""
    return Measurement(
        sex=child.sex,
        birth_date=child.born,
        observation_date=child.on,
        measurement_method=method,
        observation_value=float(value),
        reference=child.reference,
        gestation_weeks=child.gestation_weeks or 0,
        gestation_days=child.gestation_days or 0,
    ).measurement


@lru_cache(maxsize=4096)
def figure_for(child: GrowthInput, name: str, value) -> Figure:
    """The corrected SDS and centile of one measurement, with rcpchgrowth's words."""
    if value is None:
        return Figure()
    _, method, label = MEASUREMENTS[name]
    if child.sex not in SEXES:
        return Figure(warning=W_NO_SEX)
    # rcpchgrowth prints some of its messages; they are in its result too.
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            result = measurement_result(child, method, value)
        except Exception as error:  # its own refusal of the dates or the inputs
            return Figure(warning=W_NO_REFERENCE.format(label=label, message=error))
    values = result["measurement_calculated_values"]
    sds = values["corrected_sds"]
    if sds is None:
        message = values["corrected_measurement_error"] or "no reference data"
        return Figure(warning=W_NO_REFERENCE.format(label=label, message=message))
    implausible = result["child_observation_value"]["observation_value_error"]
    if implausible:
        return Figure(error=implausible)
    low, high = (
        (MINIMUM_BMI_ADVISORY_SDS, MAXIMUM_BMI_ADVISORY_SDS)
        if method == "bmi"
        else (
            MINIMUM_HEIGHT_WEIGHT_OFC_ADVISORY_SDS,
            MAXIMUM_HEIGHT_WEIGHT_OFC_ADVISORY_SDS,
        )
    )
    warning = ""
    if not low <= sds <= high:
        warning = W_ADVISORY.format(label=label, sds=sds)
    return Figure(
        sds=_quantize(sds, _SDS),
        centile=_quantize(values["corrected_centile"], _CENTILE),
        warning=warning,
    )


def visit_figures(child: GrowthInput | None, values: dict) -> dict[str, Figure]:
    """Figures for each measurement name of MEASUREMENTS given in `values`."""
    if child is None:
        return {name: Figure() for name in MEASUREMENTS}
    # Cached by its inputs: a form's or an import row's rules and its save ask twice.
    return {
        name: figure_for(child, name, _key(values.get(name))) for name in MEASUREMENTS
    }


def _key(value):
    """A measurement as a cache key (17.4 and 17.400 are the same measurement)."""
    return None if value is None else Decimal(str(value)).normalize()


# --- centile lines for charts -------------------------------------------------------

CHART_CENTILES = (0.4, 2.0, 9.0, 25.0, 50.0, 75.0, 91.0, 98.0, 99.6)


def centile_lines(reference: str, method: str, sex: str) -> tuple:
    """The reference's centile lines as ((centile, ((age, value), ...)), ...), by
    corrected decimal age: rcpchgrowth's, built once into a file (centile_data)."""
    return centile_data.stored_lines(reference, method, sex)


# --- as shown -----------------------------------------------------------------------


def ordinal(centile: Decimal | float) -> str:
    """53 -> '53rd'; below the 1st or above the 99th, one decimal: '0.4th', '99.6th'."""
    value = float(centile)
    if value < 1 or value > 99:
        text = f"{value:.1f}"
        return f"{text}th"
    number = int(round(value))
    if 10 <= number % 100 <= 20:
        suffix = "th"
    else:
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def figure_text(value, unit: str, sds, centile) -> str:
    """'17.4 kg, 53rd centile, SDS +0.07' (the measurement alone without figures)."""
    if value is None:
        return ""
    number = f"{Decimal(value).normalize():f}"
    text = f"{number} {unit}".strip()
    if centile is not None:
        text += f", {ordinal(centile)} centile"
    if sds is not None:
        # round first: -0.001 would read "SDS -0.00" (adding 0.0 drops the sign of 0)
        text += f", SDS {round(float(sds), 2) + 0.0:+.2f}"
    return text
