"""Create the demo data of a development machine: one account per role (DEBUG only)."""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from records.users.demo import demo_accounts_ensure

CREDENTIALS_FILE = settings.VAR_DIR / "demo-accounts.json"


class Command(BaseCommand):
    help = "Create demo accounts (one per role) on a development machine."

    def handle(self, *args, **options) -> None:
        try:
            accounts = demo_accounts_ensure(credentials_path=CREDENTIALS_FILE)
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write("Demo accounts (passwords kept in var/demo-accounts.json):")
        for account in accounts:
            self.stdout.write(
                f"  {account.username:<12} {account.password:<20} {account.role}"
            )
