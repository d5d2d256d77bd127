"""Dates and times as NDAS shows them, wherever text is made in code (messages,
titles, a record's name): the active locale's formats (ndas/formats), so that code
and templates agree: 17 May 2023, 14:05 GMT."""

from datetime import date, datetime
from functools import lru_cache

from django.utils import timezone, translation
from django.utils.dates import MONTHS_3
from django.utils.formats import date_format, get_format, time_format


@lru_cache(maxsize=16)
def _own_datetime_format(language: str) -> bool:
    """Whether `language`'s moments are NDAS's own ("j M Y, H:i T")."""
    return get_format("DATETIME_FORMAT", language) == "j M Y, H:i T"


@lru_cache(maxsize=16)
def _short_months(language: str) -> tuple[str, ...] | None:
    """The month names of `language`'s dates, when its date format is NDAS's own
    ("j M Y", 17 May 2023); None for any other format."""
    if get_format("DATE_FORMAT", language) != "j M Y":
        return None
    with translation.override(language):
        return ("",) + tuple(str(MONTHS_3[month]).title() for month in range(1, 13))


def show_date(value: date | None) -> str:
    """The date as date_format(value, "DATE_FORMAT") shows it. A chart's summary
    shows hundreds (its growth points, its visits): NDAS's own format is written
    directly, at a tenth of date_format's cost; any other goes through it."""
    if not value:
        return ""
    language = translation.get_language()
    months = _short_months(language) if language else None
    if months is None:
        return date_format(value, "DATE_FORMAT")
    return f"{value.day} {months[value.month]} {value.year:04d}"


def show_datetime(value: datetime | None) -> str:
    """The moment in the clinic's time zone, with the zone named, as
    date_format(localtime(value), "DATETIME_FORMAT") shows it. An audit report
    shows hundreds: NDAS's own format is written directly (as show_date does),
    any other, and a moment the clock passes twice, through date_format."""
    if not value:
        return ""
    local = timezone.localtime(value)
    language = translation.get_language()
    zone = local.tzinfo
    if (
        not language
        or not _own_datetime_format(language)
        # date_format leaves the zone out where the clock goes back or forward.
        or zone.utcoffset(local.replace(fold=not local.fold)) != zone.utcoffset(local)
    ):
        return date_format(local, "DATETIME_FORMAT")
    return f"{show_date(local)}, {local:%H:%M} {zone.tzname(local)}"


def show_time(value: datetime) -> str:
    """The time of day with its zone (14:05 GMT), and the date too unless today."""
    local = timezone.localtime(value)
    if local.date() == timezone.localdate():
        return time_format(local, "TIME_FORMAT")
    return date_format(local, "DATETIME_FORMAT")
