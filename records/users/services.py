"""Writes concerning users."""

from user_agents import parse as parse_user_agent

from records.users.models import User

DEVICE_MAX_LENGTH = User._meta.get_field("last_login_device").max_length


def user_agent_describe(user_agent: str) -> str:
    """'PC / Linux / Chrome 120.0': device type, OS and browser of a User-Agent."""
    if not user_agent:
        return ""
    return str(parse_user_agent(user_agent))[:DEVICE_MAX_LENGTH]


def user_record_login(*, user: User, ip: str | None, user_agent: str) -> User:
    """Remember where and on what device the user last signed in."""
    user.last_login_ip = ip
    user.last_login_device = user_agent_describe(user_agent)
    user.save(update_fields=["last_login_ip", "last_login_device"])
    return user
