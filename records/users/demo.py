"""Demo accounts, one per role, for development machines only (never with DEBUG off)."""

import json
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

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


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    password: str


def _read_credentials(path: Path) -> dict[str, str]:
    try:
        return {
            row["username"]: row["password"] for row in json.loads(path.read_text())
        }
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        return {}


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
        password = known.get(username) or secrets.token_urlsafe(12)
        user, _ = User.objects.get_or_create(
            username=username,
            defaults={"email": f"{username}@demo.invalid", "is_staff": True},
        )
        if not user.check_password(password) or not user.is_staff:
            user.is_staff = True
            user.set_password(password)
            user.save()
        user.groups.add(Group.objects.get(name=role))
        accounts.append(DemoAccount(username=username, role=role, password=password))
    _write_credentials(credentials_path, accounts)
    return accounts
