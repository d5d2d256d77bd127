"""`manage.py ensure_database`: creates a missing database, explains a refusal."""

import uuid

import psycopg
import pytest
from django.core.management import CommandError, call_command


def test_existing_database_is_left_alone(settings, capsys):
    call_command("ensure_database")
    assert "exists" in capsys.readouterr().out


@pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")
def test_missing_database_is_created(settings, capsys):
    name = f"ndas_probe_{uuid.uuid4().hex[:8]}"
    # A new dict: the settings fixture restores assignments, not edits in place.
    settings.DATABASES = {
        **settings.DATABASES,
        "default": {**settings.DATABASES["default"], "NAME": name},
    }
    try:
        call_command("ensure_database")
        assert f"Created database {name}" in capsys.readouterr().out
        with psycopg.connect(dbname="postgres", autocommit=True) as conn:
            assert conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [name]
            ).fetchone()
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


@pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")
def test_unreachable_server_gets_one_clear_line(settings):
    settings.DATABASES = {
        **settings.DATABASES,
        "default": {**settings.DATABASES["default"], "HOST": "127.0.0.1", "PORT": "1"},
    }
    with pytest.raises(CommandError) as error:
        call_command("ensure_database")
    message = str(error.value)
    assert "PostgreSQL is not reachable at 127.0.0.1:1" in message
    assert "pg_ctlcluster" in message and "\n" not in message
