"""Review #12, item 5: every change of who may do or see what is an audit event,
whichever page, service or command makes it; roles are read-only in the admin."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.test import Client

from records.audit.models import AuditEvent
from records.audit.verify import audit_chain_verify
from records.users import roles
from records.users.models import CareTeam, User
from records.users.services import (
    care_team_create,
    care_team_set_members,
    care_team_update,
)
from tests import factories
from tests.helpers import change_form_data

pytestmark = pytest.mark.django_db

USERS = "/admin/users/user/"
ROLES = "/admin/auth/group/"


def last_id() -> int:
    event = AuditEvent.objects.order_by("-id").first()
    return event.id if event else 0


def events_since(start: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(id__gt=start).order_by("id"))


def brief(events) -> list[tuple]:
    return [(e.action, e.object_type, e.object_id, e.actor_username) for e in events]


@pytest.fixture
def chief(make_user):
    return make_user("chief", roles=[roles.ADMINISTRATOR])


@pytest.fixture
def admin_client(chief) -> Client:
    client = Client()
    client.force_login(chief)
    return client


@pytest.fixture
def nurse(make_user):
    return make_user("nurse")


def test_roles_and_teams_given_on_the_user_page_are_grants(admin_client, nurse):
    clinician = Group.objects.get(name=roles.CLINICIAN)
    team = factories.team("Neonatal follow-up")
    page = f"{USERS}{nurse.pk}/change/"
    data = change_form_data(admin_client.get(page))
    start = last_id()
    data.update(role=str(clinician.pk), care_teams=[str(team.pk)])
    data["change_reason"] = "New post"
    assert admin_client.post(page, data).status_code == 302
    events = events_since(start)
    assert brief(events) == [
        ("grant", "users.user", str(nurse.pk), "chief"),
        ("grant", "users.user", str(nurse.pk), "chief"),
    ]
    assert {e.summary for e in events} == {
        "nurse given role Clinician",
        "nurse joined care team Neonatal follow-up",
    }
    assert {tuple(sorted(e.details)) for e in events} == {
        ("group_id", "member_id"),
        ("member_id", "team_id"),
    }

    start = last_id()
    data.update(role="", care_teams=[str(team.pk)])
    data["change_reason"] = "Left the clinic rota"
    assert admin_client.post(page, data).status_code == 302
    [revoke] = events_since(start)
    assert (revoke.action, revoke.summary, revoke.actor_username) == (
        "revoke",
        "nurse no longer holds role Clinician",
        "chief",
    )


@pytest.mark.parametrize(
    "flag, value, action, summary",
    [
        ("is_active", False, "revoke", "nurse deactivated"),
    ],
)
def test_flags_changed_on_the_user_page_are_audited(
    admin_client, nurse, flag, value, action, summary
):
    page = f"{USERS}{nurse.pk}/change/"
    data = change_form_data(admin_client.get(page))
    if value:
        data[flag] = "on"
    else:
        data.pop(flag, None)
    start = last_id()
    assert admin_client.post(page, data).status_code == 302
    [event] = events_since(start)
    assert (event.action, event.summary, event.actor_username) == (
        action,
        summary,
        "chief",
    )
    assert event.details == {"member_id": nurse.pk, "flag": flag, "value": value}


def test_the_user_page_offers_no_raw_permissions_superuser_or_staff_flag(
    admin_client, nurse
):
    """Superusers are made by createsuperuser, permissions by roles: the page
    neither shows these nor takes them from a forged post."""
    page = f"{USERS}{nurse.pk}/change/"
    response = admin_client.get(page)
    fields = response.context["adminform"].form.fields
    for name in ("user_permissions", "is_superuser", "is_staff", "groups"):
        assert name not in fields
    data = change_form_data(response)
    permission = Permission.objects.get(codename="view_patient")
    data.update(is_superuser="on", user_permissions=[str(permission.pk)])
    start = last_id()
    assert admin_client.post(page, data).status_code == 302
    nurse.refresh_from_db()
    assert not nurse.is_superuser and not nurse.user_permissions.exists()
    assert events_since(start) == []


def test_a_user_made_on_the_add_page_is_a_grant(admin_client):
    start = last_id()
    response = admin_client.post(
        f"{USERS}add/",
        {
            "username": "newstarter",
            "password1": "a-long-and-unusual-phrase",
            "password2": "a-long-and-unusual-phrase",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(username="newstarter")
    assert brief(events_since(start)) == [
        ("grant", "users.user", str(user.pk), "chief"),
        ("grant", "users.user", str(user.pk), "chief"),
    ]
    assert [e.summary for e in events_since(start)] == [
        "newstarter created, active",
        "newstarter given staff status (may sign in)",
    ]


def test_changes_from_the_shell_are_audited_without_an_actor(nurse):
    clinician = Group.objects.get(name=roles.CLINICIAN)
    permission = Permission.objects.get(codename="view_user")
    start = last_id()
    nurse.groups.add(clinician)
    nurse.groups.remove(clinician)
    nurse.user_permissions.add(permission)
    permission.user_set.clear()  # the other side of the relation
    nurse.is_superuser = True
    nurse.save()
    nurse.is_active = False
    nurse.save(update_fields=["is_active"])
    nurse.first_name = "Nell"
    nurse.save(update_fields=["first_name"])  # not a privilege: nothing
    events = events_since(start)
    assert [(e.action, e.summary) for e in events] == [
        ("grant", "nurse given role Clinician"),
        ("revoke", "nurse no longer holds role Clinician"),
        ("grant", "nurse given permissions: users.view_user"),
        ("revoke", "nurse lost permissions: users.view_user"),
        ("grant", "nurse made superuser"),
        ("revoke", "nurse deactivated"),
    ]
    assert {(e.actor_id, e.actor_username) for e in events} == {(None, "")}
    assert audit_chain_verify().intact


def test_clearing_a_users_groups_revokes_each(nurse):
    team = factories.team("Autism assessment", nurse)
    nurse.groups.add(Group.objects.get(name=roles.AUDITOR))
    start = last_id()
    nurse.groups.clear()
    assert sorted(e.summary for e in events_since(start)) == [
        "nurse left care team Autism assessment",
        "nurse no longer holds role Auditor",
    ]
    assert {e.action for e in events_since(start)} == {"revoke"}
    assert team.group.user_set.count() == 0


def test_createsuperuser_is_a_grant(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-and-unusual-phrase")
    start = last_id()
    call_command(
        "createsuperuser",
        "--no-input",
        "--username",
        "root2",
        "--email",
        "root2@example.org",
        verbosity=0,
    )
    assert [e.summary for e in events_since(start)] == [
        "root2 created, active",
        "root2 given staff status (may sign in)",
        "root2 made superuser",
    ]


def test_a_group_deleted_with_members_revokes_each(nurse, make_user):
    other = make_user("other")
    group = Group.objects.create(name="Ad hoc")
    # (group.user_set.add() fails in django-simple-history: Group has no history.)
    nurse.groups.add(group)
    other.groups.add(group)
    start = last_id()
    group.delete()
    assert [(e.action, e.object_id) for e in events_since(start)] == [
        ("revoke", str(nurse.pk)),
        ("revoke", str(other.pk)),
    ]


def test_a_roles_permissions_changed_while_held_are_audited(nurse):
    clinician = Group.objects.get(name=roles.CLINICIAN)
    nurse.groups.add(clinician)
    start = last_id()
    clinician.permissions.add(Permission.objects.get(codename="delete_patient"))
    [added] = events_since(start)
    assert (added.action, added.object_type, added.object_id) == (
        "grant",
        "auth.group",
        str(clinician.pk),
    )
    assert added.summary == (
        "Clinician (1 members) given permissions: patients.delete_patient"
    )
    # migrate's sync puts the code's matrix back, on the trail too.
    start = last_id()
    roles.role_permissions_sync()
    [restored] = events_since(start)
    assert restored.action == "revoke"
    assert restored.details["permissions"] == ["patients.delete_patient"]
    # A group nobody holds changes nobody's access.
    empty = Group.objects.create(name="Nobody here")
    start = last_id()
    empty.permissions.add(Permission.objects.get(codename="view_patient"))
    assert events_since(start) == []


def test_the_roles_page_shows_permissions_and_changes_nothing(admin_client):
    role = Group.objects.get(name=roles.DATA_MANAGER)
    before = set(role.permissions.values_list("pk", flat=True))
    page = f"{ROLES}{role.pk}/change/"
    response = admin_client.get(page)
    assert response.status_code == 200
    assert "imports" in response.content.decode()  # its permissions, to read
    assert not response.context["has_change_permission"]
    assert admin_client.get(f"{ROLES}add/").status_code == 403
    everything = [str(pk) for pk in Permission.objects.values_list("pk", flat=True)]
    response = admin_client.post(page, {"name": role.name, "permissions": everything})
    assert response.status_code == 403
    assert (
        admin_client.post(f"{ROLES}{role.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert set(role.permissions.values_list("pk", flat=True)) == before


def test_team_membership_is_audited_once(chief, make_user):
    team = factories.team("Neonatal follow-up")
    nurse = make_user("nurse2")
    start = last_id()
    care_team_set_members(acting_user=chief, team=team, members=[nurse])
    care_team_set_members(acting_user=chief, team=team, members=[])
    assert [(e.action, e.summary, e.actor_username) for e in events_since(start)] == [
        ("grant", "nurse2 joined care team Neonatal follow-up", "chief"),
        ("revoke", "nurse2 left care team Neonatal follow-up", "chief"),
    ]


def test_care_team_creation_and_description_are_audited(chief):
    start = last_id()
    team = care_team_create(acting_user=chief, name="Sleep clinic")
    [created] = events_since(start)
    assert (created.action, created.object_type, created.object_id) == (
        "create",
        "users.careteam",
        str(team.pk),
    )
    assert created.summary == "Care team Sleep clinic created"
    assert created.actor_username == "chief"

    start = last_id()
    care_team_update(acting_user=chief, team=team, description="Tuesdays")
    care_team_update(acting_user=chief, team=team, description="Tuesdays")
    [updated] = events_since(start)
    assert (updated.action, updated.details) == (
        "update",
        {"team_id": team.pk, "fields": ["description"]},
    )
    assert "Tuesdays" not in updated.summary
    assert CareTeam.objects.get(pk=team.pk).description == "Tuesdays"


def test_a_chart_opened_to_one_user_from_the_shell_is_audited(nurse):
    from guardian.shortcuts import assign_perm, remove_perm

    from records.patients.repositories import patients_visible_to

    clinician = factories.clinician("carer")
    patient = factories.patient(acting_user=clinician)
    nurse.groups.add(Group.objects.get(name=roles.CLINICIAN))
    start = last_id()
    assign_perm("patients.view_patient", nurse, patient)
    assert patients_visible_to(nurse).filter(pk=patient.pk).exists()
    remove_perm("patients.view_patient", nurse, patient)
    events = events_since(start)
    assert [(e.action, e.patient_id, e.object_type) for e in events] == [
        ("grant", patient.pk, "patients.patientuserobjectpermission"),
        ("revoke", patient.pk, "patients.patientuserobjectpermission"),
    ]
    assert events[0].summary == (
        f"nurse given patients.view_patient on chart {patient.pk}"
    )
    assert events[0].details == {
        "member_id": nurse.pk,
        "permission": "patients.view_patient",
    }


def test_password_changes_are_audited(admin_client, chief, nurse):
    start = last_id()
    response = admin_client.post(
        f"{USERS}{nurse.pk}/password/",
        {"password1": "Quennard-Velmarch-42", "password2": "Quennard-Velmarch-42"},
    )
    assert response.status_code == 302
    (event,) = [e for e in events_since(start) if e.action == "update"]
    assert event.actor_id == chief.pk and event.object_id == str(nurse.pk)
    assert "set by an administrator" in event.summary
    nurse.refresh_from_db()  # its new password's hash goes into the session
    own = Client()
    own.force_login(nurse)
    start = last_id()
    response = own.post(
        "/admin/password_change/",
        {
            "old_password": "Quennard-Velmarch-42",
            "new_password1": "Orchard-Lantern-77",
            "new_password2": "Orchard-Lantern-77",
        },
    )
    assert response.status_code == 302
    (event,) = [e for e in events_since(start) if e.action == "update"]
    assert event.actor_id == nurse.pk and "changed their password" in event.summary


def test_lifting_a_lockout_is_a_grant(admin_client, chief):
    from axes.models import AccessAttempt

    attempt = AccessAttempt.objects.create(
        username="locked-out", ip_address="192.0.2.1", failures_since_start=5
    )
    start = last_id()
    response = admin_client.post(
        "/admin/axes/accessattempt/",
        {"action": "delete_selected", "_selected_action": [attempt.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert not AccessAttempt.objects.exists()
    assert brief(events_since(start)) == [
        ("grant", "axes.accessattempt", str(attempt.pk), "chief")
    ]


def test_acknowledging_emergency_access_is_audited(world):
    from records.patients import services as patient_services

    auditor = world.users["auditor"]
    start = last_id()
    patient_services.break_glass_acknowledge(acting_user=auditor, grant=world.grant)
    assert brief(events_since(start)) == [
        ("update", "patients.breakglassgrant", str(world.grant.pk), "audit")
    ]
