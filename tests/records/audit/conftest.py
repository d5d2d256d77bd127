"""Audit test helpers: tampering as the table's owner, and cleaning up after threads."""

from contextlib import contextmanager

import pytest
from django.db import connection

from records.audit.models import AuditEvent

TABLE = AuditEvent._meta.db_table


@contextmanager
def triggers_disabled():
    """What the table's owner (or a superuser) can do: switch the guard off."""
    with connection.cursor() as cursor:
        cursor.execute(f'ALTER TABLE "{TABLE}" DISABLE TRIGGER USER')
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'ALTER TABLE "{TABLE}" ENABLE TRIGGER USER')


@pytest.fixture
def audit_emptied_after(transactional_db):
    """Committed events stop the teardown's flush (a TRUNCATE): remove them first.

    Torn down before `transactional_db`, whose flush then finds the table empty.
    """
    yield
    with triggers_disabled():
        AuditEvent.objects.all().delete()
