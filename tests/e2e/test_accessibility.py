"""Accessibility: every kind of page each role uses passes axe-core with no serious
or critical violation (the keyboard alone: test_keyboard.py).

Each role walks each kind of page it uses once: its dashboard, the patient list
(a list template of its own), the chart's summary, and where the role uses them: one
list of the admin's plain list template (the data manager's imports, the auditor's
audit trail, the administrator's users; the other lists, roles, care teams, exports,
sign-ins, emergency access review, are that template with other columns, so they
are not walked), the chart with each tab and the records' pages (as one who may
change them: the clinician; as one who may only read them: the auditor), the add
forms, the patient picker open, emergency access, the import pages (upload, its
errors, the report), the export form, the audit report, who could open a chart,
the change timeline, the user form with its tabs and a role's form. The pages that
are the same whoever opens them are walked once: sign-in, the second factor's
enrolment, recovery codes and code pages, second factors, not found, not allowed.

One browser context per role, reused for all its pages; the violations of every page
are collected and reported together (rule, element, help page)."""

import csv
import os
import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from records.patients import services as patient_services
from records.demo.charts import DEMO_MEDIA_DIR, demo_charts_ensure
from records.patients.models import MediaFile, Patient
from records.users import roles
from tests.helpers import IMPORT_ROWS, TEST_PASSWORD, totp_code

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

BLOCKING = ("serious", "critical")
AXE = Axe()
# Screenshots of every page walked, for a person to look at (NDAS_E2E_SHOTS=dir).
SHOTS = os.environ.get("NDAS_E2E_SHOTS")


class Walk:
    """Runs axe on pages and keeps every serious or critical violation found."""

    def __init__(self):
        self.pages = 0
        self.found: list[str] = []

    def check(self, page, name: str) -> None:
        page.wait_for_load_state("load")
        self.pages += 1
        if SHOTS:
            slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
            page.screenshot(
                path=os.path.join(SHOTS, f"a11y-{slug}.png"), full_page=True
            )
        for violation in AXE.run(page).response["violations"]:
            if violation["impact"] not in BLOCKING:
                continue
            for node in violation["nodes"]:
                self.found.append(
                    f"{name} ({page.url}): {violation['id']} [{violation['impact']}]"
                    f" at {node['target']}: {violation['help']}"
                    f" {violation['helpUrl']}\n    {node.get('failureSummary', '')}"
                )

    def visit(self, page, path: str, name: str, status: int = 200) -> None:
        response = page.goto(path)
        assert response.status == status, f"{name}: {path} answered {response.status}"
        self.check(page, name)

    def tabs(self, page, name: str) -> None:
        """The page, then each of its tabs shown in turn (hidden ones are skipped)."""
        self.check(page, name)
        # "General", shown first, is the page already checked.
        tabs = page.locator("#tabs-items a[href^='#']:not([href='#general'])")
        for index in range(tabs.count()):
            tab = tabs.nth(index)
            label = tab.inner_text().split("\n")[0].strip()
            tab.click()
            self.check(page, f"{name}, tab {label}")


def sign_in(
    page, username: str, walk: Walk | None = None, login_page_checked=False
) -> None:
    page.goto("/admin/login/")
    if walk and not login_page_checked:
        walk.check(page, "sign-in page")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=mfa-verify], [data-testid=mfa-enrol]")
    device = TOTPDevice.objects.filter(user__username=username).order_by("-pk")[0]
    if page.get_by_test_id("mfa-enrol").count():
        if walk:
            walk.check(page, "second factor: enrol")
        page.fill("input[name=code]", totp_code(device))
        page.click("[data-testid=mfa-enrol] button[type=submit]")
        page.get_by_test_id("mfa-recovery-codes").wait_for()
        if walk:
            walk.check(page, "second factor: recovery codes")
        page.click("text=I have kept them: continue")
    else:
        if walk:
            walk.check(page, "second factor: code")
        page.fill("input[name=code]", totp_code(device))
        page.click("[data-testid=mfa-code-form] button[type=submit]")
    expect(page).to_have_url(re.compile(r"/admin/$"))


@pytest.fixture
def people(make_user):
    """One account of each role, named as the demo's."""
    return {
        "clinician": make_user("clinician", roles=[roles.CLINICIAN], first_name="Ada"),
        "datamanager": make_user("datamanager", roles=[roles.DATA_MANAGER]),
        "auditor": make_user("auditor", roles=[roles.AUDITOR]),
        "admin": make_user("admin", roles=[roles.ADMINISTRATOR], is_superuser=True),
    }


@pytest.fixture
def demo(people, settings, s3_storage):
    """The demo's first chart (in the clinician's care team), with a media file."""
    users = people
    settings.DEBUG = True
    demo_charts_ensure(acting_user=users["admin"], count=1)
    settings.DEBUG = False
    patient = Patient.objects.get(mrn="DEMO-00001")
    if not patient.media_files.exists():
        patient_services.media_upload(
            acting_user=users["admin"],
            patient=patient,
            uploaded_file=SimpleUploadedFile(
                "growth-chart.png", (DEMO_MEDIA_DIR / "sample.png").read_bytes()
            ),
            assessment=patient.assessments.first(),
            description="Growth chart",
        )
    return {
        "users": users,
        "patient": patient,
        "assessment": patient.assessments.order_by("pk").first(),
        "visit": patient.clinical_records.order_by("pk").first(),
        "media": MediaFile.objects.filter(patient=patient).order_by("pk").first(),
    }


def chart_pages(walk, page, demo, role, *, records=True):
    """The chart's summary, its page and tabs, and its records' pages (those as
    one who may change them sees them, and as one who may only read them: the
    other roles see one of the two)."""
    patient, assessment = demo["patient"], demo["assessment"]
    visit, media = demo["visit"], demo["media"]
    walk.visit(page, "/admin/", f"{role}: dashboard")
    walk.visit(page, "/admin/patients/patient/", f"{role}: patient list")
    walk.visit(
        page, f"/admin/patients/patient/{patient.pk}/summary/", f"{role}: summary"
    )
    if not records:
        return
    page.goto(f"/admin/patients/patient/{patient.pk}/change/")
    walk.tabs(page, f"{role}: chart")
    walk.visit(
        page,
        f"/admin/patients/assessment/{assessment.pk}/change/",
        f"{role}: assessment",
    )
    walk.visit(
        page,
        f"/admin/clinical_records/clinicalrecord/{visit.pk}/change/",
        f"{role}: visit",
    )
    walk.visit(page, f"/admin/patients/mediafile/{media.pk}/change/", f"{role}: media")


def clinician_walk(walk, page, demo):
    chart_pages(walk, page, demo, "clinician")
    walk.visit(page, "/admin/patients/patient/add/", "clinician: new patient")
    walk.visit(page, "/admin/patients/assessment/add/", "clinician: new assessment")
    walk.visit(
        page, "/admin/clinical_records/clinicalrecord/add/", "clinician: new visit"
    )
    # The patient picker open: select2's dropdown, its search box and results.
    page.locator(".field-patient .select2-selection").click()
    patient = demo["patient"]
    page.locator(".select2-dropdown .select2-search__field").fill(patient.family_name)
    page.locator(".select2-results__option", has_text=patient.mrn).wait_for()
    walk.check(page, "clinician: new visit, patient picker open")
    page.keyboard.press("Escape")
    walk.visit(page, "/admin/patients/mediafile/add/", "clinician: new media")
    walk.visit(
        page, "/admin/patients/patient/emergency-access/", "clinician: emergency"
    )
    walk.visit(page, "/admin/mfa/", "clinician: second factors")
    walk.visit(
        page, "/admin/patients/patient/999999/change/", "clinician: not found", 404
    )
    walk.visit(page, "/admin/users/user/", "clinician: not allowed", 403)


def data_manager_walk(walk, page, demo, tmp_path):
    chart_pages(walk, page, demo, "data manager", records=False)
    walk.visit(page, "/admin/imports/importjob/", "data manager: imports")
    walk.visit(page, "/admin/imports/importjob/upload/", "data manager: new import")
    upload = tmp_path / "patients.csv"
    with upload.open("w", newline="") as handle:
        csv.writer(handle).writerows(IMPORT_ROWS)
    page.click("[data-testid=import-form] button[type=submit]")
    walk.check(page, "data manager: new import, with errors")
    page.set_input_files("input[name=file]", str(upload))
    page.fill("input[name=reason]", "Referrals from October")
    page.select_option("select[name=care_team]", index=1)
    page.click("[data-testid=import-form] button[type=submit]")
    page.get_by_test_id("import-report").wait_for()
    walk.check(page, "data manager: import report")
    walk.visit(page, "/admin/patients/patient/export/", "data manager: export")


def auditor_walk(walk, page, demo):
    patient = demo["patient"]
    chart_pages(walk, page, demo, "auditor")
    walk.visit(page, "/admin/audit/auditevent/", "auditor: audit trail")
    walk.visit(
        page,
        f"/admin/audit/auditevent/patient/{patient.pk}/",
        "auditor: audit report",
    )
    page.click("#content button[type=submit]")
    walk.check(page, "auditor: audit report shown")
    walk.visit(
        page, f"/admin/patients/patient/{patient.pk}/access/", "auditor: who could open"
    )
    walk.visit(page, "/admin/audit/auditevent/timeline/", "auditor: change timeline")


def admin_walk(walk, page, demo):
    users = demo["users"]
    chart_pages(walk, page, demo, "administrator", records=False)
    walk.visit(page, "/admin/users/user/", "administrator: users")
    walk.visit(page, "/admin/users/user/add/", "administrator: new user")
    page.goto(f"/admin/users/user/{users['clinician'].pk}/change/")
    walk.tabs(page, "administrator: user")
    role = Group.objects.get(name=roles.CLINICIAN)
    walk.visit(page, f"/admin/auth/group/{role.pk}/change/", "administrator: role")


def test_every_page_of_every_role_passes_axe(browser, live_server, demo, tmp_path):
    walk = Walk()
    walks = {
        "clinician": lambda page: clinician_walk(walk, page, demo),
        "datamanager": lambda page: data_manager_walk(walk, page, demo, tmp_path),
        "auditor": lambda page: auditor_walk(walk, page, demo),
        "admin": lambda page: admin_walk(walk, page, demo),
    }
    try:
        walk_every_role(browser, live_server, walk, walks)
    finally:
        print(f"axe checked {walk.pages} pages")
        print("\n".join(walk.found))
    assert not walk.found, "\n".join(walk.found)


def walk_every_role(browser, live_server, walk, walks):
    for username, role_walk in walks.items():
        context = browser.new_context(base_url=live_server.url)
        try:
            page = context.new_page()
            sign_in(page, username, walk if username == "clinician" else None)
            role_walk(page)
            if username == "admin":
                # Signed out and in again: the code of the second factor is asked.
                context.clear_cookies()
                sign_in(page, username, walk, login_page_checked=True)
        finally:
            context.close()
