"""Writing the audit stream: one linked, hashed row per audited act."""

import ipaddress
import json
import re
from collections.abc import Mapping
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from psycopg.pq import TransactionStatus

from ndas.logging import client_ip_var, request_id_var
from records.audit.chain import GENESIS, HASHED_FIELDS, event_hash, plain
from records.audit.models import Action, AuditEvent

# The advisory lock every audit write takes: "NDASAUDT" in ASCII. One key for the
# whole chain, so that writers in any number of processes append one at a time.
AUDIT_CHAIN_LOCK = 0x4E44_4153_4155_4454

E_UNKNOWN_ACTION = "Unknown audit action: {action!r}."
E_BAD_IP = "Not an IP address: {ip!r}."
E_DETAILS_NOT_DICT = "Audit details must be a dict of ids, counts and filters."
E_ISOLATION = (
    "Audit events must be written in a READ COMMITTED transaction (this one is "
    "{level}): an older snapshot would miss the last event and fork the chain."
)

_TABLE = AuditEvent._meta.db_table
# One round trip, two statements: the lock, then (a fresh snapshot under READ
# COMMITTED, so it sees the event committed by the lock's last holder) the chain's
# head and the new id; PostgreSQL also writes the IP the way it will give it back,
# so that the hash computed here is the one verify_audit recomputes. No parameters,
# so that it also runs with server-side binding (which allows one statement per
# query then): the lock key is ours, and the IP is written in only once
# _ip_check has found nothing in it but hex digits, dots and colons.
_LOCK_AND_HEAD_SQL = (
    f"SELECT pg_advisory_xact_lock({AUDIT_CHAIN_LOCK}); "
    f'SELECT (SELECT "hash" FROM "{_TABLE}" ORDER BY "id" DESC LIMIT 1), '
    f"nextval(pg_get_serial_sequence('{_TABLE}', 'id')), "
    "current_setting('transaction_isolation'), "
    "{ip}::inet"
)
_COLUMNS = (*HASHED_FIELDS, "hash")  # the model's attnames are its column names
_INSERT_SQL = 'INSERT INTO "{table}" ({columns}) VALUES ({values})'.format(
    table=_TABLE,
    columns=", ".join(f'"{name}"' for name in _COLUMNS),
    values=", ".join("%s::jsonb" if name == "details" else "%s" for name in _COLUMNS),
)
_DETAILS = _COLUMNS.index("details")
_ACTIONS = frozenset(Action.values)
_IP_TEXT = re.compile(r"[0-9a-f.:]+")
_LIMITS = {
    name: AuditEvent._meta.get_field(name).max_length
    for name in ("actor_username", "request_id", "summary")
}


def _ip_check(ip: str | None) -> str | None:
    if not ip:
        return None
    try:
        text = str(ipaddress.ip_address(ip.strip()))
    except ValueError:
        raise ValueError(E_BAD_IP.format(ip=ip)) from None
    # Refuses a scope id ("fe80::1%eth0"): free text, and nothing PostgreSQL keeps.
    if not _IP_TEXT.fullmatch(text):
        raise ValueError(E_BAD_IP.format(ip=ip))
    return text


def audit_record(
    *,
    action: str,
    actor=None,
    actor_username: str = "",
    ip: str | None = None,
    request_id: str | None = None,
    object_type: str = "",
    object_id: Any = "",
    patient_id: int | None = None,
    summary: str = "",
    details: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the audit chain and return it.

    `actor` is a user (or None, or an anonymous user, for a failed sign-in, say);
    `actor_username` defaults to theirs. `request_id` defaults to the current
    request's id. `object_type` is "<app_label>.<model_name>". `details` holds ids,
    counts and filters, never clinical values: it is kept for as long as the trail.
    The summary is cut to its column's 300 characters rather than refused.

    Inside a caller's transaction the chain's lock is held until that transaction
    ends, and every other audit write waits for it: record the event last, just
    before the caller commits.
    """
    if action not in _ACTIONS:
        raise ValueError(E_UNKNOWN_ACTION.format(action=action))
    if details is None:
        details = {}
    if not isinstance(details, Mapping):
        raise ValueError(E_DETAILS_NOT_DICT)
    details = plain(details)  # refuses what JSON cannot hold, before any lock
    ip = _ip_check(client_ip_var.get() if ip is None else ip)
    actor_id = getattr(actor, "pk", None)
    if not actor_username and actor_id is not None:
        actor_username = actor.get_username()
    if request_id is None:
        request_id = request_id_var.get() or ""
    values = {
        "actor_id": actor_id,
        "actor_username": actor_username[: _LIMITS["actor_username"]],
        "request_id": request_id[: _LIMITS["request_id"]],
        "action": str(action),
        "object_type": object_type,
        "object_id": "" if object_id is None else str(object_id),
        "patient_id": None if patient_id is None else int(patient_id),
        "summary": summary[: _LIMITS["summary"]],
        "details": details,
    }
    head_sql = _LOCK_AND_HEAD_SQL.format(ip=f"'{ip}'" if ip else "NULL")
    if _outside_any_transaction():
        _append_autocommit(head_sql, values)
    else:
        _append_in_transaction(head_sql, values)
    event = AuditEvent(**values)
    event._state.adding, event._state.db = False, connection.alias
    return event


def _outside_any_transaction() -> bool:
    return (
        not connection.in_atomic_block
        and connection.get_autocommit()
        # Several statements with parameters need client-side binding (the default).
        and not connection.settings_dict["OPTIONS"].get("server_side_binding")
    )


def _chain_link(cursor, values: dict[str, Any]) -> list[Any]:
    """Give the event the head just read: its id, time, prev_hash and hash.

    Returns the INSERT's parameters.
    """
    last_hash, event_id, isolation, values["ip"] = cursor.fetchone()
    if isolation != "read committed":
        raise RuntimeError(E_ISOLATION.format(level=isolation))
    values["id"] = event_id
    # Taken under the lock: times rise with ids along the chain.
    values["at"] = timezone.now()
    values["prev_hash"] = last_hash or GENESIS
    values["hash"] = event_hash(values)
    row = [values[name] for name in _COLUMNS]
    row[_DETAILS] = json.dumps(values["details"], ensure_ascii=False)
    return row


def _append_in_transaction(head_sql: str, values: dict[str, Any]) -> None:
    # No savepoint inside a caller's transaction: a failed audit write fails it.
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute(head_sql)
        cursor.nextset()  # past the lock's row
        cursor.execute(_INSERT_SQL, _chain_link(cursor, values))


def _append_autocommit(head_sql: str, values: dict[str, Any]) -> None:
    """The same in a transaction of its own, in two round trips rather than four.

    transaction.atomic() would spend one round trip on BEGIN and one on COMMIT; here
    BEGIN travels with the lock and COMMIT with the INSERT. Django still believes
    the connection is in autocommit mode, so any failure must end the transaction
    here before the connection is used again.
    """
    with connection.cursor() as cursor:
        try:
            cursor.execute("BEGIN; " + head_sql)
            cursor.nextset()  # past BEGIN
            cursor.nextset()  # past the lock's row
            cursor.execute(_INSERT_SQL + "; COMMIT", _chain_link(cursor, values))
        except BaseException:
            _rollback_if_open()
            raise


def _rollback_if_open() -> None:
    raw = connection.connection
    if raw is None or raw.closed:
        return
    if raw.info.transaction_status in (
        TransactionStatus.INTRANS,
        TransactionStatus.INERROR,
    ):
        try:
            raw.execute("ROLLBACK")
        except Exception:  # the connection is gone, and the server rolls back
            pass


def audit_object(
    *,
    action: str,
    actor,
    obj,
    summary: str = "",
    details: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """An event about one row: its type, id and (for chart rows) its patient."""
    opts = obj._meta
    if opts.label_lower == "patients.patient":
        patient_id = obj.pk
    elif opts.label_lower == "patients.patientgroupobjectpermission":
        patient_id = obj.content_object_id  # a care team's grant on a chart
    else:
        patient_id = getattr(obj, "patient_id", None)
    return audit_record(
        action=action,
        actor=actor,
        object_type=opts.label_lower,
        object_id=obj.pk,
        patient_id=patient_id,
        summary=summary or f"{action} {opts.verbose_name} #{obj.pk}",
        details=details,
    )
