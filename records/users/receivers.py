"""Auth signal receivers: they translate the request into arguments for services."""

from django.contrib.auth.signals import user_logged_in

from ndas.net import client_ip
from records.users.services import user_record_login


def on_user_logged_in(sender, request, user, **kwargs) -> None:
    if request is None:
        return
    user_record_login(
        user=user,
        ip=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
    )


def connect() -> None:
    user_logged_in.connect(on_user_logged_in, dispatch_uid="users.record_login")
