"""The application's database role: what it may do, granted and then checked.

Production runs with two roles (README, "Deploying with docker compose"): an owner,
who owns the database and every table and runs the migrations, and the application
role web and housekeeping connect as. The application role reads and writes the
app's tables, but owns nothing and creates nothing, so it can neither switch off
the audit table's triggers nor drop a table; it cannot INSERT, UPDATE, DELETE or
TRUNCATE audit events either: it appends them only by calling audit_append(), which
runs as its owner (migration audit 0005).

`app_role_grant` is run by the owner after every `migrate` (`manage.py
grant_app_role`), so tables added by a migration are granted too.
"""

from django.db import connection
from psycopg import sql

from records.audit.models import AuditEvent

E_ROLE_MISSING = (
    "There is no database role {role!r}: create it first (README, "
    '"Deploying with docker compose").'
)
E_ROLE_IS_CURRENT = (
    "{role!r} is the role running this command (the owner): the application must "
    "connect as a role of its own."
)
E_ROLE_PROBLEMS = (
    "The database role {role!r} may do more than the application needs: {problems}."
)

# The application appends to these only through audit_append(): SELECT alone.
APPEND_ONLY_TABLES = (AuditEvent._meta.db_table,)
# Written by the owner's `migrate` alone.
READ_ONLY_TABLES = ("django_migrations",)
AUDIT_APPEND = (
    "audit_append(text, timestamptz, bigint, text, inet, text, text, text, text, "
    "bigint, text, jsonb)"
)
TABLE_WRITES = ("INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")


def _role_exists(cursor, role: str) -> bool:
    cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
    return cursor.fetchone() is not None


def app_role_grant(role: str) -> None:
    """Grant `role` what the application needs in the current database and schema,
    and nothing more: every earlier grant on the schema's tables is revoked first,
    so running it again also undoes a grant made by hand. Raises ValueError with the
    problems found when the role could still do more (see app_role_problems)."""
    with connection.cursor() as cursor:
        if not _role_exists(cursor, role):
            raise ValueError(E_ROLE_MISSING.format(role=role))
        cursor.execute("SELECT current_user, current_database(), current_schema()")
        owner, database, schema = cursor.fetchone()
        if role == owner:
            raise ValueError(E_ROLE_IS_CURRENT.format(role=role))
        names = {
            "role": sql.Identifier(role),
            "database": sql.Identifier(database),
            "schema": sql.Identifier(schema),
        }
        statements = [
            "REVOKE CREATE ON DATABASE {database} FROM PUBLIC, {role}",
            "GRANT CONNECT, TEMPORARY ON DATABASE {database} TO {role}",
            "REVOKE CREATE ON SCHEMA {schema} FROM PUBLIC, {role}",
            "GRANT USAGE ON SCHEMA {schema} TO {role}",
            "REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {role}",
            "REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema} FROM {role}",
            "REVOKE ALL ON ALL FUNCTIONS IN SCHEMA {schema} FROM {role}",
            "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} "
            "TO {role}",
            "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {role}",
            "REVOKE ALL ON FUNCTION {schema}." + AUDIT_APPEND + " FROM PUBLIC",
            "GRANT EXECUTE ON FUNCTION {schema}." + AUDIT_APPEND + " TO {role}",
        ]
        for statement in statements:
            cursor.execute(sql.SQL(statement).format(**names))
        for table in APPEND_ONLY_TABLES + READ_ONLY_TABLES:
            table_name = sql.Identifier(schema, table)
            cursor.execute(
                sql.SQL("REVOKE ALL ON TABLE {table} FROM {role}").format(
                    table=table_name, role=names["role"]
                )
            )
            cursor.execute(
                sql.SQL("GRANT SELECT ON TABLE {table} TO {role}").format(
                    table=table_name, role=names["role"]
                )
            )
        for table in APPEND_ONLY_TABLES:
            # Its id sequence too: audit_append() draws the ids.
            cursor.execute(
                "SELECT pg_get_serial_sequence(%s, 'id')",
                [sql.Identifier(schema, table).as_string(cursor.connection)],
            )
            (sequence,) = cursor.fetchone()
            if sequence:  # already quoted, schema included
                cursor.execute(
                    sql.SQL("REVOKE ALL ON SEQUENCE {sequence} FROM {role}").format(
                        sequence=sql.SQL(sequence), role=names["role"]
                    )
                )
    problems = app_role_problems(role)
    if problems:
        raise ValueError(
            E_ROLE_PROBLEMS.format(role=role, problems="; ".join(problems))
        )


def app_role_problems(role: str) -> list[str]:
    """What `role` may do beyond the application's needs, in the current database
    (an empty list when nothing): each entry names one power, for the operator."""
    problems = []
    with connection.cursor() as cursor:
        if not _role_exists(cursor, role):
            return [E_ROLE_MISSING.format(role=role)]
        cursor.execute(
            """
            SELECT rolsuper, rolcreatedb, rolcreaterole, rolbypassrls, rolreplication,
                   pg_has_role(%(role)s, current_user, 'MEMBER'),
                   has_database_privilege(%(role)s, current_database(), 'CREATE'),
                   has_schema_privilege(%(role)s, current_schema(), 'CREATE')
            FROM pg_roles WHERE rolname = %(role)s
            """,
            {"role": role},
        )
        flags = cursor.fetchone()
        labels = (
            "is a superuser",
            "may create databases",
            "may create roles",
            "bypasses row security",
            "may replicate",
            "is a member of the owner (and so acts as it)",
            "may create schemas in the database",
            "may create tables in the schema",
        )
        problems += [label for label, flag in zip(labels, flags) if flag]
        cursor.execute(
            """
            SELECT c.relname FROM pg_class c
            JOIN pg_roles r ON r.oid = c.relowner
            WHERE r.rolname = %(role)s
              AND c.relnamespace = to_regnamespace(current_schema())
            UNION ALL
            SELECT p.proname FROM pg_proc p
            JOIN pg_roles r ON r.oid = p.proowner
            WHERE r.rolname = %(role)s
              AND p.pronamespace = to_regnamespace(current_schema())
            UNION ALL
            SELECT n.nspname FROM pg_namespace n
            JOIN pg_roles r ON r.oid = n.nspowner WHERE r.rolname = %(role)s
            ORDER BY 1
            """,
            {"role": role},
        )
        owned = [name for (name,) in cursor.fetchall()]
        if owned:
            problems.append("owns " + ", ".join(owned))
        for table in APPEND_ONLY_TABLES + READ_ONLY_TABLES:
            for privilege in TABLE_WRITES:
                cursor.execute(
                    "SELECT has_table_privilege(%s, %s, %s)",
                    [role, table, privilege],
                )
                if cursor.fetchone()[0]:
                    problems.append(f"may {privilege} on {table}")
    return problems
