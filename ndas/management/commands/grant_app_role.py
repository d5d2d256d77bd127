"""Grant the application's database role what it needs, after every migrate."""

from django.core.management.base import BaseCommand, CommandError

from ndas.database_roles import app_role_grant


class Command(BaseCommand):
    help = (
        "Run as the database owner after `migrate`: grant ROLE read and write on "
        "the app's tables (the audit trail: read, and append through "
        "audit_append()), no DDL, and check it owns nothing."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("role", help="the role web and housekeeping connect as")

    def handle(self, *args, role: str, **options) -> None:
        try:
            app_role_grant(role)
        except ValueError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Granted the application role {role}.")
