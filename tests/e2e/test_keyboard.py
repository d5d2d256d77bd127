"""The keyboard alone (Tab, Shift+Tab, Enter, Space; arrow keys in a menu) opens a
chart from the patient list and makes an import: every stop shows where the focus
is, and Tab leads out of the page (no trap)."""

import csv
import re

import pytest
from playwright.sync_api import expect

from records.patients.models import Patient
from records.users import roles
from tests import factories
from tests.helpers import IMPORT_ROWS, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# What has the focus, and whether it shows: some outline, ring, border or background
# of the element (or of the two boxes around it, as unfold's search box draws its
# ring) differs between focused and not, on an element with a size.
FOCUSED = """() => {
    const el = document.activeElement;
    if (!el || el === document.body || el === document.documentElement) {
        return null;
    }
    const boxes = [el, el.parentElement, el.parentElement?.parentElement]
        .filter(Boolean);
    const looks = () => boxes.map((box) => {
        const style = getComputedStyle(box);
        return [style.outlineStyle, style.outlineWidth, style.outlineColor,
            style.boxShadow, style.borderColor, style.backgroundColor].join("|");
    }).join("/");
    const focused = looks();
    el.blur();
    const unfocused = looks();
    el.focus({focusVisible: true});
    const box = el.getBoundingClientRect();
    return {
        tag: el.tagName.toLowerCase(),
        name: el.getAttribute("name") || "",
        href: el.getAttribute("href") || "",
        testid: el.dataset.testid || "",
        text: (el.innerText || el.value || "").trim().slice(0, 40),
        shown: box.width > 0 && box.height > 0,
        ring: focused !== unfocused,
    };
}"""


def tab_to(page, wanted, *, limit=120, back=False):
    """Tab (or Shift+Tab) until `wanted(focused)`; the element reached must show
    its focus. Fails, naming the stops, when it is not reached within `limit`."""
    stops = []
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        focused = page.evaluate(FOCUSED)
        stops.append(focused)
        if focused and wanted(focused):
            assert focused["shown"] and focused["ring"], f"focus not visible: {focused}"
            return focused
    raise AssertionError(f"not reached by the keyboard; stops: {stops}")


def tab_out(page, *, limit=400):
    """Tab to the end of the page: the focus must leave it (no trap), and every
    stop on the way must show its focus."""
    hidden = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if focused is None:
            assert not hidden, f"focus not visible at: {hidden}"
            return
        if focused["shown"] and not focused["ring"]:
            hidden.append(focused)
    raise AssertionError(f"the focus never left the page in {limit} Tabs")


def keyboard_sign_in(browser, live_server, username):
    """A page of a new context, signed in (with the mouse: not what is tested)."""
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    sign_in(page, username)
    return context, page


@pytest.fixture
def people(make_user):
    return {
        "clinician": make_user("clinician", roles=[roles.CLINICIAN], first_name="Ada"),
        "datamanager": make_user("datamanager", roles=[roles.DATA_MANAGER]),
        "admin": make_user("admin", roles=[roles.ADMINISTRATOR]),
    }


@pytest.fixture
def small_chart(people):
    """A chart in the clinician's care team, with one visit."""
    team = factories.team("Neonatal follow-up", people["clinician"])
    patient = factories.patient(acting_user=people["admin"], care_teams=[team])
    visit = factories.visit(acting_user=people["clinician"], patient=patient)
    return patient, visit


def test_a_chart_is_opened_from_the_list_with_the_keyboard(
    browser, live_server, small_chart
):
    patient, visit = small_chart
    context, page = keyboard_sign_in(browser, live_server, "clinician")
    try:
        page.goto("/admin/patients/patient/")
        summary = f"/admin/patients/patient/{patient.pk}/summary/"
        tab_to(page, lambda f: f["href"] == summary)
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(re.escape(summary) + "$"), timeout=30_000)
        expect(page.get_by_test_id("summary-header")).to_contain_text(patient.mrn)

        change = f"/admin/patients/patient/{patient.pk}/change/"
        tab_to(page, lambda f: f["href"] == change)
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(re.escape(change) + "$"), timeout=30_000)
        tab_to(page, lambda f: f["href"].startswith("#") and "Visits" in f["text"])
        page.keyboard.press("Enter")
        expect(page.get_by_text(str(visit)).first).to_be_visible()
        # Back the way it came, then on to the end of the page and out of it.
        tab_to(page, lambda f: f["href"] == "#general", back=True)
        tab_out(page)
    finally:
        context.close()


def test_an_import_is_made_with_the_keyboard(
    browser, live_server, people, s3_storage, tmp_path
):
    factories.team("Neonatal follow-up")
    upload = tmp_path / "patients.csv"
    with upload.open("w", newline="") as handle:
        csv.writer(handle).writerows(IMPORT_ROWS[:2])
    context, page = keyboard_sign_in(browser, live_server, "datamanager")
    try:
        page.goto("/admin/imports/importjob/upload/")
        tab_to(page, lambda f: f["name"] == "entity")
        tab_to(page, lambda f: f["name"] == "file")
        page.locator(":focus").set_input_files(str(upload))
        tab_to(page, lambda f: f["name"] == "reason")
        page.keyboard.type("Referrals from October")
        tab_to(page, lambda f: f["name"] == "care_team")
        page.keyboard.press("ArrowDown")  # the first care team
        tab_to(page, lambda f: f["tag"] == "button" and "Check" in f["text"])
        # Shift+Tab goes back to the menu, Tab returns: nothing traps the focus.
        tab_to(page, lambda f: f["name"] == "care_team", back=True)
        tab_to(page, lambda f: f["tag"] == "button" and "Check" in f["text"])
        page.keyboard.press("Enter")
        expect(page.get_by_test_id("count-new")).to_have_text("1")
        tab_to(page, lambda f: f["testid"] == "commit")
        page.keyboard.press("Space")
        expect(page.locator("body")).to_contain_text("committed: 1 new")
        assert Patient.objects.filter(mrn="A11Y-1001").exists()
        tab_out(page)
    finally:
        context.close()
