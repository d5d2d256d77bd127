"""The demo clinician opens a chart from the patient list: the summary draws its
growth charts in the browser, under the strict Content-Security-Policy."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.helpers import TEST_PASSWORD, second_step

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SCREENSHOT = os.environ.get("SUMMARY_SCREENSHOT", "")


def test_clinician_opens_the_summary_and_sees_growth_charts(
    live_server, page, demo_chart
):
    messages = []
    page.on("console", lambda message: messages.append(message.text))
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", "clinician")
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("button[type=submit]")
    second_step(page, "clinician")
    expect(page).to_have_url(f"{live_server.url}/admin/")

    page.goto(f"{live_server.url}/admin/patients/patient/")
    page.click(f"text={demo_chart.mrn}")
    summary = f"{live_server.url}/admin/patients/patient/{demo_chart.pk}/summary/"
    expect(page).to_have_url(summary)
    expect(page.get_by_test_id("summary-header")).to_contain_text(demo_chart.mrn)
    expect(page.get_by_test_id("summary-header")).to_contain_text("corrected")
    weight = page.locator("canvas[data-growth-chart='0']")
    expect(weight).to_have_attribute("data-drawn", "true")
    # Chart.js drew on it: the canvas has pixels that are not blank.
    drawn = weight.evaluate("""canvas => {
            const data = canvas.getContext('2d')
                .getImageData(0, 0, canvas.width, canvas.height).data;
            let painted = 0;
            for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted++;
            return painted;
        }""")
    assert drawn > 1000
    expect(page.locator("canvas[data-drawn='true']")).to_have_count(4)
    expect(page.get_by_test_id("timeline")).to_contain_text("visit")
    if SCREENSHOT:
        Path(SCREENSHOT).parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOT, full_page=True)
    assert not [m for m in messages if "Content Security Policy" in m], messages
