"""audit_record: linked, hashed rows; the database refuses to change or remove them."""

import re
import threading

import pytest
from django.db import (
    DatabaseError,
    DataError,
    connection,
    transaction,
)
from django.db.transaction import TransactionManagementError
from psycopg.pq import TransactionStatus

from records.common.context import request_id_var
from records.audit.chain import GENESIS, HASHED_FIELDS, event_hash
from records.audit.models import Action, AuditEvent
from records.audit.services import E_UNKNOWN_ACTION, audit_record
from records.audit.verify import audit_chain_verify

pytestmark = pytest.mark.django_db

TABLE = AuditEvent._meta.db_table


def stored_fields(event: AuditEvent) -> dict:
    """The event as the database gives it back."""
    return AuditEvent.objects.values(*HASHED_FIELDS, "hash").get(pk=event.pk)


def test_events_are_linked_in_id_order_from_genesis(make_user):
    user = make_user("clin")  # the account's creation is the trail's first event
    previous = AuditEvent.objects.order_by("-id").first()
    token = request_id_var.set("req-7f3a9c21")
    try:
        events = [
            audit_record(
                action=Action.VIEW,
                actor=user,
                object_type="patients.patient",
                object_id=n,
                patient_id=n,
                summary=f"Opened chart {n}",
                details={"tab": "assessments"},
            )
            for n in (1, 2, 3)
        ]
    finally:
        request_id_var.reset(token)

    assert [e.pk for e in events] == sorted(e.pk for e in events)
    assert AuditEvent.objects.order_by("id").first().prev_hash == GENESIS
    assert events[0].prev_hash == previous.hash
    assert events[1].prev_hash == events[0].hash
    assert events[2].prev_hash == events[1].hash
    for event in events:
        row = stored_fields(event)
        assert row["hash"] == event.hash == event_hash(row)
        assert row["request_id"] == "req-7f3a9c21"
        assert row["actor_id"] == user.pk and row["actor_username"] == "clin"
        assert row["object_id"] == str(row["patient_id"])
    assert audit_chain_verify().checked == AuditEvent.objects.count()


def test_without_a_request_the_request_id_is_blank_and_the_actor_optional():
    event = audit_record(
        action=Action.LOGIN_FAILURE, actor_username="nobody", ip="192.0.2.7"
    )
    row = stored_fields(event)
    assert row["request_id"] == "" and row["actor_id"] is None
    assert row["actor_username"] == "nobody" and row["ip"] == "192.0.2.7"
    assert event_hash(row) == event.hash


def test_explicit_request_id_and_username_win_over_the_defaults(make_user):
    token = request_id_var.set("req-from-context")
    try:
        event = audit_record(
            action=Action.GRANT,
            actor=make_user("admin1"),
            actor_username="admin1 (as deputy)",
            request_id="req-explicit-0001",
        )
    finally:
        request_id_var.reset(token)
    assert event.request_id == "req-explicit-0001"
    assert event.actor_username == "admin1 (as deputy)"


@pytest.mark.parametrize(
    "given, stored",
    [
        ("::FFFF:192.0.2.1", "::ffff:192.0.2.1"),
        ("2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
        ("::192.0.2.1", "::192.0.2.1"),
        (" 198.51.100.4 ", "198.51.100.4"),
    ],
)
def test_ip_addresses_are_hashed_as_the_database_stores_them(given, stored):
    event = audit_record(action=Action.LOGIN, actor_username="x", ip=given)
    row = stored_fields(event)
    assert row["ip"] == stored
    assert event_hash(row) == event.hash


def test_details_come_back_with_the_same_hash():
    event = audit_record(
        action=Action.EXPORT,
        actor_username="dm",
        details={
            "filters": {"status": "active", "team": [3, 5]},
            "rows": 1200,
            "huge": 1e20,
            "ratio": 0.1,
            "note": "Zoë's team, ✓",
        },
    )
    row = stored_fields(event)
    assert row["details"]["huge"] == 10**20
    assert event_hash(row) == event.hash
    assert audit_chain_verify().intact


def test_long_summaries_are_cut_to_the_column():
    event = audit_record(action=Action.VIEW, summary="x" * 400)
    assert len(stored_fields(event)["summary"]) == 300


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"action": "peek"}, E_UNKNOWN_ACTION.format(action="peek")),
        ({"action": "view", "ip": "not-an-ip"}, "Not an IP address"),
        ({"action": "view", "ip": "fe80::1%'; DROP TABLE x; --"}, "Not an IP"),
        ({"action": "view", "details": {"on": object()}}, "must be JSON"),
        ({"action": "view", "details": ["not", "a", "dict"]}, "must be a dict"),
    ],
    ids=["unknown-action", "bad-ip", "ip-scope-id", "not-json", "not-a-dict"],
)
def test_bad_events_are_refused_and_nothing_is_written(kwargs, error):
    with pytest.raises(ValueError, match=re.escape(error)):
        audit_record(**kwargs)
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("action", ["VIEW", "Viewed", "mediafile preview", ""])
def test_an_action_not_of_the_enum_is_refused_at_call_time(action):
    with pytest.raises(
        ValueError, match=re.escape(E_UNKNOWN_ACTION.format(action=action))
    ):
        audit_record(action=action)
    assert not AuditEvent.objects.exists()


def test_an_enum_action_is_stored_as_its_plain_value():
    event = audit_record(action=Action.MFA_RESET)
    stored = AuditEvent.objects.values_list("action", flat=True).get(pk=event.pk)
    assert stored == "mfa_reset"
    assert type(stored) is str


def test_an_event_rolled_back_with_its_transaction_leaves_no_gap_in_the_chain():
    first = audit_record(action=Action.VIEW)
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_record(action=Action.UPDATE)
        raise RuntimeError("the audited work failed")
    last = audit_record(action=Action.VIEW)
    assert last.prev_hash == first.hash
    assert audit_chain_verify().checked == 2


def test_a_user_deleted_leaves_their_events_untouched(make_user):
    user = make_user("leaver")
    event = audit_record(action=Action.LOGIN, actor=user)
    # NDAS refuses to delete a user; deleted in the database itself, then: no
    # foreign key, no ON DELETE, nothing to update in the trail.
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM users_user WHERE id = %s", [user.pk])
    row = stored_fields(event)
    assert row["actor_id"] == event.actor_id and row["actor_username"] == "leaver"
    assert event_hash(row) == event.hash


# --- the database guards the table --------------------------------------------------


def attempt(sql_or_callable) -> Exception:
    """Run one write in its own savepoint; return what the database raised."""
    with pytest.raises(DatabaseError) as raised, transaction.atomic():
        if callable(sql_or_callable):
            sql_or_callable()
        else:
            with connection.cursor() as cursor:
                cursor.execute(sql_or_callable)
    return raised.value


def test_the_database_refuses_update_delete_and_truncate():
    events = [audit_record(action=Action.VIEW, summary=f"event {n}") for n in (1, 2)]
    pk = events[0].pk

    refusals = [
        attempt(lambda: AuditEvent.objects.filter(pk=pk).update(summary="edited")),
        attempt(lambda: AuditEvent.objects.filter(pk=pk).delete()),
        attempt(lambda: events[0].save()),  # an UPDATE of every column
        attempt(f'UPDATE "{TABLE}" SET "hash" = "prev_hash"'),
        attempt(f'DELETE FROM "{TABLE}"'),
        attempt(f'TRUNCATE "{TABLE}"'),
        attempt(f'TRUNCATE "{TABLE}", "users_loginevent"'),  # as flush does
    ]

    for error in refusals:
        # The trigger's RAISE (SQLSTATE P0001): psycopg 3 calls it a ProgrammingError.
        assert error.__cause__.sqlstate == "P0001", repr(error)
        assert "append-only" in str(error)
    assert "UPDATE" in str(refusals[0]) and "DELETE" in str(refusals[1])
    assert "TRUNCATE" in str(refusals[5])
    assert list(
        AuditEvent.objects.order_by("pk").values_list("summary", flat=True)
    ) == [
        "event 1",
        "event 2",
    ]
    assert audit_chain_verify().checked == 2


def test_an_empty_table_may_be_truncated_as_django_flush_does():
    with connection.cursor() as cursor:
        cursor.execute(f'TRUNCATE "{TABLE}"')  # nothing to destroy: allowed
    audit_record(action=Action.VIEW)
    assert attempt(f'TRUNCATE "{TABLE}"').__cause__.sqlstate == "P0001"


def test_a_failed_audit_write_fails_the_callers_transaction():
    first = audit_record(action=Action.VIEW)
    with transaction.atomic():
        with pytest.raises(DataError):
            audit_record(action=Action.UPDATE, object_type="x" * 101)
        # The audited work cannot go on and commit without its audit event.
        with pytest.raises(TransactionManagementError):
            AuditEvent.objects.count()
    assert audit_record(action=Action.VIEW).prev_hash == first.hash


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "bad",
    [{"object_type": "x" * 101}, {"summary": "NUL \x00 byte"}],
    ids=["refused-by-the-server", "refused-by-the-driver"],
)
def test_outside_a_transaction_a_failed_write_leaves_the_connection_clean(
    bad, audit_emptied_after
):
    first = audit_record(action=Action.VIEW)
    with pytest.raises(DataError):
        audit_record(action=Action.UPDATE, **bad)
    # Nothing left open behind Django's back: still autocommit, nothing pending.
    assert connection.get_autocommit() and not connection.in_atomic_block
    assert connection.connection.info.transaction_status == TransactionStatus.IDLE
    last = audit_record(action=Action.VIEW)
    assert last.prev_hash == first.hash
    assert audit_chain_verify().checked == AuditEvent.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_repeatable_read_transaction_is_refused(audit_emptied_after):
    # Its snapshot predates the lock: it could miss the last event and fork the chain.
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        with pytest.raises(RuntimeError, match="READ COMMITTED"):
            audit_record(action=Action.VIEW)
    assert not AuditEvent.objects.exists()


# --- several writers at once -------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_keep_one_linear_chain(audit_emptied_after):
    threads, per_thread = 2, 50
    start = threading.Barrier(threads)
    errors = []

    def write(worker: int) -> None:
        try:
            start.wait()
            for n in range(per_thread):
                audit_record(
                    action=Action.VIEW,
                    actor_username=f"worker{worker}",
                    request_id=f"req-worker{worker}-{n:04d}",
                    summary=f"event {n} of worker {worker}",
                )
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    workers = [threading.Thread(target=write, args=(w,)) for w in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()

    assert errors == []
    report = audit_chain_verify()
    assert report.intact, report.broken
    assert report.checked == AuditEvent.objects.count() == threads * per_thread
    prev_hashes = list(AuditEvent.objects.values_list("prev_hash", flat=True))
    assert len(set(prev_hashes)) == len(prev_hashes)
    assert prev_hashes.count(GENESIS) == 1
    per_worker = AuditEvent.objects.filter(actor_username="worker0").count()
    assert per_worker == per_thread
