"""Writes concerning users: sign-in facts and events, care teams, the audit of who
may do or see what, and the end of a user's sessions."""

from collections.abc import Iterable
from importlib import import_module

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from user_agents import parse as parse_user_agent

from records.audit.models import Action, AuditEvent
from records.audit.services import audit_object, audit_record
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
    audit_object(
        action=Action.CREATE,
        actor=acting_user,
        obj=team,
        summary=f"Care team {team.name} created",
        details={"team_id": team.pk, "group_id": team.group_id},
    )
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
    _, changed = model_update(
        instance=stored, fields=("description",), data={"description": description}
    )
    if changed:
        audit_object(
            action=Action.UPDATE,
            actor=acting_user,
            obj=stored,
            summary=f"Care team {stored.name} described anew",
            details={"team_id": stored.pk, "fields": ["description"]},
        )
    team.description = stored.description
    return team


@transaction.atomic
def care_team_set_members(
    *, acting_user: User, team: CareTeam, members, reason: str = ""
) -> None:
    """Make `members` the team's members. Joining gives the team's charts, leaving
    takes them: each change is kept in the user's history and in the audit trail
    (grant, revoke: written by the receiver of every group change, with the
    acting user named here), as a team's grants on charts are."""
    wanted = {user.pk: user for user in members}
    current = {user.pk: user for user in team.group.user_set.all()}
    for pk in wanted.keys() - current.keys():
        user = wanted[pk]
        history_note(user, user=acting_user, reason=reason or f"Joined {team.name}")
        user.groups.add(team.group)
    for pk in current.keys() - wanted.keys():
        user = current[pk]
        history_note(user, user=acting_user, reason=reason or f"Left {team.name}")
        user.groups.remove(team.group)


def care_teams_of(user: User):
    return CareTeam.objects.filter(group__user=user)


# --- who may do or see what: the audit trail of every change -------------------------
#
# Written by records.users.receivers for every change however it is made (an admin
# page, a service, a command, the shell): group memberships (roles and care teams),
# a user's own permissions, a group's permissions, and the flags that open or close
# the site to someone (active, staff, superuser). `actor` is None when nobody signed
# in made the change (a command, the shell, migrate).

# The flags, as the audit trail words their gain and their loss.
PRIVILEGE_FLAGS: dict[str, tuple[str, str]] = {
    "is_active": ("reactivated", "deactivated"),
    "is_staff": ("given staff status (may sign in)", "staff status removed"),
    "is_superuser": ("made superuser", "no longer superuser"),
}


def user_membership_audit(
    *, action: Action, actor: User | None, user: User, group: Group
) -> AuditEvent:
    """One grant or revoke event: `user` joined or left `group` (a role, a care
    team, or any other group)."""
    team = CareTeam.objects.filter(group_id=group.pk).first()
    joined = action == Action.GRANT
    if team is not None:
        verb = "joined" if joined else "left"
        summary = f"{user.get_username()} {verb} care team {team.name}"
        details = {"team_id": team.pk, "member_id": user.pk}
    else:
        verb = "given role" if joined else "no longer holds role"
        summary = f"{user.get_username()} {verb} {group.name}"
        details = {"group_id": group.pk, "member_id": user.pk}
    return audit_object(
        action=action, actor=actor, obj=user, summary=summary, details=details
    )


def user_permissions_audit(
    *, action: Action, actor: User | None, user: User, permission_ids: Iterable[int]
) -> AuditEvent:
    """One grant or revoke event for permissions given to `user` directly."""
    codes = _permission_codes(permission_ids)
    verb = "given permissions" if action == Action.GRANT else "lost permissions"
    return audit_object(
        action=action,
        actor=actor,
        obj=user,
        summary=f"{user.get_username()} {verb}: {', '.join(codes)}",
        details={"member_id": user.pk, "permissions": codes},
    )


def group_permissions_audit(
    *, action: Action, actor: User | None, group: Group, permission_ids: Iterable[int]
) -> AuditEvent | None:
    """One grant or revoke event for the permissions of a group, naming how many
    members it changes; nothing when nobody holds the group (nobody's access
    changes: a role's permissions are first set by migrate before anyone holds
    it)."""
    members = group.user_set.count()
    if not members:
        return None
    codes = _permission_codes(permission_ids)
    verb = "given permissions" if action == Action.GRANT else "lost permissions"
    return audit_object(
        action=action,
        actor=actor,
        obj=group,
        summary=f"{group.name} ({members} members) {verb}: {', '.join(codes)}",
        details={"group_id": group.pk, "members": members, "permissions": codes},
    )


def user_flags_audit(
    *, actor: User | None, user: User, before: dict[str, bool] | None
) -> list[AuditEvent]:
    """Grant and revoke events for each flag of PRIVILEGE_FLAGS that differs from
    `before` (None: the user is new, and each flag set is a grant)."""
    events = []
    for flag, (gained, lost) in PRIVILEGE_FLAGS.items():
        now = bool(getattr(user, flag))
        was = False if before is None else before[flag]
        if now == was:
            continue
        if before is None:
            gained = {"is_active": "created, active"}.get(flag, gained)
        events.append(
            audit_object(
                action=Action.GRANT if now else Action.REVOKE,
                actor=actor,
                obj=user,
                summary=f"{user.get_username()} {gained if now else lost}",
                details={"member_id": user.pk, "flag": flag, "value": now},
            )
        )
    return events


def user_password_changed_audit(*, actor: User, user: User) -> AuditEvent:
    """A password changed, by its owner or set by an administrator: who may sign
    in as the user changed. (Not from a signal: Django re-hashes a password at
    sign-in when its hasher's settings change, which is no change of password.)"""
    by_owner = actor.pk == user.pk
    return audit_object(
        action=Action.UPDATE,
        actor=actor,
        obj=user,
        summary=(
            f"{user.get_username()} changed their password"
            if by_owner
            else f"password of {user.get_username()} set by an administrator"
        ),
        details={"member_id": user.pk, "password": "changed"},
    )


def lockout_lifted_audit(*, actor: User, username: str, attempt_id: int) -> AuditEvent:
    """A sign-in lockout removed by hand: the username may sign in again."""
    return audit_record(
        action=Action.GRANT,
        actor=actor,
        object_type="axes.accessattempt",
        object_id=attempt_id,
        summary=f"sign-in lockout lifted for {username}"[:300],
        details={"lockout": "lifted"},
    )


def user_chart_grant_audit(*, action: Action, actor: User | None, grant) -> AuditEvent:
    """A chart opened to one user directly (django-guardian's per-user grant, which
    patients_visible_to honours), or closed again: no service makes these, so this
    is the trace of one made from the shell."""
    code = f"{grant.permission.content_type.app_label}.{grant.permission.codename}"
    verb = "given" if action == Action.GRANT else "lost"
    chart = grant.content_object_id
    return audit_record(
        action=action,
        actor=actor,
        object_type=grant._meta.label_lower,
        object_id=grant.pk,
        patient_id=chart,
        summary=f"{grant.user.get_username()} {verb} {code} on chart {chart}",
        details={"member_id": grant.user_id, "permission": code},
    )


def _permission_codes(permission_ids: Iterable[int]) -> list[str]:
    return sorted(
        f"{p.content_type.app_label}.{p.codename}"
        for p in Permission.objects.filter(pk__in=list(permission_ids)).select_related(
            "content_type"
        )
    )


# --- sessions ----------------------------------------------------------------------


def user_sessions_end(*, user: User) -> int:
    """End every session of `user`: each row goes, with its cached copy where the
    engine keeps one (cached_db), so nothing is left for a reactivation to bring
    back. Sessions are not indexed by user: each stored session is decoded (a
    deactivation is rare; clearsessions keeps the table to live sessions). Returns
    how many ended."""
    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    decoder = store_class()
    user_id = str(user.pk)
    keys = [
        key
        for key, data in store_class.get_model_class()
        .objects.values_list("session_key", "session_data")
        .iterator()
        if decoder.decode(data).get(SESSION_KEY) == user_id
    ]
    for key in keys:
        # The engine's own delete: the row, and the cached copy (cached_db).
        store_class(session_key=key).delete()
    return len(keys)
