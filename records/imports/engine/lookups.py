"""Lookups and the key log: the names in a file (MRNs, usernames) resolved with
one query per kind, and the keys its rows have used so far.
"""

from collections.abc import Callable, Iterable
from concurrent.futures import Future
from functools import partial
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection

from records.imports.engine.sql import _array_literal, _quoted
from records.patients.models import Patient
from records.patients.validators import mrn_normalize

# Keys of a file's rows kept in memory (about 20 MB); a larger file's other keys
# go to a temporary table.
MEMORY_KEYS = 100_000
# What a row's rules read of its patient (ages, dates within life, growth figures).
PATIENT_FACTS = frozenset(
    {
        "id",
        "mrn",
        "date_of_birth",
        "date_of_death",
        "gestational_age_weeks",
        "gestational_age_days",
        "sex",
        "growth_reference",
    }
)
_PATIENT_FACT_FIELDS = [
    f for f in Patient._meta.concrete_fields if f.attname in PATIENT_FACTS
]


class Lookups:
    """Names in the file resolved to rows with one query per kind."""

    def __init__(self):
        self._patients: dict[str, Patient | None] = {}
        self._by_id: dict[int, Patient] = {}
        self._users: dict[str, int] | None = None
        self._staff: set[int] = set()
        self._names: dict[int, str] | None = None

    def patients(self, cursor, mrns: Iterable[str]) -> None:
        """Look these MRNs up, with `cursor` (the writer thread's, while
        committing: Django's connection belongs to the thread that opened it)."""
        wanted = set(map(mrn_normalize, mrns)) - self._patients.keys()
        if not wanted:
            return
        fields = _PATIENT_FACT_FIELDS
        cursor.execute(
            f"SELECT {_quoted([f.column for f in fields])} "
            f'FROM "{Patient._meta.db_table}" WHERE "mrn" = ANY(%s::text[])',
            [_array_literal(wanted)],
        )
        names = [f.attname for f in fields]
        for row in cursor.fetchall():
            patient = Patient.from_db(DEFAULT_DB_ALIAS, names, row)
            self._patients[patient.mrn] = patient
            self._by_id[patient.pk] = patient
        for mrn in wanted:
            self._patients.setdefault(mrn, None)

    def patient(self, mrn: str) -> Patient | None:
        return self._patients.get(mrn_normalize(mrn))

    def patient_by_id(self, pk: int) -> Patient | None:
        return self._by_id.get(pk)

    def user_id(self, username: str) -> int | None:
        """Anyone's id, by username: a record may keep naming staff who left."""
        if self._users is None:
            from records.users.models import User
            from records.users.repositories import clinical_staff

            self._users = dict(User.objects.values_list("username", "pk"))
            self._staff = set(clinical_staff().values_list("pk", flat=True))
        return self._users.get(username)

    def username(self, user_id: int) -> str:
        if self._names is None:
            self._names = {pk: name for name, pk in self._users.items()}
        return self._names[user_id]

    def is_clinical_staff(self, user_id: int) -> bool:
        """Whether a user looked up by user_id() may be named as assessor or
        clinician (see access.named_staff_check)."""
        return user_id in self._staff


class KeyLog:
    """The keys a file's rows have used so far, and the row of each: in memory
    for the first MEMORY_KEYS, in a temporary table after that. Any file is
    checked for duplicate keys, and memory stops growing with the file.

    The table is written and read through `lane` (the importer's lookups: the
    writer thread's, while committing), in order with the lookups, so that the
    checking thread never waits for it."""

    table = "import_key_log"

    def __init__(self, lane: Callable[[Callable[[Any], Any]], Future]):
        self.lane = lane
        self.memory: dict[tuple, int] = {}
        self.spilled = False

    def __enter__(self) -> "KeyLog":
        return self

    def __exit__(self, kind, error, traceback) -> None:
        if self.spilled and error is None:
            self.lane(self._drop).result()

    def add(self, keys: dict[tuple, int]) -> None:
        if not self.spilled and len(self.memory) + len(keys) <= MEMORY_KEYS:
            self.memory.update(keys)
            return
        if not keys:
            return
        first, self.spilled = not self.spilled, True
        texts = _array_literal(map(_key_text, keys))
        rows = "{" + ",".join(map(str, keys.values())) + "}"
        # Its failure is the writer's (raised by the next write or lookup).
        self.lane(partial(self._store, first=first, texts=texts, rows=rows))

    def find(self, keys: list[tuple | None]) -> dict[tuple, int]:
        """The rows of these keys that the log holds in memory (key -> row)."""
        memory = self.memory
        return {key: memory[key] for key in keys if key in memory}

    def find_stored(self, cursor, keys: list[tuple | None]) -> dict[tuple, int]:
        """The rows of these keys that the table holds (key -> row)."""
        texts = {_key_text(key): key for key in keys if key is not None}
        cursor.execute(
            f'SELECT "key", "row" FROM "{self.table}" WHERE "key" = ANY(%s::text[])',
            [_array_literal(texts)],
        )
        return {texts[text]: row for text, row in cursor.fetchall()}

    def _store(self, cursor, *, first: bool, texts: str, rows: str) -> None:
        if first:
            # A run that died in this session (outside a transaction) may have
            # left one.
            cursor.execute(f'DROP TABLE IF EXISTS "{self.table}"')
            cursor.execute(
                f'CREATE TEMP TABLE "{self.table}" '
                '("key" text PRIMARY KEY, "row" integer NOT NULL)'
            )
        cursor.execute(
            f'INSERT INTO "{self.table}" ("key", "row") '
            "SELECT * FROM unnest(%s::text[], %s::integer[])",
            [texts, rows],
        )

    def _drop(self, cursor) -> None:
        cursor.execute(f'DROP TABLE "{self.table}"')


def _key_text(key: tuple) -> str:
    return "\x1f".join(map(str, key))


def _at_once(work: Callable[[Any], Any]) -> Future:
    """Run a chunk's lookups now, on this thread's connection."""
    future: Future = Future()
    with connection.cursor() as cursor:
        future.set_result(work(cursor))
    return future
