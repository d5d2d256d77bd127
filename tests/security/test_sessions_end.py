"""Review #12, item 11: deactivating a user ends every session of theirs for good,
rows and cached copies, so that a reactivation brings none of them back."""

from importlib import import_module

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.test import Client

from records.users.services import user_sessions_end

pytestmark = pytest.mark.django_db

ADMIN = "/admin/"


def store_class():
    return import_module(settings.SESSION_ENGINE).SessionStore


def signed_in(user) -> tuple[Client, str]:
    client = Client()
    client.force_login(user)
    assert client.get(ADMIN).status_code == 200  # read: now in the cache too
    return client, client.session.session_key


def cached(key: str):
    store = store_class()(key)
    if not hasattr(store, "cache_key"):
        return None  # an engine without a cached copy
    return caches[settings.SESSION_CACHE_ALIAS].get(store.cache_key)


@pytest.fixture
def nurse(make_user):
    return make_user("nurse")


# The database alone, and the database behind the Redis cache (whichever the
# settings choose, the engine's own delete removes what it keeps).
ENGINES = [
    "django.contrib.sessions.backends.db",
    "django.contrib.sessions.backends.cached_db",
]


@pytest.mark.parametrize("engine", ENGINES, ids=["db", "cached_db"])
def test_deactivation_deletes_the_rows_and_cached_copies(
    engine, nurse, make_user, settings, django_capture_on_commit_callbacks
):
    settings.SESSION_ENGINE = engine
    first, first_key = signed_in(nurse)
    second, second_key = signed_in(nurse)
    other, other_key = signed_in(make_user("other"))
    if engine.endswith("cached_db"):
        assert settings.CACHES["default"]["BACKEND"].startswith("django_redis")
        assert cached(first_key) is not None

    with django_capture_on_commit_callbacks(execute=True):
        nurse.is_active = False
        nurse.save()

    for key in (first_key, second_key):
        assert not Session.objects.filter(session_key=key).exists()
        assert cached(key) is None
    # Another user's session is left as it was.
    assert Session.objects.filter(session_key=other_key).exists()
    assert other.get(ADMIN).status_code == 200

    # Reactivated: the old sessions are gone, not merely refused while inactive.
    nurse.is_active = True
    nurse.save()
    assert first.get(ADMIN).status_code == 302
    assert second.get(ADMIN).status_code == 302


def test_deactivation_on_the_user_page_ends_the_users_sessions(
    nurse, make_user, django_capture_on_commit_callbacks
):
    from tests.helpers import change_form_data

    from records.users import roles

    victim, _ = signed_in(nurse)
    chief = Client()
    chief.force_login(make_user("chief", roles=[roles.ADMINISTRATOR]))
    page = f"/admin/users/user/{nurse.pk}/change/"
    data = change_form_data(chief.get(page))
    data.pop("is_active")
    with django_capture_on_commit_callbacks(execute=True):
        assert chief.post(page, data).status_code == 302
    nurse.refresh_from_db()
    nurse.is_active = True
    nurse.save()
    assert victim.get(ADMIN).status_code == 302


def test_nothing_ends_before_the_deactivation_is_committed(
    nurse, django_capture_on_commit_callbacks
):
    client, key = signed_in(nurse)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        nurse.is_active = False
        nurse.save()
    assert Session.objects.filter(session_key=key).exists()
    assert len(callbacks) == 1
    callbacks[0]()
    assert not Session.objects.filter(session_key=key).exists()


def test_other_saves_end_no_session(nurse, django_capture_on_commit_callbacks):
    client, key = signed_in(nurse)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        nurse.first_name = "Nell"
        nurse.save()
        nurse.is_staff = False
        nurse.save()
    assert callbacks == []
    assert Session.objects.filter(session_key=key).exists()


def test_user_sessions_end_counts_what_it_ended(nurse):
    signed_in(nurse)
    signed_in(nurse)
    assert user_sessions_end(user=nurse) == 2
    assert user_sessions_end(user=nurse) == 0
