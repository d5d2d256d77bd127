"""Auth signal receivers: they translate the request into arguments for services."""

from django.contrib.auth.models import update_last_login
from django.contrib.auth.signals import user_logged_in

from ndas.net import client_ip
from records.users.services import user_record_login


def on_user_logged_in(sender, request, user, **kwargs) -> None:
    meta = request.META if request is not None else {}
    user_record_login(
        user=user,
        ip=client_ip(request) if request is not None else None,
        user_agent=meta.get("HTTP_USER_AGENT", ""),
    )


def connect() -> None:
    # Django's own receiver saves the user, which would write a history row per login;
    # ours records last_login together with the IP and device, without one.
    user_logged_in.disconnect(update_last_login, dispatch_uid="update_last_login")
    user_logged_in.connect(on_user_logged_in, dispatch_uid="users.record_login")
