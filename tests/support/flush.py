"""A transactional test's teardown in milliseconds rather than about a second.

Django's flush TRUNCATEs every table (new files for each of ~50 tables and their
indexes, synced at commit) and then rebuilds the content types, permissions and role
groups through post_migrate, after every transactional test (~150 of them, browser
tests included). Here the tables that hold rows are emptied with DELETE, and the rows
a real flush leaves behind (captured once, after the first real flush) are copied
back: the database ends as a real flush leaves it. A test that wrote many rows, or
a teardown this cannot do, still gets Django's own flush.
"""

from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, connections, transaction
from psycopg import sql

# Past this many rows DELETE costs more than TRUNCATE: Django's own flush then.
MANY_ROWS = 5_000


class FastFlush:
    def __init__(self, original):
        self.original = original  # TransactionTestCase._fixture_teardown
        self.kept: dict[str, bytes] | None = None  # table: rows (COPY's text)

    def teardown(self, testcase) -> None:
        if not self._can(testcase) or not self.fast():
            self.original(testcase)
            if self._can(testcase):
                # Django's flush made the kept rows anew (content types and
                # permissions under new ids, which caches now hold): keep these.
                self.kept = self.capture()

    @staticmethod
    def _can(testcase) -> bool:
        return (
            testcase.available_apps is None
            and not testcase.serialized_rollback
            and not testcase.reset_sequences
            and set(testcase._databases_names(include_mirrors=False)) == {"default"}
        )

    @staticmethod
    def _tables(connection) -> list[str]:
        # What Django's flush empties (django.core.management.sql.sql_flush).
        return sorted(
            connection.introspection.django_table_names(
                only_existing=True, include_views=False
            )
        )

    @staticmethod
    def _rows(cursor, tables: list[str]) -> dict[str, int]:
        """Rows of each table that has any, counted up to MANY_ROWS + 1."""
        counts = sql.SQL(" UNION ALL ").join(
            sql.SQL(
                "SELECT {name}, count(*) FROM (SELECT 1 FROM {table} LIMIT {limit}) s"
            ).format(
                name=sql.Literal(table),
                table=sql.Identifier(table),
                limit=sql.Literal(MANY_ROWS + 1),
            )
            for table in tables
        )
        cursor.execute(counts)
        return {table: count for table, count in cursor.fetchall() if count}

    def capture(self) -> dict[str, bytes]:
        """The rows of every table that has any (after a real flush: those to keep)."""
        connection = connections["default"]
        kept = {}
        with connection.cursor() as cursor:
            for table in self._rows(cursor, self._tables(connection)):
                query = sql.SQL("COPY {} TO STDOUT").format(sql.Identifier(table))
                with cursor.cursor.copy(query) as copy:
                    kept[table] = b"".join(bytes(block) for block in copy)
        return kept

    def fast(self) -> bool:
        """Empty the tables and put back the kept rows; False when it did not."""
        if self.kept is None:
            return False
        connection = connections["default"]
        try:
            with transaction.atomic(using="default"), connection.cursor() as cursor:
                rows = self._rows(cursor, self._tables(connection))
                written = sum(n for table, n in rows.items() if table not in self.kept)
                if written > MANY_ROWS:
                    return False
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
                guarded = self._guarded(cursor)
                for table in sorted(set(rows) | set(self.kept)):
                    self._empty(cursor, table, guarded=table in guarded)
                for table, data in self.kept.items():
                    query = sql.SQL("COPY {} FROM STDIN").format(sql.Identifier(table))
                    with cursor.cursor.copy(query) as copy:
                        copy.write(data)
        except DatabaseError:
            return False
        # As Django's flush does (post_migrate's create_contenttypes): the cache
        # may hold a content type a test made.
        ContentType.objects.clear_cache()
        return True

    @staticmethod
    def _guarded(cursor) -> set[str]:
        """Tables with triggers of their own (the audit table refuses DELETE)."""
        cursor.execute(
            "SELECT DISTINCT tgrelid::regclass::text FROM pg_trigger "
            "WHERE NOT tgisinternal"
        )
        return {name.strip('"') for (name,) in cursor.fetchall()}

    @staticmethod
    def _empty(cursor, table: str, *, guarded: bool) -> None:
        name = sql.Identifier(table)
        if guarded:
            cursor.execute(sql.SQL("ALTER TABLE {} DISABLE TRIGGER USER").format(name))
        cursor.execute(sql.SQL("DELETE FROM {}").format(name))
        if guarded:
            cursor.execute(sql.SQL("ALTER TABLE {} ENABLE TRIGGER USER").format(name))
