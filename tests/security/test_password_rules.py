"""Review #12, item 15: a password made of the account's own details (the username
repeated, with digits or capitals) is refused, wherever a password is set."""

import pytest
from django.contrib.auth.password_validation import (
    password_validators_help_texts,
    validate_password,
)
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils.html import escape

from records.users import roles
from records.users.models import User
from records.users.passwords import (
    E_PASSWORD_OF_ACCOUNT_DETAILS,
    HELP_PASSWORD_OF_ACCOUNT_DETAILS,
    AccountDetailsPasswordValidator,
)
from tests.helpers import TEST_PASSWORD

pytestmark = pytest.mark.django_db


def account(**fields) -> User:
    return User(username=fields.pop("username", "clin2"), **fields)


@pytest.mark.parametrize(
    "password, fields",
    [
        ("clin2clin2clin2", {}),
        ("Clin2Clin2Clin2!", {}),
        ("CLINclinCLIN2024", {}),
        ("clin2-clin2-clin2-clin2", {}),
        ("nurse.nurse.2024!", {"username": "nurse"}),
        ("JaneDoeJaneDoe99", {"first_name": "Jane", "last_name": "Doe"}),
        ("jdoe@clinic.org!!", {"email": "jdoe@clinic.org"}),
        ("clinicclinic2024", {"email": "jdoe@clinic.org"}),
    ],
)
def test_passwords_made_of_the_account_are_refused(password, fields):
    with pytest.raises(ValidationError) as refused:
        validate_password(password, user=account(**fields))
    assert E_PASSWORD_OF_ACCOUNT_DETAILS in refused.value.messages


@pytest.mark.parametrize(
    "password",
    [
        TEST_PASSWORD,
        "clin2 walks the river",
        "Tuesday-sleep-clinic-2",
    ],
)
def test_passwords_with_words_of_their_own_pass(password):
    validate_password(password, user=account(first_name="Al", last_name="Li"))


def test_without_a_user_there_is_nothing_to_compare():
    AccountDetailsPasswordValidator().validate("clin2clin2clin2", user=None)


def test_the_rule_is_listed_in_plain_words():
    assert HELP_PASSWORD_OF_ACCOUNT_DETAILS in password_validators_help_texts()


def test_the_add_user_page_refuses_the_username_repeated(client, make_user):
    client = Client()
    client.force_login(make_user("chief", roles=[roles.ADMINISTRATOR]))
    response = client.post(
        "/admin/users/user/add/",
        {
            "username": "clin2",
            "password1": "clin2clin2clin2",
            "password2": "clin2clin2clin2",
        },
    )
    assert response.status_code == 200
    assert escape(E_PASSWORD_OF_ACCOUNT_DETAILS) in response.content.decode()
    assert not User.objects.filter(username="clin2").exists()


def test_a_user_changing_their_own_password_is_held_to_it(make_user):
    clin2 = make_user("clin2")
    client = Client()
    client.force_login(clin2)
    response = client.post(
        "/admin/password_change/",
        {
            "old_password": TEST_PASSWORD,
            "new_password1": "Clin2Clin2Clin2",
            "new_password2": "Clin2Clin2Clin2",
        },
    )
    assert response.status_code == 200
    assert escape(E_PASSWORD_OF_ACCOUNT_DETAILS) in response.content.decode()
    clin2.refresh_from_db()
    assert clin2.check_password(TEST_PASSWORD)
