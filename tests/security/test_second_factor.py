"""A session that passed only the password reaches nothing of the admin but the
second step and sign-out: every URL the admin registers is walked."""

import pytest
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.support.admin_urls import admin_url_names, url_for
from tests.helpers import password_only_login, totp_code

pytestmark = pytest.mark.django_db

VERIFY = "/admin/mfa/verify/"
ENROL = "/admin/mfa/enrol/"


def admin_url(name: str, world) -> str:  # noqa: F811
    """The matrix's URL for the name (the world's objects), or, for a page it has
    no recipe for yet, the address with 1 for each of its arguments: the second
    step is asked for before any view runs."""
    try:
        return url_for(name, world)
    except KeyError:
        for args in ([], [1], [1, 1]):
            try:
                return reverse(f"admin:{name}", args=args)
            except NoReverseMatch:
                continue
        raise


@pytest.fixture(params=["superuser", "clinician_in_team", "auditor"])
def persona(request):
    return request.param


class TestPasswordOnlySession:
    @pytest.fixture
    def client(self, world, persona):  # noqa: F811
        user = world.users[persona]
        TOTPDevice.objects.create(user=user, name="Phone", confirmed=True)
        client = Client()
        password_only_login(client, user)
        return client

    def test_every_admin_page_sends_to_the_second_step(self, client, world):  # noqa
        wrong = {}
        # Sign-in and sign-out stay open (the latter answers POSTs alone).
        for name in sorted(admin_url_names() - {"login", "logout"}):
            response = client.get(admin_url(name, world))
            if response.status_code != 302 or response.url != VERIFY:
                wrong[name] = response.status_code
        assert wrong == {}

    def test_every_admin_url_refuses_a_post(self, client, world):  # noqa: F811
        wrong = {}
        for name in sorted(admin_url_names() - {"login", "logout"}):
            response = client.post(admin_url(name, world), {"post": "yes"})
            if response.status_code != 403:
                wrong[name] = response.status_code
        assert wrong == {}

    def test_ajax_gets_a_json_403(self, client, world):  # noqa: F811
        response = client.post(
            reverse("admin:autocomplete"),
            {"term": "a"},
            headers={"x-requested-with": "XMLHttpRequest"},
        )
        assert response.status_code == 403
        assert response.json()["error_code"] == "second_factor_required"

    def test_own_pages_and_passkey_registration_wait_too(self, client):
        assert client.get("/admin/mfa/").url == VERIFY
        assert client.post("/admin/mfa/recovery-codes/").status_code == 403
        begin = client.post(
            "/admin/mfa/webauthn/registration/begin/", content_type="application/json"
        )
        assert begin.status_code == 403

    def test_only_the_second_step_and_sign_out_answer(
        self, client, world, persona  # noqa: F811
    ):
        assert client.get(VERIFY).status_code == 200
        assert client.get(ENROL).url == VERIFY  # a factor exists: no new one
        assert client.get("/admin/login/").status_code == 302
        device = TOTPDevice.objects.get(user=world.users[persona])
        client.post(VERIFY, {"code": totp_code(device)})
        assert client.get(url_for("index", world)).status_code == 200
        client.post(reverse("admin:logout"))
        assert client.get(url_for("index", world)).status_code == 302

    def test_health_checks_answer_without_a_session(self, client):
        assert client.get("/healthz").status_code == 200


class TestPasskeyCeremony:
    def test_authentication_needs_the_password_first(self):
        anonymous = Client()
        response = anonymous.post(
            "/admin/mfa/webauthn/authentication/begin/",
            content_type="application/json",
        )
        assert response.status_code == 403

    def test_a_refused_passkey_is_a_failed_second_factor(self, make_user):
        from records.users import roles
        from records.users.models import LoginEvent

        user = make_user("keyholder", roles=[roles.CLINICIAN])
        TOTPDevice.objects.create(user=user, name="Phone", confirmed=True)
        client = Client()
        password_only_login(client, user)
        begin = client.post(
            "/admin/mfa/webauthn/authentication/begin/",
            content_type="application/json",
        )
        assert begin.status_code == 200 and "challenge" in begin.json()
        forged = client.post(
            "/admin/mfa/webauthn/authentication/complete/",
            data={
                "id": "AAAA",
                "rawId": "AAAA",
                "type": "public-key",
                "response": {
                    "clientDataJSON": "e30",
                    "authenticatorData": "AAAA",
                    "signature": "AAAA",
                },
            },
            content_type="application/json",
        )
        assert forged.status_code in (400, 404, 422)
        assert LoginEvent.objects.filter(user=user, kind="mfa_fail").count() == 1
        assert client.get("/admin/").url == VERIFY

    def test_registration_is_refused_before_the_second_step(self, make_user):
        from records.users import roles

        user = make_user("newcomer", roles=[roles.AUDITOR])
        client = Client()
        password_only_login(client, user)
        response = client.post(
            "/admin/mfa/webauthn/registration/begin/", content_type="application/json"
        )
        # No factor yet: the middleware sends JSON callers a 403 too.
        assert response.status_code == 403
