"""Growth figures of a visit: SDS and centiles against the patient's growth reference.

Every figure comes from rcpchgrowth (RCPCH's UK-WHO, Trisomy 21 and Turner syndrome
references, corrected for gestation); nothing of the growth maths is done here.
"""

import bisect
import contextlib
import io
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from rcpchgrowth import Measurement
from rcpchgrowth.constants import (
    MAXIMUM_BMI_ADVISORY_SDS,
    MAXIMUM_BMI_ERROR_SDS,
    MAXIMUM_HEIGHT_WEIGHT_OFC_ADVISORY_SDS,
    MAXIMUM_HEIGHT_WEIGHT_OFC_ERROR_SDS,
    MINIMUM_BMI_ADVISORY_SDS,
    MINIMUM_BMI_ERROR_SDS,
    MINIMUM_HEIGHT_WEIGHT_OFC_ADVISORY_SDS,
    MINIMUM_HEIGHT_WEIGHT_OFC_ERROR_SDS,
)
from rcpchgrowth.date_calculations import corrected_decimal_age
from rcpchgrowth.global_functions import (
    _age_for_lms_lookup,
    fetch_lms,
    lms_value_array_for_measurement_for_reference,
    nearest_lowest_index,
    z_score,
)
from scipy.special import ndtr

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


def _limits(method: str, advisory: bool) -> tuple[float, float]:
    """rcpchgrowth's SDS limits of a method: advisory (check it) or error (refused)."""
    if method == "bmi":
        if advisory:
            return MINIMUM_BMI_ADVISORY_SDS, MAXIMUM_BMI_ADVISORY_SDS
        return MINIMUM_BMI_ERROR_SDS, MAXIMUM_BMI_ERROR_SDS
    if advisory:
        return (
            MINIMUM_HEIGHT_WEIGHT_OFC_ADVISORY_SDS,
            MAXIMUM_HEIGHT_WEIGHT_OFC_ADVISORY_SDS,
        )
    return MINIMUM_HEIGHT_WEIGHT_OFC_ERROR_SDS, MAXIMUM_HEIGHT_WEIGHT_OFC_ERROR_SDS


# The references whose SDS is rcpchgrowth's plain LMS z-score at every age (its WHO
# and CDC references have exceptions, and NDAS offers neither).
PLAIN_REFERENCES = frozenset({"uk-who", "trisomy-21", "turners-syndrome"})


@lru_cache(maxsize=65_536)
def reference_lms(reference: str, method: str, sex: str, age: float) -> dict:
    """rcpchgrowth's L, M and S of a reference at a corrected decimal age, as its
    sds_for_measurement looks them up. Ages are whole days (days / 365.25): at
    most a few tens of thousands of keys, so a large import looks each up once
    (about 30 microseconds each)."""
    with contextlib.redirect_stdout(io.StringIO()):  # it prints some refusals
        table = lms_value_array_for_measurement_for_reference(
            reference=reference,
            age=age,
            measurement_method=method,
            sex=sex,
            default_youngest_reference=False,
        )
        age = _age_for_lms_lookup(
            reference=reference, age=age, lms_value_array_for_measurement=table
        )
        rows = _around(table, age)
        return fetch_lms(age=age, lms_value_array_for_measurement=rows)


# id of a reference table -> (the table, its ages); rcpchgrowth's tables are its
# module's own lists, loaded once, so a handful of entries.
_TABLE_AGES: dict[int, tuple[list, list[float] | None]] = {}


def _around(table: list, age: float) -> list:
    """The rows of a reference table fetch_lms reads for an age: one below its
    row and two above, or fewer at the table's ends, where it interpolates
    linearly. fetch_lms finds its row by reading the whole table (a few hundred
    rows, about 0.3 ms an age); in these rows it finds the same row, as its
    own nearest_lowest_index finds it in a table in age order."""
    held = _TABLE_AGES.get(id(table))
    if held is None or held[0] is not table:
        ages = [row["decimal_age"] for row in table]
        ordered = all(a < b for a, b in zip(ages, ages[1:]))
        held = _TABLE_AGES[id(table)] = (table, ages if ordered else None)
    ages = held[1]
    if ages is None:  # never seen: rcpchgrowth keeps its tables in age order
        return table
    # Its row is the first whose age matches to 4 decimals, else the last below:
    # both lie among the rows next to where the age would go.
    near = bisect.bisect_left(ages, age)
    start = max(near - 4, 0)
    row = start + nearest_lowest_index(table[start : near + 4], age)
    return table[max(row - 1, 0) : row + 3]


def plain_sds(child: GrowthInput, method: str, value: float) -> float | None:
    """The corrected SDS from rcpchgrowth's own functions, as its Measurement
    computes it, when the measurement is plausible and a reference covers the
    child; else None.

    Measurement also works out the chronological figures, centile bands and advice
    that NDAS does not keep (about 10 times the work), and looks the reference up
    anew each time: for the usual measurement this is the same number (the tests
    check it against Measurement), and everything else (a refusal, no reference, a
    date error) goes to Measurement for its own words.
    """
    if child.reference not in PLAIN_REFERENCES:
        return None
    if method == "height" and value < 2:  # metres for centimetres: its refusal
        return None
    try:
        age = corrected_decimal_age(
            birth_date=child.born,
            observation_date=child.on,
            # Measurement takes no weeks as 40, and keeps the days.
            gestation_weeks=child.gestation_weeks or 40,
            gestation_days=child.gestation_days or 0,
        )
        lms = reference_lms(child.reference, method, child.sex, age)
    except Exception:  # its refusal of the dates or the reference: Measurement's words
        return None
    sds = z_score(l=lms["l"], m=lms["m"], s=lms["s"], observation=value)
    low, high = _limits(method, advisory=False)
    return sds if low <= sds <= high else None


def centile(sds: float) -> float:
    """rcpchgrowth's centile of an SDS (its centile() is scipy's norm.cdf x 100;
    scipy's ndtr is that function without its argument checks, 200 x faster)."""
    return float(ndtr(sds)) * 100


@lru_cache(maxsize=4096)
def figure_for(child: GrowthInput, name: str, value) -> Figure:
    """The corrected SDS and centile of one measurement, with rcpchgrowth's words."""
    if value is None:
        return Figure()
    _, method, label = MEASUREMENTS[name]
    if child.sex not in SEXES:
        return Figure(warning=W_NO_SEX)
    sds = plain_sds(child, method, float(value))
    if sds is not None:
        return _figure(label, method, sds, centile(sds))
    return measured_figure(child, name, value)


def measured_figure(child: GrowthInput, name: str, value) -> Figure:
    """figure_for by rcpchgrowth's Measurement alone, with its words for a refusal or
    a missing reference (the usual measurement takes plain_sds's shorter way)."""
    _, method, label = MEASUREMENTS[name]
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
    return _figure(label, method, sds, values["corrected_centile"])


def _figure(label: str, method: str, sds: float, centile_value) -> Figure:
    low, high = _limits(method, advisory=True)
    warning = ""
    if not low <= sds <= high:
        warning = W_ADVISORY.format(label=label, sds=sds)
    return Figure(
        sds=_quantize(sds, _SDS),
        centile=_quantize(centile_value, _CENTILE),
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
