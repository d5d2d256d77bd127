"""The age axis of the summary's charts, as clinic staff read one: months under two
years ("6 m"), years and months above ("1 y 6 m"), never decimal years.

Every chart's x values are ages in months; the axis says which unit its ticks are
written in, where it starts and ends and how far apart its ticks are (the ticks
are written by admin_ext/static/admin_ext/summary_charts.js from these).
"""

import math

MONTHS_AXIS_UP_TO = 24  # months: an axis ending by two years counts months
DAYS_PER_MONTH = 365.25 / 12
TITLE_MONTHS = "age (months)"
TITLE_YEARS = "age (years and months)"


def months_from_years(years: float) -> float:
    return round(years * 12, 3)


def months_from_days(days: int) -> float:
    return round(days / DAYS_PER_MONTH, 2)


def _step(span: float) -> int:
    for months, step in ((6, 1), (12, 2), (24, 3), (60, 6), (144, 12)):
        if span <= months:
            return step
    return 24


def age_axis(low: float, high: float, *, corrected: bool = True) -> dict:
    """The axis from `low` to `high` months, widened to whole ticks."""
    step = _step(high - low)
    start = math.floor(low / step) * step
    end = max(math.ceil(high / step) * step, start + step)
    months = end <= MONTHS_AXIS_UP_TO
    title = TITLE_MONTHS if months else TITLE_YEARS
    return {
        "unit": "months" if months else "years",
        "title": f"Corrected {title}" if corrected else title.capitalize(),
        "min": start,
        "max": end,
        "step": step,
    }


def growth_axis(ages: list[float]) -> dict:
    """A growth chart's axis: from birth (or the earliest corrected age) to past
    the latest measurement, a year at least."""
    ages = ages or [0.0]
    return age_axis(min(min(ages) - 1, 0.0), max(max(ages) * 1.15 + 3, 12.0))


def trend_axis(ages: list[float]) -> dict:
    """A score trend's axis: three months either side of the scores, six months
    at least (one score is not drawn on a sliver of a day)."""
    low = max(min(ages) - 3, 0.0)
    return age_axis(low, max(max(ages) + 3, low + 6), corrected=False)


def tick_text(months: float, unit: str) -> str:
    """How a tick reads: '6 m' on a months axis; '1 y 6 m', '2 y' on a years one
    (the same words as summary_charts.js, which draws them)."""
    whole = int(round(months))
    if whole == 0:
        return "0"
    if unit == "months":
        return f"{whole} m"
    sign = "-" if whole < 0 else ""
    years, rest = divmod(abs(whole), 12)
    parts = ([f"{years} y"] if years else []) + ([f"{rest} m"] if rest else [])
    return sign + " ".join(parts)
