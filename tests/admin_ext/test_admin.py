"""The admin shell: dashboard figures, environment badge, sidebar, user admin pages."""

import pytest
from django.utils import timezone

from admin_ext.dashboard import environment_callback
from records.users import roles
from records.users.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def administrator(client, make_user):
    user = make_user("boss", roles=[roles.ADMINISTRATOR])
    client.force_login(user)
    return user


def test_root_redirects_to_the_admin(client):
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/admin/"


def test_anonymous_visitor_is_sent_to_login(client):
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_login_redirect_goes_to_the_dashboard(settings):
    assert settings.LOGIN_REDIRECT_URL == "admin:index"


def test_dashboard_shows_users_by_role_and_recent_sign_ins(client, make_user):
    make_user("clin1", roles=[roles.CLINICIAN])
    make_user("clin2", roles=[roles.CLINICIAN, roles.AUDITOR])
    make_user("gone", roles=[roles.CLINICIAN], is_active=False)
    make_user(
        "seen",
        last_login=timezone.now(),
        last_login_ip="192.0.2.10",
        last_login_device="PC / Linux / Firefox 128.0",
    )
    boss = make_user("boss", roles=[roles.ADMINISTRATOR])
    client.force_login(boss)
    response = client.get("/admin/")
    assert response.status_code == 200
    by_role = {row["role"]: row["count"] for row in response.context["users_by_role"]}
    assert by_role == {
        roles.ADMINISTRATOR: 1,
        roles.CLINICIAN: 2,
        roles.DATA_MANAGER: 0,
        roles.AUDITOR: 1,
    }
    assert response.context["user_totals"] == {"active": 4, "inactive": 1}
    recent = [user.username for user in response.context["recent_sign_ins"]]
    assert recent[0] == "boss" and "seen" in recent
    assert b"192.0.2.10" in response.content


def test_dashboard_hides_figures_from_users_without_user_access(client, make_user):
    client.force_login(make_user("nobody", roles=[roles.CLINICIAN]))
    response = client.get("/admin/")
    assert response.status_code == 200
    assert "users_by_role" not in response.context
    assert b"Recent sign-ins" not in response.content


@pytest.mark.parametrize(
    "name, colour",
    [("production", "danger"), ("staging", "warning"), ("development", "info")],
)
def test_environment_badge(settings, rf, name, colour):
    settings.NDAS_ENVIRONMENT = name
    assert environment_callback(rf.get("/")) == [name.capitalize(), colour]


def test_badge_and_branding_are_on_every_page(client, administrator, settings):
    settings.NDAS_ENVIRONMENT = "staging"
    content = client.get("/admin/").content.decode()
    assert "Staging" in content and "NDAS" in content


def test_sidebar_lists_access_pages_for_administrators(client, administrator):
    content = client.get("/admin/").content.decode()
    assert "/admin/users/user/" in content and "/admin/auth/group/" in content


def test_user_changelist_and_search(client, administrator, make_user):
    make_user("findable", email="findable@example.org")
    response = client.get("/admin/users/user/", {"q": "findable"})
    assert response.status_code == 200
    assert [u.username for u in response.context["cl"].result_list] == ["findable"]


def test_user_add_page_uses_unfold_forms_and_creates_user(client, administrator):
    assert client.get("/admin/users/user/add/").status_code == 200
    response = client.post(
        "/admin/users/user/add/",
        {
            "username": "newcomer",
            "password1": "a-long-enough-passphrase",
            "password2": "a-long-enough-passphrase",
            "usable_password": "true",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert User.objects.get(username="newcomer").password.startswith("argon2$")


def test_user_change_page_shows_last_sign_in_read_only(client, administrator):
    response = client.get(f"/admin/users/user/{administrator.pk}/change/")
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert "last_login_ip" not in form.fields
    assert b"last sign-in device" in response.content.lower()


def test_roles_admin_lists_the_roles(client, administrator):
    response = client.get("/admin/auth/group/")
    assert response.status_code == 200
    names = {group.name for group in response.context["cl"].result_list}
    assert set(roles.ROLES) <= names


def test_user_changes_keep_history_with_reason(client, administrator, make_user):
    from tests.helpers import admin_form_data

    user = make_user("historic", first_name="Old")
    url = f"/admin/users/user/{user.pk}/change/"
    data = admin_form_data(
        client.get(url), first_name="New", change_reason="Name corrected"
    )
    data["care_teams"] = []  # none ticked: the browser sends nothing
    assert client.post(url, data).status_code == 302
    entry = User.history.filter(id=user.pk).order_by("-history_id").first()
    assert entry.first_name == "New" and entry.history_user == administrator
    assert entry.history_change_reason == "Name corrected"
    assert not hasattr(entry, "password")  # hashes stay out of history
    assert client.get(f"/admin/users/user/{user.pk}/history/").status_code == 200


def test_users_are_deactivated_never_deleted(client, make_user):
    superuser = make_user("root", is_superuser=True)
    client.force_login(superuser)
    user = make_user("leaver")

    assert client.get(f"/admin/users/user/{user.pk}/delete/").status_code == 403
    listing = client.get("/admin/users/user/")
    assert "delete_selected" not in listing.content.decode()
    response = client.post(
        "/admin/users/user/",
        {"action": "delete_selected", "_selected_action": [user.pk], "post": "yes"},
    )
    assert response.status_code in (200, 302)
    assert User.objects.filter(pk=user.pk).exists()
