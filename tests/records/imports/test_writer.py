"""The import writer: the text it COPYs says exactly what the rows say, lookups on
its thread fail as cleanly as writes, and a commit leaves the session as it was."""

import sys
import threading
import time
from datetime import date
from decimal import Decimal

import psycopg
import pytest
from django.db import DataError, connection, models, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from records.imports import engine
from records.imports.engine import checker, lookups, runtime
from records.imports.entities import ENTITIES
from records.patients.models import Patient
from records.users import roles
from tests import factories
from tests.helpers import csv_bytes, patient_row, run

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(make_user):
    return make_user("importer", roles=[roles.DATA_MANAGER])


characters = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
# Text that COPY formats could take for something else.
tricky = st.sampled_from(["", '"', '""', ",", "\\", "\\.", "\n", "\r\n", "\t", "\\N"])


def text(field):
    size = min(field.max_length or 40, 40)
    return st.one_of(
        st.text(characters, max_size=size), tricky.filter(lambda t: len(t) <= size)
    )


def writer_for(entity: str) -> engine.Writer:
    spec = ENTITIES[entity]
    importer = engine.Importer(spec=spec, options=engine.Options(), acting_user=None)
    return engine.Writer(importer, reason="test")


def value_for(field, draw):
    """A value of the kind the importer hands the writer for this field."""
    kind = field.get_internal_type()
    if isinstance(field, models.AutoField):
        return None  # a new row
    if kind in engine.TEXT_FIELDS:
        return draw(text(field))
    if kind == "DateField":
        value = draw(st.dates(min_value=date(1900, 1, 1)))
    elif kind == "DecimalField":
        places = field.decimal_places
        largest = Decimal(10) ** (field.max_digits - places) - 1
        value = draw(st.decimals(0, largest, places=places))
    elif kind == "ArrayField":
        value = draw(st.lists(text(field.base_field), max_size=4))
    else:  # integers and foreign keys
        value = draw(st.integers(0, 32767))
    return None if field.null and draw(st.booleans()) else value


def staged_fields(entity: str) -> list:
    model = ENTITIES[entity].model
    return [model._meta.pk, *writer_for(entity).importer.written]


@pytest.mark.parametrize("entity", sorted(ENTITIES))
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_what_the_writer_copies_reads_back_the_same(entity, data):
    fields = staged_fields(entity)
    rows = [
        tuple(value_for(f, data.draw) for f in fields)
        for _ in range(data.draw(st.integers(1, 5)))
    ]
    writer = writer_for(entity)
    # Each example in a savepoint of its own: a failed one leaves nothing behind.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f'CREATE TEMP TABLE "{writer.stage_table}" ON COMMIT DROP AS SELECT '
            f"{engine._quoted(writer.staged)} "
            f'FROM "{ENTITIES[entity].model._meta.db_table}" WITH NO DATA'
        )
        with cursor.cursor.copy(writer.copy_statement) as copy:
            copy.write(writer._csv(rows))
        cursor.execute(f'SELECT * FROM "{writer.stage_table}"')
        assert cursor.fetchall() == rows
        cursor.execute(f'DROP TABLE "{writer.stage_table}"')


def test_array_literals_quote_what_they_must():
    values = ['a"b', "c\\d", "e,f", "{g}", "", "NULL"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::text[]", [engine._array_literal(values)])
        assert cursor.fetchone()[0] == values


@pytest.mark.parametrize(
    "extra, message",
    [
        (models.JSONField(), "no CSV form"),
        (models.CharField(max_length=5, null=True), "allows NULL"),
    ],
)
def test_the_writer_refuses_fields_it_cannot_copy(extra, message):
    extra.set_attributes_from_name("extra")
    spec = ENTITIES["patients"]
    importer = engine.Importer(spec=spec, options=engine.Options(), acting_user=None)
    importer.written.append(extra)
    with pytest.raises(ValueError, match=message):
        engine.Writer(importer, reason="test")


def test_a_lookup_that_fails_on_the_writer_thread_writes_nothing(manager, monkeypatch):
    original = engine.Importer._existing
    threads = []

    def fail_on_the_third(self, cursor, keys):
        import threading

        threads.append(threading.current_thread().name)
        if len(threads) == 3:
            cursor.execute("SELECT 1 / 0")
        return original(self, cursor, keys)

    monkeypatch.setattr(checker, "CHUNK_ROWS", 10)
    monkeypatch.setattr(engine.Importer, "_existing", fail_on_the_third)
    with pytest.raises(psycopg.errors.DivisionByZero):
        run(manager, csv_bytes([patient_row(n) for n in range(100)]))
    # Committing, the lookups ran on the writer's thread, not this one.
    assert set(threads) == {"import-writer"}
    assert Patient.objects.count() == 0 and Patient.history.count() == 0


def test_foreign_keys_are_checked_at_commit_again_after_an_import(manager):
    job = run(manager, csv_bytes([patient_row(1)]))
    assert job.new == 1, job.errors
    links = 'UPDATE "users_user_groups" SET "group_id" = %s WHERE "id" = %s'
    with connection.cursor() as cursor:
        cursor.execute(
            'SELECT "id", "group_id" FROM "users_user_groups" WHERE "user_id" = %s',
            [manager.pk],
        )
        link, group = cursor.fetchone()
        # A dangling reference (here: the importer's role) waits for COMMIT, as
        # with Django's deferred foreign keys; were they still checked at once,
        # this would fail here.
        cursor.execute(links, [-1, link])
        cursor.execute(links, [group, link])


def test_every_deferrable_constraint_starts_deferred():
    """After an import the writer says SET CONSTRAINTS ALL DEFERRED: that is how
    every constraint starts only if none is DEFERRABLE INITIALLY IMMEDIATE."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname FROM pg_constraint "
            "WHERE condeferrable AND NOT condeferred"
        )
        assert cursor.fetchall() == []
        cursor.execute("SELECT count(*) FROM pg_constraint WHERE condeferred")
        assert cursor.fetchone()[0] > 0  # Django's foreign keys


def test_threads_hand_over_sooner_only_while_writing(manager, monkeypatch):
    monkeypatch.setattr(runtime, "_tweaks", True)  # a worker, the command line
    before = sys.getswitchinterval()
    seen = []
    original = engine.Importer._check

    def check(self, *args):
        seen.append(sys.getswitchinterval())
        return original(self, *args)

    monkeypatch.setattr(engine.Importer, "_check", check)
    run(manager, csv_bytes([patient_row(1)]), dry_run=True)
    run(manager, csv_bytes([patient_row(1)]))
    assert seen == [before, engine.HANDOFF_S]
    assert sys.getswitchinterval() == before


def test_a_web_process_keeps_its_switch_interval(manager, monkeypatch):
    monkeypatch.setattr(runtime, "_tweaks", False)
    before = sys.getswitchinterval()
    seen = []
    original = engine.Importer._check

    def check(self, *args):
        seen.append(sys.getswitchinterval())
        return original(self, *args)

    monkeypatch.setattr(engine.Importer, "_check", check)
    run(manager, csv_bytes([patient_row(1)]))
    assert seen == [before]


def test_keys_that_read_like_array_syntax_are_found(manager):
    # Unquoted in an array, NULL would be no MRN at all: the stored row unseen,
    # the file's row taken for a new one.
    run(manager, csv_bytes([patient_row(1, mrn="NULL")]))
    job = run(manager, csv_bytes([patient_row(1, mrn="NULL", given_name="Orla")]))
    assert (job.new, job.changed) == (0, 1), job.errors
    assert Patient.objects.get(mrn="NULL").given_name == "Orla"


def test_the_writer_thread_never_uses_django_s_connection(
    manager, make_user, monkeypatch
):
    """Django's connections belong to threads: one used on the writer thread would
    be a second connection, outside the import's transaction."""
    from django.db.utils import ConnectionHandler

    threads = set()
    original = ConnectionHandler.__getitem__

    def getitem(self, alias):
        threads.add(threading.current_thread().name)
        return original(self, alias)

    doctor = make_user("doc", roles=[roles.CLINICIAN])
    patient = factories.patient(acting_user=doctor, date_of_birth=date(2025, 1, 1))
    monkeypatch.setattr(checker, "CHUNK_ROWS", 2)
    monkeypatch.setattr(ConnectionHandler, "__getitem__", getitem)
    header = ["patient_mrn", "instrument", "performed_on", "assessor_username"]
    rows = [[patient.mrn, "hine", f"2026-01-{day:02d}", "doc"] for day in range(1, 9)]
    job = run(manager, csv_bytes(rows, header), entity="assessments")
    assert job.new == 8, job.errors
    assert "MainThread" in threads and "import-writer" not in threads


def test_the_checking_thread_s_own_error_is_the_one_raised(manager, monkeypatch):
    original_check, original_write = engine.Importer._check, engine.Writer._write
    calls = []

    def check(self, *args):
        calls.append(1)
        if len(calls) == 3:  # a query of this thread's fails, writes still queued
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1 / 0")
        return original_check(self, *args)

    def slow_write(self, *args):
        time.sleep(0.05)
        return original_write(self, *args)

    monkeypatch.setattr(checker, "CHUNK_ROWS", 10)
    monkeypatch.setattr(engine.Importer, "_check", check)
    monkeypatch.setattr(engine.Writer, "_write", slow_write)
    with pytest.raises(DataError) as error:
        run(manager, csv_bytes([patient_row(n) for n in range(100)]))
    assert isinstance(error.value.__cause__, psycopg.errors.DivisionByZero)
    assert Patient.objects.count() == 0 and Patient.history.count() == 0


def test_a_writer_thread_without_a_cursor_fails_the_import(manager, monkeypatch):
    connection.ensure_connection()
    pg = type(connection.connection)
    original = pg.cursor

    def cursor(self, *args, **kwargs):
        if threading.current_thread().name == "import-writer":
            raise psycopg.OperationalError("no cursor for you")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(pg, "cursor", cursor)
    with pytest.raises(psycopg.OperationalError):
        run(manager, csv_bytes([patient_row(n) for n in range(20)]))
    assert Patient.objects.count() == 0


def test_a_writer_that_cannot_start_leaves_the_interpreter_as_it_was(
    manager, monkeypatch
):
    monkeypatch.setattr(runtime, "_tweaks", True)
    before = sys.getswitchinterval()

    def refuse(self):
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(threading.Thread, "start", refuse)
    with pytest.raises(RuntimeError):
        run(manager, csv_bytes([patient_row(1)]))
    assert sys.getswitchinterval() == before


@pytest.mark.parametrize("dry_run", [True, False])
def test_keys_used_before_are_found_however_far_back(manager, monkeypatch, dry_run):
    # Every key in the log's table; rows 2-3, 4-5, 6-7, ... make a chunk each.
    monkeypatch.setattr(checker, "CHUNK_ROWS", 2)
    monkeypatch.setattr(lookups, "MEMORY_KEYS", 0)
    again = [1, 6, 7, 1]  # 3, 2 and 1 chunks back, then 4
    rows = [patient_row(n) for n in range(1, 8)] + [patient_row(n) for n in again]
    job = run(manager, csv_bytes(rows), dry_run=dry_run)
    duplicate = engine.E_DUPLICATE_KEY.format
    assert [(e["row"], e["message"]) for e in job.errors] == [
        (9, duplicate(key="mrn", first=2)),
        (10, duplicate(key="mrn", first=7)),
        (11, duplicate(key="mrn", first=8)),
        (12, duplicate(key="mrn", first=2)),
    ]
    assert Patient.objects.count() == 0


def test_raw_keys_of_a_chunk_blank_and_invalid():
    spec = ENTITIES["patients"]
    importer = engine.Importer(spec=spec, options=engine.Options(), acting_user=None)
    mrn = next(c for c in spec.columns if c.attname == "mrn")
    importer.key_cells = [(0, mrn)]
    rows = [[" imp-00001 "], [""], ["no spaces allowed"], ["'-imp-2"]]

    # Cleaned as the column cleans (trimmed, upper case; the export's apostrophe
    # before a formula-like cell dropped); blank or invalid: no key.
    assert importer._raw_keys(rows) == [("IMP-00001",), None, None, ("-IMP-2",)]
    assert importer._raw_keys(rows[:1]) == [("IMP-00001",)]  # all at once
