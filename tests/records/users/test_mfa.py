"""The second factor: enrolment, the second step, recovery codes, replay, lockout,
one's own factors and an administrator's reset."""

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from records.audit.models import AuditEvent
from records.users import mfa, roles
from records.users.mfa_models import RecoveryCode, RecoveryCodeDevice
from records.users.models import LoginEvent
from tests.helpers import TEST_PASSWORD, totp_code

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"
VERIFY = "/admin/mfa/verify/"
ENROL = "/admin/mfa/enrol/"
MANAGE = "/admin/mfa/"
IP = "198.51.100.20"


@pytest.fixture(autouse=True)
def no_back_off(settings):
    """django-otp's exponential back-off after a wrong code (1 s, 2 s, ...) is
    tested on its own; elsewhere codes follow each other at once."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


@pytest.fixture
def nurse(make_user):
    return make_user("nurse", roles=[roles.CLINICIAN])


@pytest.fixture
def app(nurse):
    return TOTPDevice.objects.create(user=nurse, name="Phone", confirmed=True)


def password(client: Client, username: str = "nurse"):
    return client.post(
        LOGIN, {"username": username, "password": TEST_PASSWORD}, REMOTE_ADDR=IP
    )


def kinds(user) -> list[str]:
    return list(
        LoginEvent.objects.filter(user=user)
        .order_by("pk")
        .values_list("kind", flat=True)
    )


def test_every_role_must_have_a_second_factor(make_user, settings):
    assert settings.MFA_REQUIRED_ROLES == list(roles.ROLES)
    for role in roles.ROLES:
        assert mfa.second_factor_required(make_user(f"u-{role}", roles=[role]))
    assert mfa.second_factor_required(make_user("root", is_superuser=True))
    plain = make_user("plain")
    assert not mfa.second_factor_required(plain)
    assert not mfa.second_factor_due(plain)
    settings.MFA_REQUIRED_ROLES = ["Administrator"]
    assert not mfa.second_factor_required(make_user("aud", roles=[roles.AUDITOR]))


def test_first_sign_in_enrols_an_authenticator_app(nurse):
    client = Client()
    response = password(client)
    assert response.status_code == 302
    assert client.get("/admin/").url == ENROL
    page = client.get(ENROL)
    assert page.status_code == 200
    body = page.content.decode()
    assert "<svg" in body and "otpauth" not in body  # the QR code is drawn
    device = TOTPDevice.objects.get(user=nurse)
    assert not device.confirmed
    assert page.context["secret"].replace("=", "") in body
    # Reloading keeps the same secret.
    assert client.get(ENROL).context["secret"] == page.context["secret"]

    wrong = client.post(ENROL, {"code": "000000"}, REMOTE_ADDR=IP)
    assert wrong.status_code == 200 and "not right" in wrong.content.decode()
    assert client.get("/admin/").status_code == 302

    done = client.post(ENROL, {"code": totp_code(device)}, REMOTE_ADDR=IP)
    assert done.status_code == 200
    codes = done.context["codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert "ndas-recovery-codes.txt" in done.content.decode()
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/admin/").status_code == 200
    assert kinds(nurse) == ["success", "mfa_fail", "mfa_enrol"]
    actions = AuditEvent.objects.filter(actor=nurse).values_list("action", flat=True)
    assert {"mfa_failure", "mfa_enrolled"} <= set(actions)


def test_recovery_codes_are_stored_hashed_and_work_once(nurse, app):
    device = RecoveryCodeDevice.objects.create(user=nurse, name="Recovery codes")
    codes = device.codes_replace(10)
    stored = list(RecoveryCode.objects.values_list("digest", flat=True))
    assert len(stored) == 10
    for code in codes:
        plain = code.replace("-", "")
        assert not [d for d in stored if plain in d or code in d]
    client = Client()
    password(client)
    assert client.get("/admin/").url == VERIFY
    used = client.post(VERIFY, {"code": codes[3].upper()}, REMOTE_ADDR=IP)
    assert used.status_code == 302
    assert client.get("/admin/").status_code == 200
    assert RecoveryCode.objects.count() == 9
    assert kinds(nurse)[-1] == "recovery"
    assert AuditEvent.objects.filter(action="recovery_code", actor=nurse).exists()

    again = Client()
    password(again)
    refused = again.post(VERIFY, {"code": codes[3]}, REMOTE_ADDR=IP)
    assert refused.status_code == 200
    assert again.get("/admin/").status_code == 302


def test_a_code_is_refused_the_second_time(nurse, app):
    code = totp_code(app)
    first = Client()
    password(first)
    assert first.post(VERIFY, {"code": code}, REMOTE_ADDR=IP).status_code == 302
    second = Client()
    password(second)
    replay = second.post(VERIFY, {"code": code}, REMOTE_ADDR=IP)
    assert replay.status_code == 200
    assert "not right" in replay.content.decode()
    assert second.get("/admin/").status_code == 302
    app.refresh_from_db()
    assert app.last_t >= 0


def test_five_wrong_codes_lock_as_five_wrong_passwords(nurse, app):
    client = Client()
    password(client)
    for _ in range(4):
        assert (
            client.post(VERIFY, {"code": "000000"}, REMOTE_ADDR=IP).status_code == 200
        )
    locked = client.post(VERIFY, {"code": "000000"}, REMOTE_ADDR=IP)
    assert locked.status_code == 429
    assert "Sign-in temporarily blocked" in locked.content.decode()
    # Signed out, and the password is refused as after five wrong passwords.
    assert client.get("/admin/").status_code == 302
    assert password(Client()).status_code == 429
    wrong_passwords = Client().post(
        LOGIN, {"username": "ghost", "password": "x"}, REMOTE_ADDR=IP
    )
    assert wrong_passwords.status_code == 200
    assert kinds(nurse).count("mfa_fail") == 5
    assert "lockout" in kinds(nurse)


def test_the_password_does_not_wipe_the_wrong_codes(nurse, app):
    client = Client()
    password(client)
    for _ in range(4):
        client.post(VERIFY, {"code": "000000"}, REMOTE_ADDR=IP)
    again = Client()
    assert password(again).status_code == 302
    assert again.post(VERIFY, {"code": "000000"}, REMOTE_ADDR=IP).status_code == 429


def test_a_passed_second_step_resets_the_failures(nurse, app):
    client = Client()
    password(client)
    for _ in range(4):
        client.post(VERIFY, {"code": "000000"}, REMOTE_ADDR=IP)
    assert (
        client.post(VERIFY, {"code": totp_code(app)}, REMOTE_ADDR=IP).status_code == 302
    )
    other = Client()
    password(other)
    for _ in range(4):
        assert other.post(VERIFY, {"code": "000000"}, REMOTE_ADDR=IP).status_code == 200


def test_after_a_wrong_code_django_otp_backs_off(nurse, app, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 60
    client = Client()
    password(client)
    client.post(VERIFY, {"code": "000000"}, REMOTE_ADDR=IP)
    right = client.post(VERIFY, {"code": totp_code(app)}, REMOTE_ADDR=IP)
    assert right.status_code == 200
    assert "wait a few seconds" in right.content.decode()
    assert kinds(nurse).count("mfa_fail") == 1  # the refused try is not counted


def test_the_second_step_passes_with_a_new_session_key(nurse, app):
    client = Client()
    password(client)
    before = client.session.session_key
    client.post(VERIFY, {"code": totp_code(app)}, REMOTE_ADDR=IP)
    assert client.session.session_key != before
    assert not Session.objects.filter(session_key=before).exists()
    assert client.session[DEVICE_ID_SESSION_KEY] == app.persistent_id
    assert kinds(nurse) == ["success", "mfa_pass"]
    event = AuditEvent.objects.get(action="mfa_passed")
    assert event.actor_id == nurse.pk and event.ip == IP


def test_the_verified_state_ends_with_the_session(nurse, app, settings):
    client = Client()
    password(client)
    client.post(VERIFY, {"code": totp_code(app)}, REMOTE_ADDR=IP)
    assert client.get("/admin/").status_code == 200
    session = client.session
    session["_ndas_last_activity"] -= settings.SESSION_IDLE_TIMEOUT + 5
    session.save()
    assert client.get("/admin/").status_code == 302
    password(client)
    assert client.get("/admin/").url == VERIFY  # a new sign-in, a new second step


def test_a_user_without_a_role_signs_in_with_the_password(make_user):
    make_user("helpdesk")
    client = Client()
    assert password(client, "helpdesk").status_code == 302
    assert client.get("/admin/").status_code == 200
    assert client.get(MANAGE).status_code == 200


def test_own_factors_rename_and_remove_while_one_remains(nurse, app):
    client = Client()
    client.force_login(nurse)
    page = client.get(MANAGE)
    assert page.status_code == 200 and "Phone" in page.content.decode()
    client.post(f"/admin/mfa/app/{app.pk}/rename/", {"name": "Work phone"})
    app.refresh_from_db()
    assert app.name == "Work phone"
    refused = client.post(f"/admin/mfa/app/{app.pk}/remove/", follow=True)
    assert "only authenticator app or passkey" in refused.content.decode()
    assert TOTPDevice.objects.filter(pk=app.pk).exists()

    second = TOTPDevice.objects.create(user=nurse, name="Tablet", confirmed=True)
    client.post(f"/admin/mfa/app/{app.pk}/remove/")
    assert not TOTPDevice.objects.filter(pk=app.pk).exists()
    # This session had passed with the app removed: it stays passed, with the other.
    assert client.get("/admin/").status_code == 200
    assert client.session[DEVICE_ID_SESSION_KEY] == second.persistent_id
    assert "mfa_remove" in kinds(nurse)
    assert AuditEvent.objects.filter(action="mfa_removed").exists()


def test_nobody_touches_another_users_factors(nurse, app, make_user):
    other = make_user("other", roles=[roles.CLINICIAN])
    client = Client()
    client.force_login(other)
    assert client.post(f"/admin/mfa/app/{app.pk}/remove/").status_code == 404
    assert (
        client.post(f"/admin/mfa/app/{app.pk}/rename/", {"name": "x"}).status_code
        == 404
    )
    assert client.get(f"/admin/mfa/reset/{nurse.pk}/").status_code == 403


def test_new_recovery_codes_replace_the_old(nurse, app):
    client = Client()
    client.force_login(nurse)
    first = client.post("/admin/mfa/recovery-codes/").context["codes"]
    second = client.post("/admin/mfa/recovery-codes/").context["codes"]
    assert set(first).isdisjoint(second)
    device = RecoveryCodeDevice.objects.get(user=nurse)
    assert device.codes.count() == 10
    assert not device.verify_token(first[0])
    assert device.verify_token(second[0])


def test_adding_an_app_needs_the_second_step_passed(nurse, app):
    RecoveryCodeDevice.objects.create(user=nurse, name="Recovery codes").codes_replace()
    client = Client()
    password(client)
    assert client.get(ENROL).url == VERIFY
    client.post(VERIFY, {"code": totp_code(app)}, REMOTE_ADDR=IP)
    page = client.get(ENROL)
    assert page.status_code == 200
    new = TOTPDevice.objects.get(user=nurse, confirmed=False)
    added = client.post(ENROL, {"code": totp_code(new)}, REMOTE_ADDR=IP)
    assert added.status_code == 302 and added.url == MANAGE
    assert TOTPDevice.objects.filter(user=nurse, confirmed=True).count() == 2


def test_an_administrator_resets_anothers_factors_with_a_reason(nurse, app, make_user):
    chief = make_user("chief", roles=[roles.ADMINISTRATOR])
    RecoveryCodeDevice.objects.create(user=nurse, name="Recovery codes").codes_replace()
    nurse_client = Client()
    nurse_client.force_login(nurse)
    admin = Client()
    admin.force_login(chief)
    url = f"/admin/mfa/reset/{nurse.pk}/"
    nurse.first_name, nurse.last_name = "Mary", "Seacole"
    nurse.save(update_fields=["first_name", "last_name"])
    page = admin.get(url)
    assert page.status_code == 200
    assert "Mary Seacole (nurse) has 1 authenticator app" in page.content.decode()
    refused = admin.post(url, {"reason": ""})
    assert refused.status_code == 200 and "Give a reason" in refused.content.decode()
    assert TOTPDevice.objects.filter(user=nurse).exists()

    done = admin.post(url, {"reason": "Phone lost; seen in person"}, follow=True)
    assert "Second factors of Mary Seacole (nurse) reset" in done.content.decode()
    assert not TOTPDevice.objects.filter(user=nurse).exists()
    assert not RecoveryCodeDevice.objects.filter(user=nurse).exists()
    assert nurse_client.get("/admin/").status_code == 302  # signed out
    event = LoginEvent.objects.get(kind="mfa_reset")
    assert event.user == nurse
    audit = AuditEvent.objects.get(action="mfa_reset")
    assert audit.actor_id == chief.pk and "Phone lost" in audit.summary
    fresh = Client()
    password(fresh)
    assert fresh.get("/admin/").url == ENROL
    assert (
        admin.post(f"/admin/mfa/reset/{chief.pk}/", {"reason": "x"}).status_code == 200
    )


def test_demo_accounts_sign_in_with_the_secret_seed_demo_prints(tmp_path, settings):
    import json

    from django_otp.oath import totp

    from records.demo.accounts import demo_accounts_ensure

    settings.DEBUG = True
    path = tmp_path / "demo-accounts.json"
    accounts = demo_accounts_ensure(credentials_path=path)
    assert all(len(a.totp_secret) == 32 for a in accounts)
    kept = {row["username"]: row["totp_secret"] for row in json.loads(path.read_text())}
    assert kept == {a.username: a.totp_secret for a in accounts}
    assert demo_accounts_ensure(credentials_path=path) == accounts  # kept on re-run

    from base64 import b32decode

    admin = accounts[0]
    client = Client()
    client.post(LOGIN, {"username": admin.username, "password": admin.password})
    code = f"{totp(b32decode(admin.totp_secret)):06d}"
    assert client.post(VERIFY, {"code": code}).status_code == 302
    assert client.get("/admin/").status_code == 200
