"""Sign-in protection and auditing: lockouts, login events, sessions."""

import pytest
from django.contrib.sessions.models import Session
from django.test import Client

from records.users.models import LoginEvent
from tests.helpers import TEST_PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)


def attempt(password, *, username="nurse", ip="198.51.100.7", agent=FIREFOX):
    return Client().post(
        LOGIN,
        {"username": username, "password": password},
        REMOTE_ADDR=ip,
        HTTP_USER_AGENT=agent,
    )


@pytest.fixture
def nurse(make_user):
    return make_user("nurse")


def test_five_failures_lock_the_pair_for_that_ip_only(nurse):
    for _ in range(4):
        assert attempt("wrong").status_code == 200
    assert attempt("wrong").status_code == 429  # the fifth failure locks
    locked = attempt(TEST_PASSWORD)
    assert locked.status_code == 429
    assert attempt(TEST_PASSWORD, ip="198.51.100.8").status_code == 302


def test_a_success_resets_the_count(nurse):
    for _ in range(4):
        attempt("wrong")
    assert attempt(TEST_PASSWORD).status_code == 302
    for _ in range(4):
        attempt("wrong")
    assert attempt(TEST_PASSWORD).status_code == 302


def test_distributed_guessing_locks_the_username(nurse, settings):
    assert settings.NDAS_USERNAME_FAILURE_LIMIT == 20
    statuses = [
        attempt("wrong", ip=f"203.0.113.{n + 1}").status_code for n in range(20)
    ]
    assert statuses == [200] * 19 + [429]  # no IP reached five; the username did
    assert attempt(TEST_PASSWORD, ip="203.0.113.200").status_code == 429


def test_lockout_page_does_not_tell_whether_the_user_exists(nurse):
    for username in ("nurse", "nobody-by-this-name"):
        for _ in range(5):
            attempt("wrong", username=username)
    real = attempt(TEST_PASSWORD, username="nurse")
    fake = attempt(TEST_PASSWORD, username="nobody-by-this-name")
    assert real.status_code == fake.status_code == 429
    assert real.content == fake.content


def test_each_kind_of_login_event_is_written(nurse):
    attempt("wrong", agent=IPHONE)
    failure = LoginEvent.objects.get(kind="failure")
    assert (failure.username, failure.user, failure.ip) == (
        "nurse",
        nurse,
        "198.51.100.7",
    )
    assert (failure.device_type, failure.browser.split()[0], failure.os.split()[0]) == (
        "mobile",
        "Mobile",
        "iOS",
    )
    attempt("wrong", username="ghost")
    assert LoginEvent.objects.get(username="ghost").user is None
    for _ in range(4):
        attempt("wrong")
    assert LoginEvent.objects.filter(kind="lockout", username="nurse").count() == 1
    client = Client()
    client.post(
        LOGIN,
        {"username": "nurse", "password": TEST_PASSWORD},
        REMOTE_ADDR="192.0.2.44",
        HTTP_USER_AGENT=FIREFOX,
    )
    success = LoginEvent.objects.get(kind="success")
    assert (success.user, success.ip, success.device_type) == (
        nurse,
        "192.0.2.44",
        "desktop",
    )
    assert success.browser.startswith("Firefox") and success.os.startswith("Linux")
    nurse.refresh_from_db()
    assert nurse.last_login_ip == "192.0.2.44"
    assert nurse.last_login_device == "PC / Linux / Firefox 128.0"
    client.post("/admin/logout/")
    assert LoginEvent.objects.get(kind="logout").user == nurse


def test_sign_in_starts_a_new_session_and_sign_out_ends_it(nurse):
    client = Client()
    client.get(LOGIN)
    client.session.save()
    before = client.session.session_key
    client.post(LOGIN, {"username": "nurse", "password": TEST_PASSWORD})
    after = client.session.session_key
    assert after != before
    client.post("/admin/logout/")
    assert not Session.objects.filter(session_key=after).exists()


def test_deactivation_ends_the_users_sessions(nurse):
    client = Client()
    client.force_login(nurse)
    assert client.get("/admin/").status_code == 200
    nurse.is_active = False
    nurse.save()
    assert client.get("/admin/").status_code == 302


def test_a_password_change_ends_other_sessions(nurse):
    elsewhere = Client()
    elsewhere.force_login(nurse)
    here = Client()
    here.force_login(nurse)
    response = here.post(
        "/admin/password_change/",
        {
            "old_password": TEST_PASSWORD,
            "new_password1": "a-brand-new-passphrase",
            "new_password2": "a-brand-new-passphrase",
        },
    )
    assert response.status_code == 302
    assert here.get("/admin/").status_code == 200
    assert elsewhere.get("/admin/").status_code == 302


def test_auditors_filter_sign_in_events(nurse, make_user):
    from records.users import roles

    attempt("wrong", ip="198.51.100.99")
    attempt("wrong", username="ghost", ip="198.51.100.5")
    auditor = Client()
    auditor.force_login(make_user("checker", roles=[roles.AUDITOR]))
    url = "/admin/users/loginevent/"
    by_ip = auditor.get(url, {"ip": "198.51.100.99"}).context["cl"].result_list
    assert [e.username for e in by_ip] == ["nurse"]
    by_kind = auditor.get(url, {"kind__exact": "failure"}).context["cl"].result_list
    assert {e.username for e in by_kind} == {"nurse", "ghost"}
    by_user = auditor.get(url, {"user__id__exact": nurse.pk}).context["cl"].result_list
    assert [e.username for e in by_user] == ["nurse"]
