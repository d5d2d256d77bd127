"""Demo accounts, one per role, for development machines only (never with DEBUG off)."""

import json
import os
import secrets
from base64 import b32decode, b32encode
from dataclasses import asdict, dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from records.users import roles
from records.users.models import User

E_NOT_DEBUG = (
    "Demo accounts are only created with DEBUG on; this looks like production."
)

DEMO_ACCOUNTS = (
    ("admin", roles.ADMINISTRATOR),
    ("clinician", roles.CLINICIAN),
    ("datamanager", roles.DATA_MANAGER),
    ("auditor", roles.AUDITOR),
)
# Staff are shown by full name (letters are signed with it, pickers list it).
DEMO_NAMES = {
    "admin": ("Alex", "Morgan"),
    "clinician": ("Priya", "Shah"),
    "datamanager": ("Tom", "Fletcher"),
    "auditor": ("Grace", "Okafor"),
}


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    password: str
    # The authenticator app's secret (base32, as apps and oathtool take it): every
    # role must pass a second factor (records.users.mfa).
    totp_secret: str = ""


def _read_credentials(path: Path) -> dict[str, dict]:
    try:
        return {row["username"]: row for row in json.loads(path.read_text())}
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        return {}


DEMO_APP_NAME = "Demo authenticator app"


def _demo_app_ensure(user: User, secret: str) -> str:
    """A confirmed authenticator app with the kept secret (a new one if none)."""
    try:
        key = b32decode(secret.upper() + "=" * (-len(secret) % 8)).hex()
    except ValueError:
        key = ""
    device = TOTPDevice.objects.filter(user=user, name=DEMO_APP_NAME).first()
    if not key:
        if device is not None:
            return b32encode(device.bin_key).decode().rstrip("=")
        key = secrets.token_hex(20)
    if device is None:
        device = TOTPDevice(user=user, name=DEMO_APP_NAME)
    if device.key != key or not device.confirmed:
        device.key = key
        device.confirmed = True
        device.save()
    return b32encode(device.bin_key).decode().rstrip("=")


def _write_credentials(path: Path, accounts: list[DemoAccount]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Readable by the developer alone: these are working passwords.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump([asdict(account) for account in accounts], handle, indent=2)


@transaction.atomic
def demo_accounts_ensure(*, credentials_path: Path) -> list[DemoAccount]:
    """Create or repair the demo accounts; passwords are made once and kept in a file.

    Re-running changes nothing while the file and the accounts agree.
    """
    if not settings.DEBUG:
        raise ImproperlyConfigured(E_NOT_DEBUG)
    known = _read_credentials(credentials_path)
    accounts = []
    for username, role in DEMO_ACCOUNTS:
        kept = known.get(username) or {}
        password = kept.get("password") or secrets.token_urlsafe(12)
        user, _ = User.objects.get_or_create(
            username=username,
            defaults={"email": f"{username}@demo.invalid", "is_staff": True},
        )
        if not user.check_password(password) or not user.is_staff:
            user.is_staff = True
            user.set_password(password)
            user.save()
        first, last = DEMO_NAMES[username]
        if not (user.first_name or user.last_name):
            user.first_name, user.last_name = first, last
            user.save(update_fields=["first_name", "last_name"])
        user.groups.add(Group.objects.get(name=role))
        secret = _demo_app_ensure(user, kept.get("totp_secret") or "")
        accounts.append(
            DemoAccount(
                username=username, role=role, password=password, totp_secret=secret
            )
        )
    _write_credentials(credentials_path, accounts)
    return accounts
