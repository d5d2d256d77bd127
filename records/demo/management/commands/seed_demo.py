"""Create the demo data of a development machine: one account per role and synthetic
patient charts (DEBUG only)."""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from records.demo.accounts import demo_accounts_ensure
from records.demo.charts import DEMO_COUNT, demo_charts_ensure
from records.users import roles
from records.users.models import User

CREDENTIALS_FILE = settings.VAR_DIR / "demo-accounts.json"


def patient_count(value: str) -> int:
    count = int(value)
    if count < 0:
        raise ValueError(value)
    return count


class Command(BaseCommand):
    help = (
        "Create demo accounts (one per role) and synthetic patient charts on a "
        "development machine."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--patients",
            type=patient_count,
            default=DEMO_COUNT,
            metavar="N",
            help=f"How many demo charts to create (default {DEMO_COUNT}; 0 for none).",
        )

    def handle(self, *args, **options) -> None:
        try:
            accounts = demo_accounts_ensure(credentials_path=CREDENTIALS_FILE)
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            "Demo accounts (passwords and authenticator app secrets kept in "
            "var/demo-accounts.json; add the secret to an authenticator app, or "
            "`oathtool --totp -b SECRET` prints the code):"
        )
        for account in accounts:
            self.stdout.write(
                f"  {account.username:<12} {account.password:<20} "
                f"{account.totp_secret:<34} {account.role}"
            )
        count = options["patients"]
        if not count:
            self.stdout.write("Demo charts skipped (--patients 0).")
            return
        # The charts' history names the demo administrator as the one who wrote them.
        admin = User.objects.get(
            username=next(a.username for a in accounts if a.role == roles.ADMINISTRATOR)
        )
        try:
            result = demo_charts_ensure(acting_user=admin, count=count)
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        if not result.patients:
            self.stdout.write("Demo charts already present.")
            return
        self.stdout.write(
            f"Demo charts: {result.patients} patients, {result.assessments} "
            f"assessments, {result.visits} visit records, {result.media} media files."
        )
