"""Browser tests: Playwright drives Debian's chromium against the live server.
Their plain helpers (sign_in, second_step) are in tests/helpers.py."""

import os

import pytest

from records.demo.charts import demo_charts_ensure
from records.patients.models import Patient
from records.users import roles

# Playwright's sync API runs an event loop in this thread; the ORM calls made by the
# test itself (creating users) are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture
def console_errors(page):
    """Console errors of the page, CSP violations included."""
    errors = []
    page.on(
        "console",
        lambda message: (
            errors.append(message.text) if message.type == "error" else None
        ),
    )
    return errors


@pytest.fixture
def demo_chart(make_user, settings, s3_storage):
    """The demo's first chart (a 29+3-week girl with a growth series), in the demo
    clinician's team."""
    settings.DEBUG = True
    make_user("clinician", roles=[roles.CLINICIAN], first_name="Demo")
    admin = make_user("admin", roles=[roles.ADMINISTRATOR])
    demo_charts_ensure(acting_user=admin, count=4)
    settings.DEBUG = False
    return Patient.objects.get(mrn="DEMO-00001")
