"""Review #12, item 6: guessing the current password on the password-change page
counts with the sign-in failures (django-axes), locks the same way and is recorded."""

import pytest
from django.test import Client

from records.audit.models import AuditEvent
from records.users.models import LoginEvent
from tests.helpers import TEST_PASSWORD

pytestmark = pytest.mark.django_db

CHANGE = "/admin/password_change/"
LOGIN = "/admin/login/"
IP = "198.51.100.31"
NEW = "a-long-and-unusual-phrase"


@pytest.fixture
def nurse(make_user):
    return make_user("nurse")


def signed_in(user) -> Client:
    client = Client(REMOTE_ADDR=IP)
    client.force_login(user)
    return client


def change(client, old, new=NEW):
    return client.post(
        CHANGE, {"old_password": old, "new_password1": new, "new_password2": new}
    )


def test_twelve_guesses_then_the_right_one_do_not_change_the_password(nurse, caplog):
    client = signed_in(nurse)
    statuses = [change(client, f"guess-{n}").status_code for n in range(12)]
    # Four failures show the form again; the fifth locks and signs out.
    assert statuses[:4] == [200] * 4
    assert statuses[4] == 429
    assert not [r for r in caplog.records if r.name == "ndas.errors"]
    assert statuses[5:] == [302] * 7  # signed out: sent to the sign-in page
    assert change(client, TEST_PASSWORD).status_code == 302
    nurse.refresh_from_db()
    assert nurse.check_password(TEST_PASSWORD) and not nurse.check_password(NEW)
    assert client.get("/admin/").status_code == 302
    # The right password cannot sign in while the lock lasts.
    again = Client(REMOTE_ADDR=IP).post(
        LOGIN, {"username": "nurse", "password": TEST_PASSWORD}
    )
    assert again.status_code == 429


def test_each_failure_and_the_lockout_are_sign_in_events(nurse):
    client = signed_in(nurse)
    for n in range(5):
        change(client, f"guess-{n}")
    failures = LoginEvent.objects.filter(kind="failure", username="nurse")
    assert failures.count() == 5
    assert {(e.user, e.ip) for e in failures} == {(nurse, IP)}
    assert LoginEvent.objects.filter(kind="lockout", username="nurse").count() == 1
    assert LoginEvent.objects.filter(kind="logout", user=nurse).count() == 1
    actions = sorted(
        AuditEvent.objects.filter(actor_username="nurse")
        .exclude(action__in=["grant", "login"])
        .values_list("action", flat=True)
    )
    assert actions == ["lockout"] + ["login_failure"] * 5 + ["logout"]


def test_failures_count_with_the_sign_in_pages(nurse):
    client = signed_in(nurse)
    for _ in range(3):
        Client(REMOTE_ADDR=IP).post(LOGIN, {"username": "nurse", "password": "x"})
    assert change(client, "guess-1").status_code == 200
    assert change(client, "guess-2").status_code == 429  # the fifth failure


def test_a_locked_user_is_signed_out_without_the_password_being_checked(nurse, caplog):
    elsewhere = signed_in(nurse)  # signed in before the lock
    for _ in range(5):
        Client(REMOTE_ADDR=IP).post(LOGIN, {"username": "nurse", "password": "x"})
    response = change(elsewhere, TEST_PASSWORD)
    assert response.status_code == 429
    assert b"locked" in response.content.lower()
    assert not [r for r in caplog.records if r.name == "ndas.errors"]
    nurse.refresh_from_db()
    assert not nurse.check_password(NEW)
    assert elsewhere.get("/admin/").status_code == 302


def test_the_right_password_still_changes_it(nurse):
    client = signed_in(nurse)
    assert change(client, "guess-1").status_code == 200
    assert change(client, TEST_PASSWORD).status_code == 302
    nurse.refresh_from_db()
    assert nurse.check_password(NEW)
    assert client.get("/admin/").status_code == 200
