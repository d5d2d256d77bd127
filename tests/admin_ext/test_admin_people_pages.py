"""The administrator's pages in the clinic's words (issue #17): roles, the user page,
unlocking a locked-out user, the care team page."""

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import Group

from records.audit.models import AuditEvent
from records.users import roles
from records.users.models import User
from tests import factories

pytestmark = pytest.mark.django_db

USERS = "/admin/users/user/"


@pytest.fixture
def chief(client, make_user):
    user = make_user("chief", roles=[roles.ADMINISTRATOR])
    client.force_login(user)
    return user


def test_the_roles_page_lists_roles_only_with_what_they_allow(client, chief):
    team = factories.team("Neonatal follow-up")
    response = client.get("/admin/auth/group/")
    assert response.context["title"] == "Roles"
    listing = response.content.decode()
    for role in roles.ROLES:
        assert role in listing
    assert "Neonatal follow-up" not in listing
    assert "Reads every chart (without changing it)" in listing
    assert client.get(f"/admin/auth/group/{team.group_id}/change/").status_code in (
        302,
        404,
    )
    clinician = Group.objects.get(name=roles.CLINICIAN)
    page = client.get(f"/admin/auth/group/{clinician.pk}/change/").content.decode()
    assert "in an emergency" in page
    assert "Can add" not in page and "patients.add_patient" not in page


def test_the_user_page_has_a_role_care_teams_and_no_raw_django(client, chief):
    factories.team("Autism assessment")
    page = client.get(f"{USERS}{chief.pk}/change/").content.decode()
    assert "Role and care teams" in page and "Autism assessment" in page
    assert "Set a new password" in page
    for stock in (
        "Designates whether",
        "Superuser status",
        "User permissions",
        "algorithm",
        "Raw passwords are not stored",
    ):
        assert stock not in page
    assert "Not locked out" in page
    assert "Save and add another" not in page
    assert "150 characters or fewer" not in page


def test_the_add_page_speaks_to_an_administrator(client, chief):
    page = client.get(f"{USERS}add/").content.decode()
    assert "Single Sign-On" not in page and "LDAP" not in page
    assert "Your password must contain" not in page
    assert "never by email" in page
    response = client.post(
        f"{USERS}add/",
        {
            "username": "newstarter",
            "password1": "a-long-and-unusual-phrase",
            "password2": "a-long-and-unusual-phrase",
        },
    )
    assert response.status_code == 302
    assert User.objects.get(username="newstarter").is_staff


def test_a_locked_out_user_is_unlocked_from_their_page(client, chief, make_user):
    nurse = make_user("nurse", roles=[roles.CLINICIAN])
    AccessAttempt.objects.create(
        username="nurse",
        ip_address="10.0.0.9",
        user_agent="x",
        get_data="",
        post_data="",
        http_accept="",
        path_info="/admin/login/",
        failures_since_start=5,
    )
    page = client.get(f"{USERS}{nurse.pk}/change/").content.decode()
    assert "Locked out since" in page and "after 5 failed sign-ins, until" in page
    unlock = f"{USERS}{nurse.pk}/unlock/"
    assert unlock in page
    confirm = client.get(unlock).content.decode()
    assert "Check who is asking first" in confirm
    start = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
    response = client.post(unlock)
    assert response.status_code == 302
    assert not AccessAttempt.objects.filter(username="nurse").exists()
    [event] = AuditEvent.objects.filter(id__gt=start, action="grant")
    assert event.summary == "sign-in lockout lifted for nurse"
    assert event.actor_username == "chief"
    page = client.get(f"{USERS}{nurse.pk}/change/").content.decode()
    assert "Not locked out" in page and "nurse can sign in again" in page


def test_only_administrators_unlock(client, make_user):
    nurse = make_user("nurse", roles=[roles.CLINICIAN])
    client.force_login(make_user("doc", roles=[roles.CLINICIAN]))
    assert client.post(f"{USERS}{nurse.pk}/unlock/").status_code in (302, 403)


def test_the_care_team_page_puts_the_name_first(client, chief):
    team = factories.team("Autism assessment")
    response = client.get(f"/admin/users/careteam/{team.pk}/change/")
    page = response.content.decode()
    [(_, options)] = response.context["adminform"].fieldsets
    assert list(options["fields"])[:3] == ["name", "description", "members"]
    assert "Save and add another" not in page and "_addanother" not in page


def test_every_admin_page_starts_with_skip_to_content_and_a_menu_search(client, chief):
    page = client.get("/admin/").content.decode()
    assert 'href="#content"' in page and "Skip to content" in page
    # First in the page: before the menu and every other link.
    body = page[page.index("<body") :]
    assert body.index("<a ") == body.index('<a class="ndas-skip-link"')
    assert page.index("Skip to content") < page.index("Search menu…")
    assert 'id="content"' in page
    assert "Search menu…" in page and "Search apps and models" not in page


def test_demo_accounts_have_full_names(settings, tmp_path):
    from records.demo.accounts import demo_accounts_ensure

    settings.DEBUG = True
    demo_accounts_ensure(credentials_path=tmp_path / "demo.json")
    names = {
        u.username: str(u)
        for u in User.objects.filter(
            username__in=["admin", "clinician", "datamanager", "auditor"]
        )
    }
    assert names == {
        "admin": "Alex Morgan",
        "clinician": "Priya Shah",
        "datamanager": "Tom Fletcher",
        "auditor": "Grace Okafor",
    }


def test_the_clinician_pickers_offer_clinicians_only(client, chief, make_user):
    priya = make_user(
        "pshah", first_name="Priya", last_name="Shah", roles=[roles.CLINICIAN]
    )
    for url in (
        "/admin/patients/assessment/add/",
        "/admin/clinical_records/clinicalrecord/add/",
    ):
        form = client.get(url).context["adminform"].form
        field = form.fields.get("assessor") or form.fields["clinician"]
        assert set(field.queryset) == {priya}
        assert field.label_from_instance(priya) == "Priya Shah (pshah)"


def test_the_lockouts_list_speaks_plainly(client, chief):
    AccessAttempt.objects.create(
        username="nurse",
        ip_address="10.0.0.9",
        user_agent="",
        get_data="",
        post_data="",
        http_accept="",
        path_info="/admin/login/",
        failures_since_start=5,
    )
    page = client.get("/admin/axes/accessattempt/").content.decode()
    assert "Lockouts and failed sign-ins" in page
    assert "Failed sign-ins" in page and "First failure" in page
    assert "Unlock the selected" in page
    assert "Delete selected" not in page and "User Agent" not in page
