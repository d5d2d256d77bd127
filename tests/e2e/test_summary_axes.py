"""The summary's charts as clinic staff read them (finding 25 of the new-user walk):
age ticks in months or years and months (never decimal years), a padded score axis,
and each centile line named at its right end."""

import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import expect

from records.users.models import User
from tests import factories
from tests.helpers import TEST_PASSWORD, second_step

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SCREENSHOT = os.environ.get("SUMMARY_AXES_SCREENSHOT", "")
TICKS = """canvas => {
    const chart = window.Chart.getChart(canvas);
    return {
        ticks: chart.scales.x.ticks.map(t => t.label),
        title: chart.options.scales.x.title.text,
        centiles: chart.data.datasets.filter(d => d.centile !== undefined)
            .map(d => d.label),
        span: chart.scales.x.max - chart.scales.x.min,
    };
}"""


def test_growth_and_score_axes_read_in_months_and_years(
    live_server, page, demo_chart  # noqa: F811
):
    # One scored assessment: the walk found it drawn on a 0.185-0.210 year axis.
    factories.assessment(
        acting_user=User.objects.get(username="admin"),
        patient=demo_chart,
        instrument="hine",
        performed_on=demo_chart.date_of_birth + timedelta(days=150),
        total_score=Decimal("60"),
    )
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", "clinician")
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("button[type=submit]")
    second_step(page, "clinician")
    page.goto(f"{live_server.url}/admin/patients/patient/{demo_chart.pk}/summary/")
    weight = page.locator("canvas[data-growth-chart='0']")
    expect(weight).to_have_attribute("data-drawn", "true")
    drawn = weight.evaluate(TICKS)
    assert drawn["title"] in (
        "Corrected age (months)",
        "Corrected age (years and months)",
    )
    assert drawn["centiles"] == [
        "0.4th",
        "2nd",
        "9th",
        "25th",
        "50th",
        "75th",
        "91st",
        "98th",
        "99.6th",
    ]
    labels = [label for label in drawn["ticks"] if label != "0"]
    assert labels and all(label.endswith((" m", " y")) for label in labels), labels
    assert not any("." in label for label in drawn["ticks"]), drawn["ticks"]
    trend = page.locator("canvas[data-trend-chart]").first
    expect(trend).to_have_attribute("data-drawn", "true")
    drawn = trend.evaluate(TICKS)
    assert drawn["title"] == "Age (months)"
    assert drawn["span"] >= 6  # months: a single score is not on a sliver of a day
    assert "6 m" in drawn["ticks"], drawn["ticks"]
    assert not any("." in label for label in drawn["ticks"]), drawn["ticks"]
    if SCREENSHOT:
        Path(SCREENSHOT).parent.mkdir(parents=True, exist_ok=True)
        page.locator("canvas[data-growth-chart='0']").scroll_into_view_if_needed()
        page.screenshot(path=SCREENSHOT, full_page=True)
