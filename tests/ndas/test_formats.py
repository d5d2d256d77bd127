"""One date format to read (17 May 2023), DD/MM/YYYY or ISO to type, and 24-hour
times with their zone (14:05 GMT), in code and templates alike."""

import re
import zoneinfo
from datetime import date, datetime, timedelta

import pytest
from django import forms
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from records.common.display import show_date, show_datetime, show_time
from records.users import roles
from tests import factories

LONDON = zoneinfo.ZoneInfo("Europe/London")


def test_dates_read_as_the_clinic_writes_them():
    assert date_format(date(2023, 5, 17)) == "17 May 2023"
    assert date_format(date(2023, 5, 7), "SHORT_DATE_FORMAT") == "7 May 2023"
    assert show_date(date(2023, 5, 17)) == "17 May 2023"


def test_times_are_24_hour_with_their_zone(settings):
    settings.TIME_ZONE = "Europe/London"
    with timezone.override(LONDON):
        winter = datetime(2023, 1, 17, 14, 5, tzinfo=LONDON)
        summer = datetime(2023, 5, 17, 14, 5, tzinfo=LONDON)
        assert show_datetime(winter) == "17 Jan 2023, 14:05 GMT"
        assert show_datetime(summer) == "17 May 2023, 14:05 BST"
        template = Template("{{ at }}|{{ at|date:'DATETIME_FORMAT' }}")
        assert template.render(Context({"at": winter})) == (
            "17 Jan 2023, 14:05 GMT|17 Jan 2023, 14:05 GMT"
        )
        soon = timezone.now() + timedelta(hours=4)
        shown = show_time(soon)
        assert re.fullmatch(r"(\d{1,2} \w{3} \d{4}, )?\d\d:\d\d (GMT|BST)", shown)


@pytest.mark.parametrize("zone", ["Europe/London", "UTC", "America/St_Johns"])
def test_moments_read_as_date_format_shows_them(settings, zone):
    """show_datetime writes NDAS's format itself (an audit report shows
    hundreds): the same text as date_format, through a year's clock changes,
    the hour that is passed twice and the one that is skipped."""
    settings.TIME_ZONE = zone
    tz = zoneinfo.ZoneInfo(zone)
    start = datetime(2023, 1, 1, tzinfo=zoneinfo.ZoneInfo("UTC"))
    with timezone.override(tz):
        for step in range(0, 365 * 24 * 4, 7):  # every 105 minutes for a year
            moment = start + timedelta(minutes=15 * step)
            expected = date_format(timezone.localtime(moment), "DATETIME_FORMAT")
            assert show_datetime(moment) == expected
        for gone_back in (datetime(2023, 10, 29, 0, 30), datetime(2023, 10, 29, 1, 30)):
            moment = gone_back.replace(tzinfo=zoneinfo.ZoneInfo("UTC"))
            expected = date_format(timezone.localtime(moment), "DATETIME_FORMAT")
            assert show_datetime(moment) == expected


def test_dates_are_typed_dd_mm_yyyy_or_iso():
    field = forms.DateField()
    assert field.clean("17/05/2023") == date(2023, 5, 17)
    assert field.clean("2023-05-17") == date(2023, 5, 17)
    with pytest.raises(forms.ValidationError):
        field.clean("05/17/2023")  # American order is not a date here
    rendered = forms.DateInput().format_value(date(2023, 5, 17))
    assert rendered == "17/05/2023"


@pytest.mark.django_db
def test_records_are_named_with_the_clinics_dates(make_user):
    clinician = make_user("fmt-doc", roles=[roles.CLINICIAN])
    patient = factories.patient(acting_user=clinician)
    assessment = factories.assessment(
        acting_user=clinician, patient=patient, performed_on=date(2026, 5, 7)
    )
    visit = factories.visit(
        acting_user=clinician, patient=patient, visit_date=date(2026, 5, 7)
    )
    assert str(assessment).endswith(" on 7 May 2026")
    assert str(visit).endswith(" on 7 May 2026")


@pytest.mark.django_db
def test_emergency_access_says_until_when_with_the_zone(client, make_user):
    clinician = make_user("fmt-glass", roles=[roles.CLINICIAN])
    colleague = make_user("fmt-other", roles=[roles.CLINICIAN])
    team = factories.team("Elsewhere", colleague)
    other = factories.patient(acting_user=colleague, care_teams=[team])
    client.force_login(clinician)
    response = client.post(
        reverse("admin:patients_patient_break_glass"),
        {"mrn": other.mrn, "reason": "Seizure in the emergency department"},
        follow=True,
    )
    [message] = [str(m) for m in response.context["messages"]]
    assert re.search(r"granted until (\d{1,2} \w{3} \d{4}, )?\d\d:\d\d UTC\.", message)


@pytest.mark.django_db
def test_history_and_lists_show_times_with_their_zone(client, make_user):
    clinician = make_user("fmt-hist", roles=[roles.CLINICIAN])
    patient = factories.patient(acting_user=clinician, date_of_birth=date(2023, 5, 17))
    client.force_login(clinician)
    history = client.get(reverse("admin:patients_patient_history", args=[patient.pk]))
    body = history.content.decode()
    assert re.search(r"\d{1,2} \w{3} \d{4}, \d\d:\d\d UTC", body)
    listing = client.get(reverse("admin:patients_patient_changelist"))
    assert "17 May 2023" in listing.content.decode()
