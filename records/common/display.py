"""Dates and times as NDAS shows them, wherever text is made in code (messages,
titles, a record's name): the active locale's formats (ndas/formats), so that code
and templates agree: 17 May 2023, 14:05 GMT."""

from datetime import date, datetime

from django.utils import timezone
from django.utils.formats import date_format, time_format


def show_date(value: date | None) -> str:
    return date_format(value, "DATE_FORMAT") if value else ""


def show_datetime(value: datetime | None) -> str:
    """The moment in the clinic's time zone, with the zone named."""
    return date_format(timezone.localtime(value), "DATETIME_FORMAT") if value else ""


def show_time(value: datetime) -> str:
    """The time of day with its zone (14:05 GMT), and the date too unless today."""
    local = timezone.localtime(value)
    if local.date() == timezone.localdate():
        return time_format(local, "TIME_FORMAT")
    return date_format(local, "DATETIME_FORMAT")
