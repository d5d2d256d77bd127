"""The sign-in page's errors in the clinic's words (issue #17): one message for a
wrong username or password, a warning before the lockout that does not tell a known
username from an unknown one, and a lockout page that says how long."""

import pytest
from django.test import Client

from admin_ext.admin.sign_in import E_SIGN_IN
from records.users import roles

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"


def fail(client, username):
    return client.post(LOGIN, {"username": username, "password": "not-this-one"})


@pytest.mark.parametrize("known", [True, False])
def test_wrong_passwords_are_told_plainly_and_warned_before_the_lockout(
    make_user, known
):
    make_user("nurse", roles=[roles.CLINICIAN])
    username = "nurse" if known else "nobody"
    client = Client()
    pages = [fail(client, username).content.decode() for _ in range(4)]
    for page in pages:
        assert E_SIGN_IN in page.replace("&#x27;", "'")
        assert "staff account" not in page and "case-sensitive" not in page
    assert "left before sign-in is blocked" not in pages[1]
    assert "2 attempts left before sign-in is blocked for 30 minutes." in pages[2]
    assert "1 attempt left before sign-in is blocked for 30 minutes." in pages[3]
    locked = fail(client, username)
    body = locked.content.decode()
    assert "Sign-in temporarily blocked" in body
    assert "Try again in 30 minutes" in body
