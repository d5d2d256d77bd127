"""Auth signal receivers: they translate the request into arguments for services;
the audit of every change of who may do or see what, however it is made; and the
guard that keeps users from being deleted."""

from axes.signals import user_locked_out
from django.contrib.auth.models import Group, update_last_login
from django.contrib.auth.signals import (
    user_logged_in,
    user_logged_out,
    user_login_failed,
)
from django.db import transaction
from django.db.models import ProtectedError
from django.db.models.signals import (
    m2m_changed,
    post_save,
    pre_delete,
    pre_save,
)
from simple_history.models import HistoricalRecords

from records.audit.models import Action
from records.audit.services import audit_record
from records.common.net import client_ip
from records.users import services
from records.users.models import LoginEvent, User
from records.users.services import login_event_record, user_record_login


def _origin(request) -> tuple[str | None, str]:
    if request is None:
        return None, ""
    return client_ip(request), request.META.get("HTTP_USER_AGENT", "")


def on_user_logged_in(sender, request, user, **kwargs) -> None:
    ip, agent = _origin(request)
    user_record_login(user=user, ip=ip, user_agent=agent)
    event = login_event_record(
        kind=LoginEvent.Kind.SUCCESS,
        username=user.get_username(),
        user=user,
        ip=ip,
        user_agent=agent,
    )
    _audit(Action.LOGIN, event)


def on_user_login_failed(sender, credentials, request=None, **kwargs) -> None:
    ip, agent = _origin(request)
    username = (credentials or {}).get("username") or ""
    event = login_event_record(
        kind=LoginEvent.Kind.FAILURE,
        username=username,
        user=User.objects.filter(username=username).first() if username else None,
        ip=ip,
        user_agent=agent,
    )
    _audit(Action.LOGIN_FAILURE, event)


def on_user_locked_out(sender, request, username, ip_address, **kwargs) -> None:
    _, agent = _origin(request)
    event = login_event_record(
        kind=LoginEvent.Kind.LOCKOUT,
        username=username or "",
        user=User.objects.filter(username=username).first() if username else None,
        ip=ip_address,
        user_agent=agent,
    )
    _audit(Action.LOCKOUT, event)


def on_user_logged_out(sender, request, user, **kwargs) -> None:
    ip, agent = _origin(request)
    event = login_event_record(
        kind=LoginEvent.Kind.LOGOUT,
        username=user.get_username() if user else "",
        user=user,
        ip=ip,
        user_agent=agent,
    )
    _audit(Action.LOGOUT, event)


def _audit(action: Action, event: LoginEvent) -> None:
    audit_record(
        action=action,
        actor=event.user,
        actor_username=event.username,
        ip=event.ip,
        object_type="users.loginevent",
        object_id=event.pk,
        summary=f"{event.get_kind_display()}: {event.username}",
    )


E_USER_DELETE = (
    "Users are deactivated, never deleted: their name stays on what they did."
)


def on_user_delete(sender, instance, **kwargs) -> None:
    """Refuse before anything is written: Django would otherwise empty the user
    from every history row they wrote (simple-history's history_user is SET_NULL)."""
    raise ProtectedError(E_USER_DELETE, {instance})


# --- who may do or see what ----------------------------------------------------------
#
# m2m_changed and pre_save/post_save are sent however a change is made: an admin page,
# a service, manage.py (createsuperuser, migrate's role sync), the shell. Not sent by
# queryset.update() or bulk writes of the through tables, which nothing here uses.

# The through tables audited, each with its owner's and its target's field.
_GROUPS = User.groups.through
_USER_PERMISSIONS = User.user_permissions.through
_GROUP_PERMISSIONS = Group.permissions.through
_THROUGH_FIELDS = {
    _GROUPS: ("user", "group"),
    _USER_PERMISSIONS: ("user", "permission"),
    _GROUP_PERMISSIONS: ("group", "permission"),
}
_CLEARED = "_ndas_cleared"
_FLAGS_BEFORE = "_ndas_flags_before"


def _acting_user(instance=None):
    """Who makes a change: the user a service named for it (history_note), else the
    signed-in user of the current request, else nobody (a command, the shell)."""
    user = getattr(instance, "_history_user", None)
    if user is not None:
        return user
    request = getattr(HistoricalRecords.context, "request", None)
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user
    return None


def _pairs(sender, instance, action, reverse, pk_set):
    """The grant or revoke, and the (owner id, target id) pairs of a change, as seen
    from the side declaring the relation (the user's groups and permissions, the
    group's permissions); ("", []) when there is nothing to audit."""
    owner, target = _THROUGH_FIELDS[sender]
    if reverse:
        owner, target = target, owner
    if action == "pre_clear":
        # clear() names nothing: remember what is there before it goes.
        rows = sender.objects.filter(**{f"{owner}_id": instance.pk})
        cleared = instance.__dict__.setdefault(_CLEARED, {})
        cleared[sender] = set(rows.values_list(f"{target}_id", flat=True))
        return "", []
    if action == "post_clear":
        pk_set = instance.__dict__.get(_CLEARED, {}).pop(sender, set())
    elif action not in ("post_add", "post_remove"):
        return "", []
    grant = Action.GRANT if action == "post_add" else Action.REVOKE
    pairs = [(instance.pk, pk) for pk in sorted(pk_set or ())]
    if reverse:
        pairs = [(pk, instance.pk) for pk in sorted(pk_set or ())]
    return grant, pairs


def on_groups_changed(sender, instance, action, reverse, pk_set, **kwargs) -> None:
    """A user joins or leaves a role, a care team or any group: one event each."""
    grant, pairs = _pairs(sender, instance, action, reverse, pk_set)
    if not pairs:
        return
    actor = _acting_user(instance)
    users = User.objects.in_bulk({user_id for user_id, _ in pairs})
    groups = Group.objects.in_bulk({group_id for _, group_id in pairs})
    if not reverse:
        users[instance.pk] = instance
    for user_id, group_id in pairs:
        services.user_membership_audit(
            action=grant, actor=actor, user=users[user_id], group=groups[group_id]
        )


def on_user_permissions_changed(
    sender, instance, action, reverse, pk_set, **kwargs
) -> None:
    """Permissions given to or taken from users directly: one event per user."""
    grant, pairs = _pairs(sender, instance, action, reverse, pk_set)
    if not pairs:
        return
    actor = _acting_user(instance)
    users = {} if reverse else {instance.pk: instance}
    users.update(User.objects.in_bulk({u for u, _ in pairs} - users.keys()))
    for user_id, user in sorted(users.items()):
        services.user_permissions_audit(
            action=grant,
            actor=actor,
            user=user,
            permission_ids=[p for u, p in pairs if u == user_id],
        )


def on_group_permissions_changed(
    sender, instance, action, reverse, pk_set, **kwargs
) -> None:
    """A role's (or any group's) permissions change for everyone holding it."""
    grant, pairs = _pairs(sender, instance, action, reverse, pk_set)
    if not pairs:
        return
    actor = _acting_user(instance)
    for group in Group.objects.filter(pk__in={g for g, _ in pairs}).order_by("pk"):
        services.group_permissions_audit(
            action=grant,
            actor=actor,
            group=group,
            permission_ids=[p for g, p in pairs if g == group.pk],
        )


def on_group_delete(sender, instance, **kwargs) -> None:
    """A group deleted with members in it: the database removes the memberships
    without any m2m signal, so each is recorded here, before it goes."""
    actor = _acting_user(instance)
    for user in instance.user_set.order_by("pk"):
        services.user_membership_audit(
            action=Action.REVOKE, actor=actor, user=user, group=instance
        )


def on_user_pre_save(sender, instance, raw=False, update_fields=None, **kwargs):
    """Remember the flags as stored, to compare them once the save is done."""
    instance.__dict__.pop(_FLAGS_BEFORE, None)
    flags = tuple(services.PRIVILEGE_FLAGS)
    if raw or (update_fields is not None and not set(update_fields) & set(flags)):
        return
    stored = None
    if not instance._state.adding:
        stored = User.objects.filter(pk=instance.pk).values(*flags).first()
    instance.__dict__[_FLAGS_BEFORE] = stored


def on_user_post_save(sender, instance, created, raw=False, **kwargs) -> None:
    """Grant and revoke events for the flags that changed (all of them for a new
    user); a deactivation ends every session of the user once it is committed."""
    if _FLAGS_BEFORE not in instance.__dict__:
        return
    before = None if created else instance.__dict__.pop(_FLAGS_BEFORE)
    instance.__dict__.pop(_FLAGS_BEFORE, None)
    services.user_flags_audit(
        actor=_acting_user(instance), user=instance, before=before
    )
    if before is not None and before["is_active"] and not instance.is_active:
        transaction.on_commit(lambda: services.user_sessions_end(user=instance))


def connect() -> None:
    # Django's own receiver saves the user, which would write a history row per login;
    # ours records last_login together with the IP and device, without one.
    user_logged_in.disconnect(update_last_login, dispatch_uid="update_last_login")
    user_logged_in.connect(on_user_logged_in, dispatch_uid="users.record_login")
    user_login_failed.connect(on_user_login_failed, dispatch_uid="users.login_failed")
    user_locked_out.connect(on_user_locked_out, dispatch_uid="users.locked_out")
    user_logged_out.connect(on_user_logged_out, dispatch_uid="users.logged_out")
    # An instance's delete() and a queryset's alike (a receiver stops fast deletes).
    pre_delete.connect(on_user_delete, sender=User, dispatch_uid="users.never_deleted")
    # Who may do or see what: every change is an audit event.
    m2m_changed.connect(on_groups_changed, sender=_GROUPS, dispatch_uid="users.groups")
    m2m_changed.connect(
        on_user_permissions_changed,
        sender=_USER_PERMISSIONS,
        dispatch_uid="users.user_permissions",
    )
    m2m_changed.connect(
        on_group_permissions_changed,
        sender=_GROUP_PERMISSIONS,
        dispatch_uid="users.group_permissions",
    )
    pre_delete.connect(on_group_delete, sender=Group, dispatch_uid="users.group_gone")
    # Chart grants to one user: records.patients.receivers, from the patients app.
    pre_save.connect(on_user_pre_save, sender=User, dispatch_uid="users.flags_before")
    post_save.connect(on_user_post_save, sender=User, dispatch_uid="users.flags_after")
