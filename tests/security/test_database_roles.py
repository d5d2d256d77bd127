"""The application's database role (manage.py grant_app_role) reads and writes the
app's tables, appends audit events through audit_append() alone, and can neither
change the audit trail, switch off its triggers, nor create a table.
(One module past 400 lines: one role, probed table by table, around one fixture.)

Each test makes a login role as deploy/postgres/initdb/10-ndas-roles.sh does (its
name unique to the run), grants it with the command, connects as it, and drops it.
"""

import io
import os
import secrets
import subprocess
import sys
from urllib.parse import quote

import psycopg
import pytest
import yaml
from django.core.management import CommandError, call_command
from django.db import connection
from psycopg import errors, sql

from ndas.database_roles import (
    E_ROLE_IS_CURRENT,
    E_ROLE_MISSING,
    E_ROLE_PROBLEMS,
    app_role_problems,
)
from records.audit.models import AuditEvent
from records.audit.services import audit_record
from records.audit.verify import audit_chain_verify
from records.imports.models import ImportJob
from records.patients.models import Patient
from records.users import roles
from tests import factories
from tests.helpers import BASE_DIR

# The grants must be committed for another connection to see them.
pytestmark = pytest.mark.django_db(transaction=True)

AUDIT = "audit_auditevent"
POSTGRES_DEPLOY = BASE_DIR / "deploy" / "postgres"
INIT_SCRIPT = POSTGRES_DEPLOY / "initdb" / "10-ndas-roles.sh"
ADOPT_SQL = POSTGRES_DEPLOY / "adopt-owner.sql"
CREATE_ROLE = (
    "CREATE ROLE {role} LOGIN PASSWORD {password} "
    "NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT"
)


@pytest.fixture
def app_role():
    """(name, password) of a fresh login role, granted by the command."""
    role = f"ndas_app_test_{secrets.token_hex(6)}"
    password = secrets.token_urlsafe(24)
    with connection.cursor() as cursor:
        cursor.execute(
            sql.SQL(CREATE_ROLE).format(
                role=sql.Identifier(role), password=sql.Literal(password)
            )
        )
    out = io.StringIO()
    call_command("grant_app_role", role, stdout=out)
    assert f"Granted the application role {role}." in out.getvalue()
    yield role, password
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")
        cursor.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
        cursor.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


@pytest.fixture
def as_app(app_role):
    """A psycopg connection of the application role (autocommit)."""
    role, password = app_role
    settings = connection.settings_dict
    conn = psycopg.connect(
        dbname=settings["NAME"],
        host=settings.get("HOST") or None,
        port=settings.get("PORT") or None,
        user=role,
        password=password,
        autocommit=True,
    )
    yield conn
    conn.close()


class acting_as:
    """Django's own connection switched to `role` (SET ROLE): the services' code
    runs with exactly the role's privileges."""

    def __init__(self, role: str):
        self.role = role

    def __enter__(self):
        with connection.cursor() as cursor:
            cursor.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(self.role)))
            cursor.execute("SELECT current_user")
            assert cursor.fetchone() == (self.role,)

    def __exit__(self, *exc):
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")


def refused(conn, statement: str, params=None) -> None:
    with pytest.raises(errors.InsufficientPrivilege):
        conn.execute(statement, params)


def appended(conn) -> int:
    """An event appended by the role through audit_append(), as audit_record does."""
    template = (
        '{"action":"view","id":"@ID@","ip":null,"prev_hash":"@PREV@"}'  # hashed only
    )
    row = conn.execute(
        "SELECT * FROM audit_append(%s, now(), NULL, 'app', NULL, '', 'view', '', "
        "'', NULL, 'by the app role', '{}'::jsonb)",
        [template],
    ).fetchone()
    return row[0]


def test_the_role_cannot_insert_audit_events_directly(as_app):
    refused(
        as_app,
        f"INSERT INTO {AUDIT} (at, actor_username, request_id, action, object_type, "
        "object_id, summary, details, prev_hash, hash) VALUES (now(), 'x', '', "
        "'view', '', '', 'forged', '{}', repeat('0', 64), repeat('f', 64))",
    )
    refused(as_app, "SELECT nextval(pg_get_serial_sequence(%s, 'id'))", [AUDIT])
    assert not AuditEvent.objects.filter(summary="forged").exists()


def test_the_role_cannot_change_or_remove_audit_events(as_app):
    event_id = appended(as_app)
    refused(as_app, f"UPDATE {AUDIT} SET summary = 'changed' WHERE id = %s", [event_id])
    refused(as_app, f"DELETE FROM {AUDIT} WHERE id = %s", [event_id])
    refused(as_app, f"TRUNCATE {AUDIT}")
    assert AuditEvent.objects.get(pk=event_id).summary == "by the app role"


def test_the_role_cannot_switch_off_the_triggers_or_alter_tables(as_app):
    refused(as_app, f"ALTER TABLE {AUDIT} DISABLE TRIGGER USER")
    refused(as_app, f"ALTER TABLE {AUDIT} DISABLE TRIGGER audit_event_no_update_delete")
    refused(as_app, "ALTER TABLE patients_patient ADD COLUMN x int")
    refused(as_app, "DROP TABLE patients_patient")
    refused(as_app, "DROP FUNCTION audit_event_refuse_change() CASCADE")
    refused(
        as_app,
        "CREATE OR REPLACE FUNCTION audit_event_refuse_change() "
        "RETURNS trigger LANGUAGE sql AS 'SELECT NULL'",
    )


def test_the_role_cannot_create_tables_or_schemas(as_app):
    refused(as_app, "CREATE TABLE ndas_role_test (id int)")
    refused(as_app, "CREATE SCHEMA ndas_role_test")
    refused(
        as_app,
        "INSERT INTO django_migrations (app, name, applied) "
        "VALUES ('audit', '9999_forged', now())",
    )


def test_the_role_appends_through_audit_append_and_the_chain_holds(as_app, app_role):
    before = AuditEvent.objects.count()
    appended(as_app)
    # The service itself, on Django's connection, as the role.
    with acting_as(app_role[0]):
        event = audit_record(action="view", actor_username="app", summary="service")
    assert AuditEvent.objects.count() == before + 2
    assert AuditEvent.objects.get(pk=event.pk).hash == event.hash
    # Linked to the role's own event before it. (That one hashes a template that
    # is not its row: verify_audit reports such an event as altered.)
    assert audit_chain_verify(since=event.pk).intact


def test_the_role_reads_and_writes_patients(as_app, app_role):
    admin = factories.clinician("owner-made")
    with acting_as(app_role[0]):
        patient = factories.patient(acting_user=admin)
        Patient.objects.filter(pk=patient.pk).update(given_name="Renamed")
        assert Patient.objects.get(pk=patient.pk).given_name == "Renamed"
        assert patient.history.count() == 1
    assert as_app.execute(
        "SELECT given_name FROM patients_patient WHERE id = %s", [patient.pk]
    ).fetchone() == ("Renamed",)
    as_app.execute(
        "UPDATE patients_patient SET given_name = 'Again' WHERE id = %s", [patient.pk]
    )
    as_app.execute("CREATE TEMP TABLE scratch (id int)")  # imports stage rows so
    # The search's trigram functions (pg_trgm's, in the schema) stay callable.
    assert as_app.execute(
        "SELECT count(*) FROM patients_patient WHERE family_name %% %s", ["Quenard"]
    ).fetchone() == (1,)


def test_the_role_runs_an_import(app_role, make_user, tmp_path):
    """Temporary staging tables, LOCK TABLE, COPY, history and audit rows."""
    make_user("bulk", roles=[roles.ADMINISTRATOR])
    path = tmp_path / "referrals.csv"
    path.write_text(
        "mrn,given_name,family_name,date_of_birth,sex\n"
        "ROL-0001,Talvi,Quennard,2025-03-14,female\n"
    )
    with acting_as(app_role[0]):
        call_command(
            "import_records",
            "patients",
            str(path),
            "--user",
            "bulk",
            "--reason",
            "role test",
            "--no-care-team",
            stdout=io.StringIO(),
        )
    assert Patient.objects.filter(mrn="ROL-0001").exists()
    assert ImportJob.objects.exists()
    assert audit_chain_verify().intact


def test_a_new_table_is_granted_when_the_command_runs_again(app_role, as_app):
    role = app_role[0]
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE ndas_role_later (id int)")  # a migration's
    try:
        refused(as_app, "INSERT INTO ndas_role_later VALUES (1)")
        call_command("grant_app_role", role, stdout=io.StringIO())
        as_app.execute("INSERT INTO ndas_role_later VALUES (1)")
        # A grant made by hand is taken back by the next run.
        with connection.cursor() as cursor:
            cursor.execute(
                sql.SQL("GRANT INSERT ON {} TO {}").format(
                    sql.Identifier(AUDIT), sql.Identifier(role)
                )
            )
        assert app_role_problems(role) == [f"may INSERT on {AUDIT}"]
        call_command("grant_app_role", role, stdout=io.StringIO())
        assert app_role_problems(role) == []
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE ndas_role_later")


def test_a_role_that_acts_as_the_owner_is_refused(app_role):
    role = app_role[0]
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        (owner,) = cursor.fetchone()
        cursor.execute(
            sql.SQL("GRANT {} TO {}").format(
                sql.Identifier(owner), sql.Identifier(role)
            )
        )
    try:
        with pytest.raises(CommandError) as caught:
            call_command("grant_app_role", role, stdout=io.StringIO())
        assert str(caught.value) == E_ROLE_PROBLEMS.format(
            role=role, problems="is a member of the owner (and so acts as it)"
        )
    finally:
        with connection.cursor() as cursor:
            cursor.execute(
                sql.SQL("REVOKE {} FROM {}").format(
                    sql.Identifier(owner), sql.Identifier(role)
                )
            )


def test_a_missing_role_or_the_owner_itself_is_refused():
    with pytest.raises(CommandError) as caught:
        call_command("grant_app_role", "ndas_no_such_role", stdout=io.StringIO())
    assert str(caught.value) == E_ROLE_MISSING.format(role="ndas_no_such_role")
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        (owner,) = cursor.fetchone()
    with pytest.raises(CommandError) as caught:
        call_command("grant_app_role", owner, stdout=io.StringIO())
    assert str(caught.value) == E_ROLE_IS_CURRENT.format(role=owner)


class Server:
    """A database of its own on the test server, with an owner and an application
    role named for this run: the compose stack's database, made as it makes it."""

    def __init__(self):
        settings = connection.settings_dict
        run = secrets.token_hex(5)
        self.database = f"ndas_init_{run}"
        self.owner, self.app = f"ndas_own_{run}", f"ndas_app_{run}"
        self.passwords = {
            self.owner: secrets.token_urlsafe(16),
            self.app: "it's " + run,
        }
        self.params = {
            "host": settings.get("HOST") or None,
            "port": settings.get("PORT") or None,
            "user": settings.get("USER") or None,
            "password": settings.get("PASSWORD") or None,
        }

    def __enter__(self):
        self.admin = psycopg.connect(dbname="postgres", autocommit=True, **self.params)
        self.admin.execute(
            sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.database))
        )
        return self

    def __exit__(self, *exc):
        self.admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(self.database)
            )
        )
        for role in (self.app, self.owner):
            self.admin.execute(
                sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role))
            )
        self.admin.close()

    def psql_env(self) -> dict:
        env = {
            **os.environ,
            "POSTGRES_USER": self.admin.info.user,
            "POSTGRES_DB": self.database,
            "NDAS_DB_OWNER": self.owner,
            "NDAS_DB_OWNER_PASSWORD": self.passwords[self.owner],
            "NDAS_DB_APP_USER": self.app,
            "NDAS_DB_APP_PASSWORD": self.passwords[self.app],
            "PGHOST": self.params["host"] or "",
            "PGPORT": str(self.params["port"] or ""),
            "PGPASSWORD": self.params["password"] or "",
        }
        return {key: value for key, value in env.items() if value != ""}

    def url(self, user: str | None) -> str:
        """DATABASE_URL as `user` (None: the test server's own superuser)."""
        host = self.params["host"] or ""
        port = f":{self.params['port']}" if self.params["port"] else ""
        if user is None:
            user, password = self.admin.info.user, self.params["password"] or ""
        else:
            password = self.passwords[user]
        credentials = f"{quote(user)}:{quote(password, safe='')}"
        return f"postgres://{credentials}@{host}{port}/{self.database}"

    def manage(self, user: str | None, *command: str) -> None:
        subprocess.run(
            [sys.executable, str(BASE_DIR / "manage.py"), *command],
            env={**os.environ, "DATABASE_URL": self.url(user)},
            check=True,
            timeout=300,
        )

    def init_script(self) -> None:
        subprocess.run(["sh", str(INIT_SCRIPT)], env=self.psql_env(), check=True)

    def check_roles(self) -> None:
        params = {**self.params, "user": self.app, "password": self.passwords[self.app]}
        with psycopg.connect(dbname=self.database, autocommit=True, **params) as conn:
            conn.execute("SELECT count(*) FROM patients_patient")
            refused(conn, "CREATE TABLE ndas_role_test (id int)")
            refused(conn, f"ALTER TABLE {AUDIT} DISABLE TRIGGER USER")
            refused(conn, f"DELETE FROM {AUDIT}")
            owners = conn.execute(
                "SELECT DISTINCT pg_get_userbyid(relowner) FROM pg_class "
                "WHERE relnamespace = current_schema()::regnamespace"
            ).fetchall()
            assert owners == [(self.owner,)]
            definer = conn.execute(
                "SELECT pg_get_userbyid(proowner), prosecdef FROM pg_proc "
                "WHERE proname = 'audit_append'"
            ).fetchone()
            assert definer == (self.owner, True)


def test_the_init_script_then_migrate_as_the_owner_then_grant():
    """The compose stack on a fresh server: the postgres image's init script makes
    the roles, migrate runs as the owner (no superuser), then grant_app_role."""
    with Server() as server:
        server.init_script()
        server.manage(server.owner, "migrate", "--no-input", "-v0")
        server.manage(server.owner, "grant_app_role", server.app)
        server.check_roles()


def test_a_database_made_by_the_superuser_is_adopted_by_the_owner():
    """An existing stack (tables owned by the image's superuser): the init script
    run by hand, then adopt-owner.sql, then the migrate service as usual."""
    with Server() as server:
        server.manage(None, "migrate", "--no-input", "-v0")
        server.init_script()
        subprocess.run(
            ["psql", "-v", "ON_ERROR_STOP=1", "-q", "-d", server.database]
            + ["-v", f"owner={server.owner}", "-f", str(ADOPT_SQL)],
            env=server.psql_env(),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        server.manage(server.owner, "migrate", "--no-input", "-v0")
        server.manage(server.owner, "grant_app_role", server.app)
        server.check_roles()


def test_the_compose_stack_keeps_owner_secrets_from_the_application():
    compose = yaml.safe_load((BASE_DIR / "docker-compose.prod.yml").read_text())
    services = compose["services"]
    secrets_ = ("POSTGRES_PASSWORD", "NDAS_DB_OWNER_PASSWORD", "MIGRATE_DATABASE_URL")
    for name in ("web", "worker", "beat", "migrate"):
        environment = services[name]["environment"]
        assert all(environment[key] == "" for key in secrets_), name
    assert "DATABASE_URL" not in services["web"]["environment"]  # the app's own
    assert services["migrate"]["environment"]["DATABASE_URL"].startswith(
        "${MIGRATE_DATABASE_URL"
    )
    command = services["migrate"]["command"][-1]
    assert command.index("manage.py migrate") < command.index(
        "manage.py grant_app_role"
    )
    assert "./deploy/postgres/initdb:/docker-entrypoint-initdb.d:ro" in (
        services["db"]["volumes"]
    )
