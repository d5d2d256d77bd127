"""Database settings a piece of work needs for itself."""

from contextlib import contextmanager

from django.conf import settings
from django.db import DatabaseError, connection


def _set_statement_timeout(seconds: float, *, local: bool = False) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('statement_timeout', %s, %s)",
            [f"{int(seconds * 1000)}ms", local],
        )


@contextmanager
def long_statements():
    """Let this block's statements run to the long ceiling (an import's commit, a
    large export) though the process serves web requests, whose ceiling is short.
    Inside a transaction the long ceiling lasts until it ends; outside one, the
    short ceiling comes back after the block, whatever happened."""
    if settings.NDAS_WORK != "web":
        yield  # a command: the long ceiling already
        return
    local = connection.in_atomic_block
    _set_statement_timeout(settings.DATABASE_LONG_STATEMENT_TIMEOUT, local=local)
    try:
        yield
    finally:
        if not local:
            try:
                _set_statement_timeout(settings.DATABASE_STATEMENT_TIMEOUT)
            except DatabaseError:
                # No later request may inherit the long ceiling.
                connection.close()
