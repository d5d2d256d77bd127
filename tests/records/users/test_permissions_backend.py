"""A user's permissions are read in one query, and they are exactly Django's."""

import pytest
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from records.users import roles
from records.users.backends import PermissionsBackend
from records.users.models import User
from tests.helpers import client_for

pytestmark = pytest.mark.django_db


def _fresh(user) -> User:
    return User.objects.get(pk=user.pk)  # nothing cached on it


def _djangos(user) -> set[str]:
    return ModelBackend().get_all_permissions(_fresh(user))


def test_role_and_own_permissions_in_one_query_as_django_reads_them(make_user):
    user = make_user("both", roles=[roles.CLINICIAN, roles.DATA_MANAGER])
    user.user_permissions.add(Permission.objects.get(codename="view_auditevent"))
    fresh = _fresh(user)
    with CaptureQueriesContext(connection) as queries:
        permissions = PermissionsBackend().get_all_permissions(fresh)
        assert fresh.has_perm("audit.view_auditevent")  # kept: no second read
        assert not fresh.has_perm("users.delete_user")  # ModelBackend's too
    assert len(queries) == 1
    assert permissions == _djangos(user)
    assert "audit.view_auditevent" in permissions
    assert "patients.view_patient" in permissions


@pytest.mark.parametrize(
    "fields, expected",
    [
        ({}, set()),  # no role, no permission
        ({"is_active": False}, set()),
        ({"is_superuser": True}, set()),  # ModelBackend answers: all of them
    ],
)
def test_users_it_leaves_to_django(make_user, fields, expected):
    user = make_user("other", roles=[roles.AUDITOR], **fields)
    if not fields:
        user.groups.clear()
    assert PermissionsBackend().get_all_permissions(_fresh(user)) == expected
    if fields.get("is_superuser"):
        assert _fresh(user).get_all_permissions() == _djangos(user)
        assert len(_djangos(user)) == Permission.objects.count()
    if fields.get("is_active") is False:
        assert not _fresh(user).has_perm("audit.view_auditevent")


def test_object_permissions_are_guardians(make_user):
    user = make_user("clinician", roles=[roles.CLINICIAN])
    assert PermissionsBackend().get_all_permissions(_fresh(user), obj=user) == set()


def test_a_changed_role_is_read_on_the_next_request(make_user):
    user = make_user("auditor", roles=[roles.AUDITOR])
    client = client_for(user)
    trail = reverse("admin:audit_auditevent_changelist")
    assert client.get(trail).status_code == 200
    Group.objects.get(name=roles.AUDITOR).permissions.remove(
        Permission.objects.get(codename="view_auditevent")
    )
    assert client.get(trail).status_code == 403


def test_sessions_still_name_djangos_backend(make_user, client):
    user = make_user("clinician", roles=[roles.CLINICIAN])
    client.force_login(user)
    assert client.session["_auth_user_backend"] == (
        "django.contrib.auth.backends.ModelBackend"
    )
    assert PermissionsBackend().authenticate(None, username="clinician") is None
