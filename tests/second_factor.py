"""Codes of a test user's authenticator app (django-otp's own TOTP), and the second
step of a sign-in in the browser."""

import time

from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice


def totp_code(device: TOTPDevice, *, offset: int = 0) -> str:
    """The code the user's app shows now; `offset` time steps later. A step
    already used (django-otp refuses a code twice) is skipped for the next one,
    which the device accepts within its tolerance."""
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + offset * device.step
    if totp.t() <= device.last_t:
        totp.time = (device.last_t + 1) * device.step + device.t0
    return f"{totp.token():0{device.digits}d}"


def second_step(page, username: str) -> None:
    """After the password: the authenticator app's code on the second step, or,
    on a first sign-in, the enrolment (a code of the new app), then on from the
    recovery codes."""
    page.wait_for_selector("[data-testid=mfa-verify], [data-testid=mfa-enrol]")
    device = TOTPDevice.objects.filter(user__username=username).order_by("-pk")[0]
    if page.get_by_test_id("mfa-enrol").count():
        page.fill("input[name=code]", totp_code(device))
        page.click("[data-testid=mfa-enrol] button[type=submit]")
        page.get_by_test_id("mfa-recovery-codes").wait_for()
        page.click("text=I have kept them: continue")
    else:
        page.fill("input[name=code]", totp_code(device))
        page.click("[data-testid=mfa-code-form] button[type=submit]")
