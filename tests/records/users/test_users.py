"""Users: the custom model, sign-in facts, roles and the demo accounts."""

import json
import stat

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command

from records.users import roles
from records.demo.accounts import DEMO_ACCOUNTS, demo_accounts_ensure
from records.users.models import User
from records.users.services import user_agent_describe
from tests.helpers import TEST_PASSWORD

pytestmark = pytest.mark.django_db

FIREFOX_ON_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:128.0) "
    "Gecko/20100101 Firefox/128.0"
)


def test_auth_user_model_is_ours(django_user_model):
    assert django_user_model is User
    assert User._meta.app_label == "users"


def test_login_records_ip_and_device(client, make_user, settings):
    settings.TRUSTED_PROXY_IP_HEADER = ""
    make_user("signin")
    response = client.post(
        "/admin/login/",
        {"username": "signin", "password": TEST_PASSWORD},
        REMOTE_ADDR="198.51.100.23",
        HTTP_USER_AGENT=FIREFOX_ON_MAC,
    )
    assert response.status_code == 302
    user = User.objects.get(username="signin")
    assert user.last_login_ip == "198.51.100.23"
    assert user.last_login_device == "PC / Mac OS X 14.5 / Firefox 128.0"


def test_user_agent_description_is_empty_without_a_user_agent():
    assert user_agent_describe("") == ""


def test_migration_creates_the_four_roles():
    assert set(Group.objects.values_list("name", flat=True)) >= set(roles.ROLES)


def test_administrator_role_has_every_permission():
    group = Group.objects.get(name=roles.ADMINISTRATOR)
    assert group.permissions.count() == Permission.objects.count()


def test_auditor_role_can_only_view():
    codenames = Group.objects.get(name=roles.AUDITOR).permissions.values_list(
        "codename", flat=True
    )
    assert "view_user" in codenames and "view_all_patients" in codenames
    assert all(
        code.startswith("view_") or code == "acknowledge_breakglassgrant"
        for code in codenames
    )


def test_role_sync_restores_the_matrix_and_accepts_named_permissions(monkeypatch):
    clinician = Group.objects.get(name=roles.CLINICIAN)
    clinician.permissions.add(Permission.objects.get(codename="delete_user"))
    monkeypatch.setitem(roles.ROLE_PERMISSIONS, roles.CLINICIAN, ("users.view_user",))
    roles.role_permissions_sync()
    assert list(clinician.permissions.values_list("codename", flat=True)) == [
        "view_user"
    ]


@pytest.fixture
def credentials(tmp_path, settings):
    settings.DEBUG = True
    return tmp_path / "var" / "demo-accounts.json"


def test_demo_accounts_one_per_role(credentials):
    accounts = demo_accounts_ensure(credentials_path=credentials)
    assert [(a.username, a.role) for a in accounts] == list(DEMO_ACCOUNTS)
    for account in accounts:
        user = User.objects.get(username=account.username)
        assert user.is_staff and not user.is_superuser
        assert user.check_password(account.password)
        assert list(user.groups.values_list("name", flat=True)) == [account.role]
    saved = json.loads(credentials.read_text())
    assert {row["username"]: row["password"] for row in saved} == {
        a.username: a.password for a in accounts
    }
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600


def test_demo_accounts_keep_their_passwords_on_rerun(credentials):
    first = demo_accounts_ensure(credentials_path=credentials)
    assert demo_accounts_ensure(credentials_path=credentials) == first


def test_demo_accounts_are_repaired_when_a_password_was_changed(credentials):
    [admin, *_] = demo_accounts_ensure(credentials_path=credentials)
    user = User.objects.get(username="admin")
    user.set_password("something-else-entirely")
    user.save()
    demo_accounts_ensure(credentials_path=credentials)
    assert User.objects.get(username="admin").check_password(admin.password)


def test_demo_accounts_refused_without_debug(tmp_path, settings):
    settings.DEBUG = False
    with pytest.raises(ImproperlyConfigured):
        demo_accounts_ensure(credentials_path=tmp_path / "x.json")
    assert not User.objects.filter(username="admin").exists()


def test_seed_demo_command_prints_accounts(credentials, monkeypatch, capsys):
    from records.demo.management.commands import seed_demo

    monkeypatch.setattr(seed_demo, "CREDENTIALS_FILE", credentials)
    # Charts are left to tests/records/demo/test_demo.py.
    call_command("seed_demo", "--patients", "0")
    out = capsys.readouterr().out
    for username, role in DEMO_ACCOUNTS:
        assert username in out and role in out


def test_seed_demo_command_fails_clearly_in_production(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="only created with DEBUG on"):
        call_command("seed_demo")


def test_login_without_a_request_records_time_only(make_user):
    from records.users.receivers import on_user_logged_in

    user = make_user("scripted", last_login_ip="192.0.2.1")
    on_user_logged_in(sender=User, request=None, user=user)
    user.refresh_from_db()
    assert user.last_login is not None
    assert user.last_login_ip is None and user.last_login_device == ""


def test_signing_in_adds_no_history_row(client, make_user):
    user = make_user("quiet")
    rows = user.history.count()
    client.post("/admin/login/", {"username": "quiet", "password": TEST_PASSWORD})
    user.refresh_from_db()
    assert user.last_login is not None
    assert user.history.count() == rows
