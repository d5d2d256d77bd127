"""A database restored from a backup, in the audit trail.

A backup holds the trail up to its head, event K. Restored, the trail ends at K
again: the events written after the backup are gone, and a head kept outside the
database from that time (verify_audit's head file) is no longer reached. The
`restore` event says so in the trail itself. It is written directly after K (its
prev_hash is K's hash), and its details name K ("backup_head") and the heads kept
from the lost events that it answers for ("lost_heads"):

    1..K (as backed up)  ->  R: restore, backup_head "K:hash", lost_heads ["M:hash"]
                         ->  R+1 ... (the application again)

A recorded head M that the trail no longer holds is accounted for by such an event
when M is past K and either the event names M:hash, or M lies between K and R (no
event of this trail has such an id, so the head was kept on the lost branch). Any
other head is still a rewrite or a cut. Undoing a truncation this way takes a
`restore` event, written through audit_append() like any other, chained, shown in
the console and reported by every verify_audit run that relies on it.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction

from records.audit.chain import GENESIS
from records.audit.models import Action, AuditEvent
from records.audit.services import audit_record
from records.audit.verify import audit_chain_verify

HEAD = re.compile(r"(\d+):([0-9a-f]{64})")
REASON_MAX = 200

E_BROKEN = (
    "The restored trail is broken at event #{id} ({problem}): it is not recorded "
    "as restored; restore an intact backup."
)
E_NOT_THE_BACKUP = (
    "The restored trail does not hold the backup's head, event #{id} with that "
    "hash: this database is not the one that backup holds."
)
E_WRITTEN_SINCE = (
    "The trail's last event is #{last}, after the backup's head #{id}: events were "
    "written since the restore. Restore the dump again and run this before migrate "
    "and before the application starts."
)
E_ALREADY = (
    "The restore from this backup is already recorded, as event #{id}: nothing more "
    "to record."
)
E_LOST_INSIDE = (
    "The head #{lost} is not past the backup's head #{id}: the restored trail "
    "holds it; check it with verify_audit --head instead."
)
E_LOST_CHANGED = (
    "The head #{lost} is inside the backup, but the restored trail holds another "
    "event there: this backup is not of the trail that head was kept from."
)
E_RACE = (
    "Another event was written while the restore was being recorded: nothing was "
    "recorded. Stop the application and run this again."
)
E_REASON = "Give a reason (1 to {max} characters, one line).".format(max=REASON_MAX)


class RestoreRefused(Exception):
    """The restore cannot be recorded; the message says why, in one line."""


@dataclass(frozen=True)
class Restore:
    event_id: int  # the restore event, R
    backup_id: int  # the backup's head, K


def head_parse(text: str) -> tuple[int, str] | None:
    match = HEAD.fullmatch(text.strip()) if isinstance(text, str) else None
    return (int(match.group(1)), match.group(2)) if match else None


def trail_holds(head_id: int, head_hash: str) -> bool:
    if head_id == 0:
        return head_hash == GENESIS  # the empty trail's head
    return AuditEvent.objects.filter(pk=head_id, hash=head_hash).exists()


def restore_record(
    *,
    backup_head: tuple[int, str],
    reason: str,
    lost_heads: Iterable[tuple[int, str]] = (),
) -> AuditEvent:
    """Record that the database was restored from the backup whose audit head is
    `backup_head` (event 0 with the genesis hash: a backup of an empty trail).

    The restored trail must be intact and end at that head: the event is written
    right after it, before anything else is (run before migrate and before the
    application serves). `lost_heads` are heads kept outside the database after
    the backup was taken (verify_audit's head file): they are named as lost.
    """
    reason = " ".join(reason.split())
    if not reason or len(reason) > REASON_MAX:
        raise RestoreRefused(E_REASON)
    backup_id, backup_hash = backup_head
    lost = []
    for lost_id, lost_hash in lost_heads:
        if lost_id > backup_id:
            lost.append(f"{lost_id}:{lost_hash}")
        elif trail_holds(lost_id, lost_hash):
            raise RestoreRefused(E_LOST_INSIDE.format(lost=lost_id, id=backup_id))
        else:
            raise RestoreRefused(E_LOST_CHANGED.format(lost=lost_id))
    report = audit_chain_verify()
    if report.broken is not None:
        raise RestoreRefused(
            E_BROKEN.format(id=report.broken.id, problem=report.broken.problem)
        )
    last_id = report.last_id or 0
    if not trail_holds(backup_id, backup_hash):
        raise RestoreRefused(E_NOT_THE_BACKUP.format(id=backup_id))
    if last_id != backup_id:
        last = AuditEvent.objects.filter(pk=last_id).values("action", "prev_hash")
        if list(last) == [{"action": Action.RESTORE, "prev_hash": backup_hash}]:
            raise RestoreRefused(E_ALREADY.format(id=last_id))
        raise RestoreRefused(E_WRITTEN_SINCE.format(last=last_id, id=backup_id))
    lost_through = max((int(head.split(":")[0]) for head in lost), default=None)
    summary = f"Restored from backup: the trail resumes after event #{backup_id}"
    if lost_through is not None:
        summary += f"; events #{backup_id + 1} to at least #{lost_through} were lost"
    with transaction.atomic():
        event = audit_record(
            action=Action.RESTORE,
            object_type=AuditEvent._meta.label_lower,
            object_id=backup_id,
            summary=f"{summary}. Reason: {reason}",
            details={
                "backup_head": f"{backup_id}:{backup_hash}",
                "lost_heads": sorted(set(lost)),
                "lost_after": backup_id,
                "lost_through_at_least": lost_through,
            },
        )
        if event.prev_hash != backup_hash:
            # Something was appended between the check and this event: it would
            # not follow the backup's head. Rolled back.
            raise RestoreRefused(E_RACE)
    return event


def restore_for_head(head_id: int, head_hash: str) -> Restore | None:
    """The restore event that accounts for a recorded head the trail no longer
    holds (see the module's docstring), or None: then the head was cut or
    rewritten."""
    head = f"{head_id}:{head_hash}"
    events = AuditEvent.objects.filter(action=Action.RESTORE).order_by("-id")
    for event_id, prev_hash, details in events.values_list(
        "id", "prev_hash", "details"
    ):
        if not isinstance(details, dict):
            continue
        backup = head_parse(details.get("backup_head"))
        if backup is None or head_id <= backup[0] or prev_hash != backup[1]:
            continue
        if not trail_holds(*backup):
            continue
        lost_heads = details.get("lost_heads")
        named = isinstance(lost_heads, list) and head in lost_heads
        if named or head_id < event_id:
            return Restore(event_id=event_id, backup_id=backup[0])
    return None
