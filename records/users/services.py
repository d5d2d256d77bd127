"""Writes concerning users: sign-in facts and events, care teams."""

from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from user_agents import parse as parse_user_agent

from records.audit.services import audit_object
from records.common.errors import ServiceError
from records.common.services import history_note, model_update, row_lock
from records.users.models import CareTeam, LoginEvent, User

DEVICE_MAX_LENGTH = User._meta.get_field("last_login_device").max_length


def user_agent_describe(user_agent: str) -> str:
    """'PC / Linux / Chrome 120.0': device type, OS and browser of a User-Agent."""
    if not user_agent:
        return ""
    return str(parse_user_agent(user_agent))[:DEVICE_MAX_LENGTH]


def user_record_login(*, user: User, ip: str | None, user_agent: str) -> User:
    """Remember when, where and on what device the user last signed in.

    A queryset update: these facts are not changes to the account and must not add a
    history row at every sign-in.
    """
    user.last_login = timezone.now()
    user.last_login_ip = ip
    user.last_login_device = user_agent_describe(user_agent)
    User.objects.filter(pk=user.pk).update(
        last_login=user.last_login,
        last_login_ip=user.last_login_ip,
        last_login_device=user.last_login_device,
    )
    return user


# --- sign-in events --------------------------------------------------------------


def login_event_record(
    *,
    kind: str,
    username: str,
    user: User | None,
    ip: str | None,
    user_agent: str,
) -> LoginEvent:
    """Write one sign-in event, with the device, browser and OS of its user agent."""
    parsed = parse_user_agent(user_agent or "")
    if parsed.is_mobile:
        device = "mobile"
    elif parsed.is_tablet:
        device = "tablet"
    elif parsed.is_pc:
        device = "desktop"
    elif parsed.is_bot:
        device = "bot"
    else:
        device = "other" if user_agent else ""
    return LoginEvent.objects.create(
        kind=kind,
        username=(username or "")[:150],
        user=user,
        ip=ip,
        user_agent=(user_agent or "")[:500],
        device_type=device,
        browser=(
            f"{parsed.browser.family} {parsed.browser.version_string}".strip()
            if user_agent
            else ""
        ),
        os=(
            f"{parsed.os.family} {parsed.os.version_string}".strip()
            if user_agent
            else ""
        ),
    )


# --- care teams ------------------------------------------------------------------

E_TEAM_NAME_TAKEN = "A care team or role with this name exists already."


@transaction.atomic
def care_team_create(
    *, acting_user: User, name: str, description: str = ""
) -> CareTeam:
    """A care team and the group that carries its members and its charts' grants."""
    name = (name or "").strip()
    if Group.objects.filter(name=name).exists():
        raise ServiceError({"name": E_TEAM_NAME_TAKEN})
    team = CareTeam(name=name, description=description)
    team.group = Group.objects.create(name=name)
    team.full_clean()
    history_note(team, user=acting_user, reason="Care team created")
    team.save()
    return team


@transaction.atomic
def care_team_update(
    *, acting_user: User, team: CareTeam, description: str, reason: str = ""
) -> CareTeam:
    """Describe a team anew (its name is its group's: a renamed team is a new one);
    the change is kept in the team's history with who made it and why; an
    unchanged description writes nothing."""
    if not acting_user.has_perm("users.change_careteam"):
        raise PermissionDenied
    stored = row_lock(team)
    history_note(stored, user=acting_user, reason=reason or "Care team described")
    model_update(
        instance=stored, fields=("description",), data={"description": description}
    )
    team.description = stored.description
    return team


@transaction.atomic
def care_team_set_members(
    *, acting_user: User, team: CareTeam, members, reason: str = ""
) -> None:
    """Make `members` the team's members. Joining gives the team's charts, leaving
    takes them: each change is kept in the user's history and in the audit trail
    (grant, revoke), as a team's grants on charts are."""
    wanted = {user.pk: user for user in members}
    current = {user.pk: user for user in team.group.user_set.all()}
    for pk in wanted.keys() - current.keys():
        user = wanted[pk]
        history_note(user, user=acting_user, reason=reason or f"Joined {team.name}")
        user.groups.add(team.group)
        _membership_audit("grant", acting_user=acting_user, team=team, user=user)
    for pk in current.keys() - wanted.keys():
        user = current[pk]
        history_note(user, user=acting_user, reason=reason or f"Left {team.name}")
        user.groups.remove(team.group)
        _membership_audit("revoke", acting_user=acting_user, team=team, user=user)


def _membership_audit(action: str, *, acting_user, team: CareTeam, user: User) -> None:
    verb = "joined" if action == "grant" else "left"
    audit_object(
        action=action,
        actor=acting_user,
        obj=user,
        summary=f"{user.get_username()} {verb} care team {team.name}",
        details={"team_id": team.pk, "member_id": user.pk},
    )


def care_teams_of(user: User):
    return CareTeam.objects.filter(group__user=user)
