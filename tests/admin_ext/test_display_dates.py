"""Dates on the pages that used to format their own: the chart summary (alerts, chart
hover labels), the second-factor list and every template, through the clinic's
formats (17 May 2023; 14:05 GMT)."""

import re
from datetime import date, datetime, timezone as dt_timezone
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

from django.template.loader import render_to_string
from django.test import override_settings
from django.utils import timezone

from records.charts import summary
from records.clinical_records.models import ClinicalRecord
from records.patients.models import Assessment

ROOT = Path(__file__).resolve().parents[2]
# A template names one of the locale's formats, or none (DATE_FORMAT): never a
# pattern of its own. The one exception is the value of a date typed into a text
# box, which is the typing format (DD/MM/YYYY).
NAMED = {"DATE_FORMAT", "DATETIME_FORMAT", "TIME_FORMAT", "SHORT_DATE_FORMAT"}
DATE_FILTER = re.compile(r"""\|date:["']([^"']*)["']""")


def test_growth_alerts_name_their_dates_as_the_clinic_writes_them():
    first = ClinicalRecord(
        pk=1, visit_date=date(2024, 1, 5), weight_sds=Decimal("0.5"), weight_centile=69
    )
    fell = ClinicalRecord(
        pk=2,
        visit_date=date(2024, 6, 1),
        weight_sds=Decimal("-0.84"),
        weight_centile=20,
    )
    (alert,) = summary.growth_alerts([first, fell])
    assert "between 5 Jan 2024 and 1 Jun 2024" in alert.message
    low = ClinicalRecord(
        pk=3,
        visit_date=date(2024, 7, 9),
        head_circumference_sds=Decimal("-2.8"),
        head_circumference_centile=Decimal("0.3"),
    )
    (head,) = summary.growth_alerts([low])
    assert head.message.endswith("on 9 Jul 2024.")


def test_score_trend_points_carry_the_shown_date_for_the_hover_label():
    assessment = Assessment(
        pk=1,
        instrument="asq3",
        performed_on=date(2023, 5, 17),
        total_score=Decimal("41"),
        chronological_age_days=400,
    )
    (trend,) = summary.score_trends([assessment])
    assert trend["points"][0]["date"] == "17 May 2023"


def test_the_summary_script_shows_the_servers_dates_and_formats_none():
    script = (ROOT / "admin_ext/static/admin_ext/summary_charts.js").read_text()
    assert "items[0].raw.date" in script  # the hover titles: the server's words
    for own_formatting in ("toLocale", "new Date", "getFullYear", "toISOString"):
        assert own_formatting not in script


@override_settings(TIME_ZONE="Europe/London")
def test_second_factor_list_shows_dates_and_24_hour_times_with_the_zone():
    device = SimpleNamespace(
        pk=7,
        name="Phone",
        created_at=datetime(2023, 1, 17, 9, 0, tzinfo=dt_timezone.utc),
        last_used_at=datetime(2023, 1, 18, 14, 5, tzinfo=dt_timezone.utc),
    )
    with timezone.override("Europe/London"):
        html = render_to_string(
            "admin_ext/mfa/factor_list.html",
            {"devices": [device], "kind": "totp", "can_remove": False},
        )
    assert "added 17 Jan 2023, last used 18 Jan 2023, 14:05 GMT" in html
    assert "2023-01-17" not in html


def test_no_template_writes_a_date_pattern_of_its_own():
    templates = [
        *(ROOT / "admin_ext" / "templates").rglob("*.html"),
        *(ROOT / "templates").rglob("*.html"),
    ]
    assert templates
    own = []
    for template in templates:
        for line in template.read_text().splitlines():
            for pattern in DATE_FILTER.findall(line):
                typed_value = pattern == "d/m/Y" and 'value="{{' in line
                if pattern not in NAMED and not typed_value:
                    own.append(f"{template.relative_to(ROOT)}: {pattern}")
            if "naturaltime" in line or "naturalday" in line:
                own.append(f"{template.relative_to(ROOT)}: humanize")
    assert own == []
