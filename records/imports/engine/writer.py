"""The threaded COPY writer: checked chunks COPYed into a staging table, added and
changed with their history in two statements, on a thread of its own.
"""

import csv
import io
import itertools
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from contextvars import copy_context
from typing import Any

from django.contrib.postgres.fields import ArrayField
from django.db import connection
from psycopg.errors import InFailedSqlTransaction

from records.imports.engine.checker import Importer
from records.imports.engine.lookups import _at_once
from records.imports.engine.runtime import _quick_handoffs
from records.imports.engine.sql import (
    PLAIN_FIELDS,
    TEXT_FIELDS,
    _array_literal,
    _quoted,
    _text_array,
)

# Chunks checked and waiting for the writer (their COPY text: about 0.7 MB each).
WRITES_WAITING = 2

# The writer thread's work, in the order it takes it: lookups first (the checking
# thread waits for them), then writes (in the order they came), then the end.
_READ, _WRITE, _END = 0, 1, 2


class Writer:
    """Writes the checked chunks in the caller's transaction, on a thread of its
    own: PostgreSQL stores one chunk while Python checks the next.

    Each chunk is COPYed into a staging table; one INSERT ... SELECT adds the new
    rows and one UPDATE ... FROM applies the changed ones, each writing the history
    rows of what it wrote: PostgreSQL does the copying, not Python. The thread
    also runs the importer's lookups of the chunks ahead, before any write that
    waits, so that the checking thread does not wait for a statement to end.

        with Writer(importer, reason=..., on_insert=...):
            importer.run(table)

    Leaving the block waits for the thread, and raises what it raised; the
    caller's transaction then rolls back everything this import wrote.
    """

    def __init__(
        self,
        importer: Importer,
        *,
        reason: str,
        on_insert: Callable[[Any, list[int]], None] | None = None,
    ):
        self.importer = importer
        self.reason = reason
        # Called with the writer's cursor and the ids of each chunk's new rows.
        self.on_insert = on_insert
        model = importer.model
        meta = model._meta
        self.table = meta.db_table
        self.pk = meta.pk.column
        # Every column, and the ones a row of the file fills (staged, pk first).
        self.columns = [meta.pk.column, *importer.column_names]
        staged = [meta.pk, *importer.written]
        self.staged = [f.column for f in staged]
        self.stage_table = f"import_stage_{self.table}"
        self.copy_statement = self._copy_statement(staged)
        self.arrays = [i for i, f in enumerate(staged) if isinstance(f, ArrayField)]
        history = model.history.model._meta
        self.history_table = history.db_table
        history_columns = {f.column for f in history.concrete_fields}
        missing = set(self.columns) - history_columns
        if missing:  # a field left out of history: these statements would not do
            raise ValueError(f"{self.history_table} lacks {sorted(missing)}")
        self.history_tail = [
            "history_date",
            "history_change_reason",
            "history_type",
            "history_user_id",
        ]
        self.params = {
            "now": importer.now,
            "user": getattr(importer.acting_user, "pk", None),
            "reason": reason,
        }
        self.insert_statement, self.update_statement = self._write_statements()
        self._tasks: queue.PriorityQueue = queue.PriorityQueue()
        self._order = itertools.count()
        self._room = threading.Semaphore(WRITES_WAITING)
        self._error: BaseException | None = None
        self._abandoned = False
        self._thread: threading.Thread | None = None

    def _write_statements(self) -> tuple[str, str]:
        """The INSERT of a chunk's new rows and the UPDATE of its changed ones,
        each writing the history rows of what it wrote."""
        history_columns = _quoted(self.columns + self.history_tail)
        every = _quoted(self.columns)
        data = _quoted(self.staged[1:])
        # The new ids only when someone wants them (the care team's grants).
        returning = f'RETURNING "{self.pk}"' if self.on_insert else ""
        insert = f"""
            WITH inserted AS (
                INSERT INTO "{self.table}" ({data},
                    "created_at", "updated_at", "created_by_id", "version")
                SELECT {data}, %(now)s, %(now)s, %(user)s, 1
                FROM "{self.stage_table}" WHERE "{self.pk}" IS NULL
                RETURNING *
            )
            INSERT INTO "{self.history_table}" ({history_columns})
            SELECT {every}, %(now)s, %(reason)s, '+', %(user)s FROM inserted
            {returning}
        """
        meta = self.importer.model._meta
        keys = {meta.get_field(a).column for a in self.importer.spec.key}
        updates = ", ".join(
            f'"{c}" = stage."{c}"' for c in self.staged[1:] if c not in keys
        )
        updated = ", ".join(f'updated."{c}"' for c in self.columns)
        update = f"""
            WITH updated AS (
                UPDATE "{self.table}" AS target SET {updates},
                    "updated_at" = %(now)s, "version" = target."version" + 1
                FROM "{self.stage_table}" AS stage
                WHERE target."{self.pk}" = stage."{self.pk}"
                RETURNING target.*
            )
            INSERT INTO "{self.history_table}" ({history_columns})
            SELECT {updated}, %(now)s, %(reason)s, '~', %(user)s FROM updated
        """
        return insert, update

    def _copy_statement(self, staged) -> str:
        """COPY of the staged columns as CSV (see _csv): an empty quoted cell is
        NULL in every column but text, where it is the empty text."""
        nullable = []
        for model_field in staged:
            kind = model_field.get_internal_type()
            if kind in TEXT_FIELDS:
                if model_field.null:  # None and "" would both be "" in the CSV
                    raise ValueError(f"{model_field} allows NULL: COPY could not tell")
            elif kind in PLAIN_FIELDS or _text_array(model_field):
                nullable.append(model_field.column)
            else:
                raise ValueError(f"{model_field} ({kind}): no CSV form for COPY here")
        return (
            f'COPY "{self.stage_table}" ({_quoted(self.staged)}) FROM STDIN '
            f"WITH (FORMAT csv, FORCE_NULL ({_quoted(nullable)}))"
        )

    def __enter__(self) -> "Writer":
        quoted = _quoted(self.staged)
        with connection.cursor() as cursor:
            # Writers of this table wait until the import commits; readers do not.
            cursor.execute(f'LOCK TABLE "{self.table}" IN SHARE ROW EXCLUSIVE MODE')
            cursor.execute(
                f'CREATE TEMP TABLE "{self.stage_table}" ON COMMIT DROP AS '
                f'SELECT {quoted} FROM "{self.table}" WITH NO DATA'
            )
            # Foreign keys checked as each statement ends, on the writer thread
            # while the next chunk is checked; not all at COMMIT, alone.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        # The thread shares this connection (and so the transaction); psycopg
        # lets one thread at a time use it.
        self._pg = connection.connection
        self._thread = threading.Thread(
            target=self._work, name="import-writer", daemon=True
        )
        self._thread.start()
        self._handoffs = _quick_handoffs()
        self._handoffs.__enter__()
        self.importer.write = self._put
        self.importer.lookup = self._lookup
        return self

    def __exit__(self, kind, error, traceback) -> None:
        self.importer.write = None
        self.importer.lookup = _at_once
        self._abandoned = error is not None  # what is left to write is not needed
        self._tasks.put((_END, next(self._order), None))
        try:
            self._thread.join()
        finally:
            self._handoffs.__exit__(None, None, None)
        if self._error is not None and not _echo(self._error, of=error):
            # The database's own error, not what the main thread met after it
            # (a transaction already aborted).
            raise self._error
        if error is None:
            with connection.cursor() as cursor:
                # ON COMMIT DROP waits for the outermost commit; the next import
                # in the same transaction (a test, a script) needs the name again.
                cursor.execute(f'DROP TABLE "{self.stage_table}"')
                # Django's own: every foreign key here is checked at COMMIT.
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")

    # --- the checking thread's side ------------------------------------------------

    def _lookup(self, work: Callable[[Any], Any]) -> Future:
        if self._error is not None:
            raise self._error
        future: Future = Future()
        # In this thread's context: one "today" for every rule (today_fixed).
        self._tasks.put((_READ, next(self._order), (future, copy_context(), work)))
        return future

    def _put(self, new: list[tuple], changed: list[tuple]) -> None:
        if self._error is not None:
            raise self._error
        payload = self._csv(new + changed)
        self._room.acquire()  # at most WRITES_WAITING chunks wait: flat memory
        self._tasks.put(
            (_WRITE, next(self._order), (payload, bool(new), bool(changed)))
        )

    def _csv(self, rows: list[tuple]) -> bytes:
        """The rows as COPY reads them, made here rather than on the writer
        thread: PostgreSQL would wait while that thread waited for Python."""
        if self.arrays:
            rows = [list(row) for row in rows]
            for row in rows:
                for position in self.arrays:
                    row[position] = _array_literal(row[position])
        out = io.StringIO()
        # Every cell quoted: an empty cell is NULL only where FORCE_NULL says.
        csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(rows)
        return out.getvalue().encode()

    # --- the writer thread ---------------------------------------------------------

    def _work(self) -> None:
        cursor = None
        try:
            cursor = self._pg.cursor()
        except BaseException as error:  # noqa: B036 - every task now fails with it
            self._error = error
        try:
            while True:
                kind, _, job = self._tasks.get()
                if kind == _END:
                    return
                if kind == _READ:
                    self._run_lookup(cursor, *job)
                    continue
                try:
                    if self._error is None and not self._abandoned:
                        self._write(cursor, *job)
                except BaseException as error:  # noqa: B036 - handed to the caller
                    self._error = error
                finally:
                    self._room.release()
        finally:
            if cursor is not None:
                cursor.close()

    def _run_lookup(self, cursor, future: Future, context, work) -> None:
        if self._abandoned:
            future.cancel()
        elif self._error is not None:
            future.set_exception(self._error)
        else:
            try:
                future.set_result(context.run(work, cursor))
            except BaseException as error:  # noqa: B036 - handed to the caller
                self._error = error
                future.set_exception(error)

    def _write(self, cursor, payload: bytes, new: bool, changed: bool) -> None:
        """COPY the rows into the staging table; insert the new ones, update the
        changed ones, and write a history row for each, in two statements."""
        with cursor.copy(self.copy_statement) as copy:
            copy.write(payload)
        if new:
            cursor.execute(self.insert_statement, self.params)
            if self.on_insert is not None:
                self.on_insert(cursor, [pk for (pk,) in cursor.fetchall()])
        if changed:
            cursor.execute(self.update_statement, self.params)
        cursor.execute(f'TRUNCATE "{self.stage_table}"')


def _echo(error: BaseException, *, of: BaseException | None) -> bool:
    """Whether `error` only says that `of`, raised first, aborted the transaction."""
    if of is None or of is error:
        return False
    return isinstance(error, InFailedSqlTransaction) and not _aborted(of)


def _aborted(error: BaseException) -> bool:
    return isinstance(error, InFailedSqlTransaction) or isinstance(
        error.__cause__, InFailedSqlTransaction
    )
