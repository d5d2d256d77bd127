"""Ages of children: chronological, corrected for prematurity, and as shown."""

from datetime import date

TERM_DAYS = 40 * 7
PRETERM_WEEKS = 37
CORRECTION_UNTIL_MONTHS = 24


def _months_and_days(born: date, on: date) -> tuple[int, int]:
    """Whole calendar months from `born` to `on`, and the days left over."""
    months = (on.year - born.year) * 12 + (on.month - born.month)
    if on.day < born.day:
        months -= 1
    anchor_year, anchor_month = divmod(born.month - 1 + months, 12)
    anchor_day = min(
        born.day, _days_in_month(born.year + anchor_year, anchor_month + 1)
    )
    anchor = date(born.year + anchor_year, anchor_month + 1, anchor_day)
    return months, (on - anchor).days


def _days_in_month(year: int, month: int) -> int:
    following = date(year + month // 12, month % 12 + 1, 1)
    return (following - date(year, month, 1)).days


def age_in_days(born: date, on: date) -> int:
    return (on - born).days


def corrected_age_in_days(
    *, born: date, on: date, gestation_weeks: int | None, gestation_days: int | None
) -> int | None:
    """Age corrected for prematurity, for children born before 37 weeks and still under
    24 months old; None when no correction applies."""
    if gestation_weeks is None or gestation_weeks >= PRETERM_WEEKS:
        return None
    if _months_and_days(born, on)[0] >= CORRECTION_UNTIL_MONTHS:
        return None
    deficit = TERM_DAYS - (gestation_weeks * 7 + (gestation_days or 0))
    return age_in_days(born, on) - deficit


def age_text_from_days(days: int | None) -> str:
    """'2 y 3 m', '5 m 12 d', '3 w 2 d', or '-4 w' for a corrected age before term."""
    if days is None:
        return ""
    if days < 0:
        weeks, rest = divmod(-days, 7)
        return f"-{weeks} w {rest} d" if rest else f"-{weeks} w"
    if days < 8 * 7:
        weeks, rest = divmod(days, 7)
        return f"{weeks} w {rest} d"
    months = int(days / 30.4375)
    if months < 24:
        return f"{months} m {days - int(months * 30.4375)} d"
    return f"{months // 12} y {months % 12} m"


def age_text(born: date, on: date) -> str:
    """Calendar age on a date: '2 y 3 m' from two years, '5 m 12 d' below, weeks before
    eight weeks."""
    days = age_in_days(born, on)
    if days < 8 * 7:
        return age_text_from_days(days)
    months, rest = _months_and_days(born, on)
    if months < 24:
        return f"{months} m {rest} d"
    return f"{months // 12} y {months % 12} m"
