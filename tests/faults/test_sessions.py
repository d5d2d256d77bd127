"""A session ended while Redis was cut off stays ended when Redis comes back.

The fault is real: the cache is the real Redis behind a TCP relay
(tests/support/relay.py) that the test cuts and restores; nothing is mocked.
"""

import time

import pytest
import time_machine
from django.conf import settings as django_settings

from records.users.models import User

pytestmark = pytest.mark.django_db

ADMIN = "/admin/"


@pytest.fixture
def staff(make_user) -> User:
    return make_user("splitbrain")


def cookie(client) -> str:
    return client.cookies[django_settings.SESSION_COOKIE_NAME].value


def opens_admin(client, session_key: str) -> bool:
    client.cookies[django_settings.SESSION_COOKIE_NAME] = session_key
    return client.get(ADMIN).status_code == 200


def signed_in(client, staff) -> str:
    client.force_login(staff)
    assert client.get(ADMIN).status_code == 200
    return cookie(client)


def test_sign_out_during_a_redis_split_is_final(client, staff, redis_relay):
    old = signed_in(client, staff)
    redis_relay.cut()
    assert client.post("/admin/logout/").status_code == 200
    redis_relay.restore()
    assert not opens_admin(client, old)


def test_sign_out_during_a_hung_redis_is_final(client, staff, redis_relay):
    old = signed_in(client, staff)
    redis_relay.hang()
    assert client.post("/admin/logout/").status_code == 200
    redis_relay.restore()
    assert not opens_admin(client, old)


def test_the_relay_really_splits_redis(client, staff, redis_relay, settings):
    """The control: Django's cached_db engine, which NDAS used, does reopen the chart
    under this fault, so the tests above would catch its return."""
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    old = signed_in(client, staff)
    redis_relay.cut()
    client.post("/admin/logout/")
    redis_relay.restore()
    assert opens_admin(client, old)


def test_deactivation_during_a_redis_split_ends_the_session(client, staff, redis_relay):
    old = signed_in(client, staff)
    redis_relay.cut()
    User.objects.filter(pk=staff.pk).update(is_active=False)
    redis_relay.restore()
    assert not opens_admin(client, old)


def test_password_change_during_a_redis_split_ends_the_session(
    client, staff, redis_relay
):
    old = signed_in(client, staff)
    redis_relay.cut()
    staff.set_password("another-long-passphrase-2026")
    staff.save()
    redis_relay.restore()
    assert not opens_admin(client, old)


def test_sessions_do_not_need_redis(client, staff, redis_relay):
    redis_relay.cut()
    old = signed_in(client, staff)
    assert opens_admin(client, old)


def test_no_security_state_is_kept_in_the_cache():
    """Sessions and sign-in lockouts (django-axes) are in the database alone."""
    assert django_settings.SESSION_ENGINE == "django.contrib.sessions.backends.db"
    assert django_settings.AXES_HANDLER == "records.users.lockout.NdasAxesHandler"
    from axes.handlers.database import AxesDatabaseHandler

    from records.users.lockout import NdasAxesHandler

    assert issubclass(NdasAxesHandler, AxesDatabaseHandler)


def test_a_timeout_during_a_redis_split_is_final(client, staff, redis_relay, settings):
    old = signed_in(client, staff)
    redis_relay.cut()
    later = time.time() + settings.SESSION_IDLE_TIMEOUT + 60
    with time_machine.travel(later, tick=False):
        assert client.get(ADMIN).status_code == 302  # idle too long: signed out
    redis_relay.restore()
    # Back to the present, where the session's own times say it is still fresh.
    assert not opens_admin(client, old)
