"""Writes concerning users."""

from django.utils import timezone
from user_agents import parse as parse_user_agent

from records.users.models import User

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
