"""The second factor's settings and its place on the user page."""

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from records.users import roles


def test_passkeys_are_bound_to_the_sites_own_origin(production_settings):
    assert production_settings["OTP_WEBAUTHN_ALLOWED_ORIGINS"] == [
        "https://ndas.example.org"
    ]
    assert production_settings["OTP_WEBAUTHN_RP_ID"] == "ndas.example.org"
    assert production_settings["OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN"] is False
    assert production_settings["MFA_REQUIRED_ROLES"] == list(roles.ROLES)
    # A password alone resets no failure count: the second step does.
    assert production_settings["AXES_RESET_ON_SUCCESS"] is False


def test_no_remembered_device_and_no_totp_admin():
    from django.contrib import admin

    assert not admin.site.is_registered(TOTPDevice)


@pytest.mark.django_db
def test_the_user_page_shows_the_factors_and_links_to_the_reset(make_user):
    nurse = make_user("nurse", roles=[roles.CLINICIAN])
    TOTPDevice.objects.create(user=nurse, name="Phone", confirmed=True)
    client = Client()
    client.force_login(make_user("chief", roles=[roles.ADMINISTRATOR]))
    body = client.get(f"/admin/users/user/{nurse.pk}/change/").content.decode()
    assert "1 authenticator app, 0 passkeys" in body
    assert f"/admin/mfa/reset/{nurse.pk}/" in body
