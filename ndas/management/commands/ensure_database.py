"""Create the configured PostgreSQL database if it is missing (used by `make run`)."""

import psycopg
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from psycopg import sql

START_HINT = (
    "start it with: pg_ctlcluster --skip-systemctl-redirect "
    "$(ls /etc/postgresql) main start   (or: sudo service postgresql start)"
)


def _where(db: dict) -> str:
    return f"{db.get('HOST') or 'local socket'}:{db.get('PORT') or 5432}"


class Command(BaseCommand):
    help = "Create the database named by DATABASE_URL if it does not exist."

    def handle(self, *args, **options) -> None:
        db = settings.DATABASES["default"]
        params = {
            "dbname": "postgres",
            "host": db.get("HOST") or None,
            "port": db.get("PORT") or None,
            "user": db.get("USER") or None,
            "password": db.get("PASSWORD") or None,
            "connect_timeout": 5,
        }
        try:
            connection = psycopg.connect(autocommit=True, **params)
        except psycopg.OperationalError as exc:
            first_line = (str(exc).strip().splitlines() or ["no answer"])[0]
            reason = first_line.rsplit(": ", 1)[-1]
            raise CommandError(
                f"PostgreSQL is not reachable at {_where(db)} ({reason}); {START_HINT}"
            ) from exc
        with connection:
            exists = connection.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]]
            ).fetchone()
            if exists:
                self.stdout.write(f"Database {db['NAME']} exists.")
                return
            connection.execute(
                sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db["NAME"]))
            )
            self.stdout.write(f"Created database {db['NAME']}.")
