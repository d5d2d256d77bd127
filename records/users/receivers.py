"""Auth signal receivers: they translate the request into arguments for services;
and the guard that keeps users from being deleted."""

from axes.signals import user_locked_out
from django.contrib.auth.models import update_last_login
from django.contrib.auth.signals import (
    user_logged_in,
    user_logged_out,
    user_login_failed,
)
from django.db.models import ProtectedError
from django.db.models.signals import pre_delete

from ndas.net import client_ip
from records.users.models import LoginEvent, User
from records.audit.services import audit_record
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
    _audit("login", event)


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
    _audit("login_failure", event)


def on_user_locked_out(sender, request, username, ip_address, **kwargs) -> None:
    _, agent = _origin(request)
    event = login_event_record(
        kind=LoginEvent.Kind.LOCKOUT,
        username=username or "",
        user=User.objects.filter(username=username).first() if username else None,
        ip=ip_address,
        user_agent=agent,
    )
    _audit("lockout", event)


def on_user_logged_out(sender, request, user, **kwargs) -> None:
    ip, agent = _origin(request)
    event = login_event_record(
        kind=LoginEvent.Kind.LOGOUT,
        username=user.get_username() if user else "",
        user=user,
        ip=ip,
        user_agent=agent,
    )
    _audit("logout", event)


def _audit(action: str, event: LoginEvent) -> None:
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
