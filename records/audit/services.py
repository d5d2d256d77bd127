"""Writing the audit stream: one linked, hashed row per audited act."""

import contextlib
import json
import re
from collections.abc import Mapping
from typing import Any

from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from records.audit.chain import canonical, plain
from records.audit.models import Action, AuditEvent
from records.common.context import client_ip_var, request_id_var
from records.common.net import ip_normal

# Every audit write takes one advisory lock ("NDASAUDT" in ASCII), inside the
# audit_append() database function (migration 0004), so that writers in any
# number of processes append to the chain one at a time.

E_UNKNOWN_ACTION = "Unknown audit action: {action!r}."
E_BAD_IP = "Not an IP address: {ip!r}."
E_DETAILS_NOT_DICT = "Audit details must be a dict of ids, counts and filters."
E_ISOLATION = (
    "Audit events must be written in a READ COMMITTED transaction: an older "
    "snapshot would miss the last event and fork the chain."
)

# Slots audit_append() fills under the chain's lock (see migration 0004): the id,
# the previous event's hash, and the IP as PostgreSQL writes it.
_ID_SLOT, _PREV_SLOT, _IP_SLOT = "@ID@", "@PREV@", "@IP@"
_ISOLATION_REFUSED = "must be written under READ COMMITTED"
_APPEND_SQL = "SELECT * FROM audit_append(" + ", ".join(["%s"] * 11) + ", %s::jsonb)"

_ACTIONS = frozenset(Action.values)
_IP_TEXT = re.compile(r"[0-9a-f.:]+")
_LIMITS = {
    name: AuditEvent._meta.get_field(name).max_length
    for name in ("actor_username", "request_id", "summary")
}


def _ip_check(ip: str | None) -> str | None:
    if not ip:
        return None
    text = ip_normal(ip)
    # Refuses a scope id ("fe80::1%eth0"): free text, and nothing PostgreSQL keeps.
    if text is None or not _IP_TEXT.fullmatch(text):
        raise ValueError(E_BAD_IP.format(ip=ip))
    return text


def audit_record(
    *,
    action: Action,
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
    values.update(id=_ID_SLOT, prev_hash=_PREV_SLOT, ip=_IP_SLOT if ip else None)
    values["at"] = timezone.now()
    template = canonical(values).decode()
    with _statement_scope(), connection.cursor() as cursor:
        try:
            cursor.execute(_APPEND_SQL, _append_params(template, values, ip, details))
        except DatabaseError as error:
            if _ISOLATION_REFUSED in str(error):
                raise RuntimeError(E_ISOLATION) from error
            raise
        values["id"], values["hash"], values["prev_hash"] = cursor.fetchone()
    values["ip"] = ip
    event = AuditEvent(**values)
    event._state.adding, event._state.db = False, connection.alias
    return event


def _statement_scope():
    """Inside a caller's transaction, a failed write must fail it (Django marks it
    for rollback); outside, the one statement is a transaction of its own."""
    if connection.in_atomic_block:
        return transaction.atomic(savepoint=False)
    return contextlib.nullcontext()


def _append_params(template: str, values: dict, ip, details) -> list:
    return [
        template,
        values["at"],
        values["actor_id"],
        values["actor_username"],
        ip,
        values["request_id"],
        values["action"],
        values["object_type"],
        values["object_id"],
        values["patient_id"],
        values["summary"],
        json.dumps(details, ensure_ascii=False),
    ]


def audit_object(
    *,
    action: Action,
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
