"""The second factor in chromium: enrolment with an authenticator app, sign-in with
a code and with a recovery code; a passkey added and used through Chromium's
virtual authenticator (DevTools' WebAuthn domain)."""

from base64 import b32decode

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from records.users import roles
from records.users.models import LoginEvent
from tests.helpers import TEST_PASSWORD, second_step, totp_code

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def password(page, live_server, username):
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("button[type=submit]")


def sign_out(page):
    page.locator("#logout-form").evaluate("form => form.requestSubmit()")
    page.wait_for_url("**/admin/logout/")


def test_enrol_then_sign_in_with_a_code_and_with_a_recovery_code(
    live_server, page, make_user, console_errors
):
    user = make_user("e2e-mfa", roles=[roles.AUDITOR])
    password(page, live_server, "e2e-mfa")
    expect(page).to_have_url(f"{live_server.url}/admin/mfa/enrol/")
    expect(page.get_by_test_id("mfa-qr").locator("svg")).to_be_visible()
    secret = page.get_by_test_id("mfa-secret").inner_text().strip()
    # What the phone's app shows, from the secret on the page.
    page.fill("input[name=code]", f"{totp(b32decode(secret)):06d}")
    page.click("[data-testid=mfa-enrol] button[type=submit]")
    expect(page.get_by_test_id("codes").locator("li")).to_have_count(10)
    codes = page.get_by_test_id("codes").locator("li").all_inner_texts()
    with page.expect_download() as download:
        page.click("text=Download as text")
    assert codes[0] in download.value.path().read_text()
    page.click("text=I have kept them: continue")
    expect(page).to_have_url(f"{live_server.url}/admin/")
    sign_out(page)

    password(page, live_server, "e2e-mfa")
    expect(page.get_by_test_id("mfa-verify")).to_be_visible()
    page.goto(f"{live_server.url}/admin/audit/auditevent/")
    expect(page).to_have_url(f"{live_server.url}/admin/mfa/verify/")
    page.fill("input[name=code]", "123456")
    page.click("[data-testid=mfa-code-form] button[type=submit]")
    expect(page.locator("body")).to_contain_text("That code is not right")
    page.wait_for_timeout(1100)  # django-otp's back-off: 1 s after a wrong code
    page.fill("input[name=code]", totp_code(TOTPDevice.objects.get(user=user)))
    page.click("[data-testid=mfa-code-form] button[type=submit]")
    expect(page).to_have_url(f"{live_server.url}/admin/")
    sign_out(page)

    password(page, live_server, "e2e-mfa")
    page.fill("input[name=code]", codes[0])
    page.click("[data-testid=mfa-code-form] button[type=submit]")
    expect(page).to_have_url(f"{live_server.url}/admin/")
    page.goto(f"{live_server.url}/admin/mfa/")
    expect(page.get_by_test_id("recovery-left")).to_contain_text("9 recovery codes")
    kinds = list(
        LoginEvent.objects.filter(user=user)
        .order_by("pk")
        .values_list("kind", flat=True)
    )
    assert kinds == [
        "success",
        "mfa_enrol",
        "logout",
        "success",
        "mfa_fail",
        "mfa_pass",
        "logout",
        "success",
        "recovery",
    ]
    page.wait_for_load_state("networkidle")
    assert console_errors == []


def test_add_a_passkey_then_sign_in_with_it(live_server, page, make_user, settings):
    settings.OTP_WEBAUTHN_RP_ID = "localhost"
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = [live_server.url]
    user = make_user("e2e-key", roles=[roles.CLINICIAN])
    TOTPDevice.objects.create(user=user, name="Phone", confirmed=True)
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )

    password(page, live_server, "e2e-key")
    second_step(page, "e2e-key")
    expect(page).to_have_url(f"{live_server.url}/admin/")
    page.goto(f"{live_server.url}/admin/mfa/")
    # The ceremony's script uses the translation catalog it loads alongside.
    page.wait_for_load_state("load")
    page.click("#passkey-register-button")
    expect(page.get_by_test_id("factors-passkey")).not_to_contain_text(
        "None.", timeout=15000
    )
    assert user.webauthncredential_set.filter(confirmed=True).count() == 1
    sign_out(page)

    password(page, live_server, "e2e-key")
    page.wait_for_load_state("load")
    page.click("#passkey-verification-button")
    expect(page).to_have_url(f"{live_server.url}/admin/", timeout=15000)
    passed = LoginEvent.objects.filter(user=user, kind="mfa_pass").order_by("-pk")
    assert passed.count() == 2
    assert list(
        LoginEvent.objects.filter(user=user, kind="mfa_enrol").values_list(
            "kind", flat=True
        )
    ) == ["mfa_enrol"]
