"""Log lines: tracebacks keep the error, never the rows PostgreSQL quotes."""

import logging
import runpy

import pytest
from django.db import IntegrityError, connection, transaction

from ndas.logging import RedactingJsonFormatter
from tests.helpers import BASE_DIR


@pytest.mark.django_db
def test_a_database_errors_quoted_row_stays_out_of_the_log():
    with pytest.raises(IntegrityError) as raised:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute('CREATE TEMP TABLE "probe" ("mrn" text PRIMARY KEY)')
            cursor.execute(
                """INSERT INTO "probe" VALUES ('NDA-SECRET'), ('NDA-SECRET')"""
            )
    assert "NDA-SECRET" in str(raised.value)  # PostgreSQL quotes the key
    record = logging.LogRecord(
        "ndas.errors",
        logging.ERROR,
        __file__,
        1,
        "unhandled exception",
        None,
        (raised.type, raised.value, raised.tb),
    )
    line = RedactingJsonFormatter().format(record)
    assert "NDA-SECRET" not in line
    assert "duplicate key value" in line and "DETAIL: [redacted]" in line


def test_django_and_gunicorn_log_through_the_redacting_formatter(settings):
    gunicorn = runpy.run_path(str(BASE_DIR / "gunicorn.conf.py"))
    for config in (settings.LOGGING, gunicorn["logconfig_dict"]):
        assert config["formatters"]["json"]["()"] == (
            "ndas.logging.RedactingJsonFormatter"
        )
