"""Checking the audit chain: every hash recomputed, every link followed, in id order."""

from dataclasses import dataclass

from django.db import transaction

from records.audit.chain import GENESIS, HASHED_FIELDS, event_hash
from records.audit.models import AuditEvent

HASH_MISMATCH = "hash mismatch"
PREV_HASH_MISMATCH = "prev_hash mismatch"

E_ALTERED = (
    "its stored hash {stored} is not the hash of its contents {computed}: "
    "the row was changed after it was written"
)
E_LINK = (
    "its prev_hash {found} is not {expected}, the hash of {previous}: "
    "an event was removed or inserted before it"
)


@dataclass(frozen=True)
class ChainBreak:
    id: int
    problem: str  # HASH_MISMATCH or PREV_HASH_MISMATCH
    detail: str


@dataclass(frozen=True)
class ChainReport:
    checked: int  # events found intact, in id order, before any break
    last_id: int | None  # the last intact event: record it to spot a cut tail
    last_hash: str | None
    broken: ChainBreak | None

    @property
    def intact(self) -> bool:
        return self.broken is None


def _short(digest: str | None) -> str:
    return f"{digest[:12]}..." if digest else repr(digest)


def audit_chain_verify(
    *, since: int | None = None, chunk_size: int = 5000
) -> ChainReport:
    """Walk the chain from the first event (or from id `since`) to the last.

    From the first event, its prev_hash must be GENESIS; from `since`, it must be
    the hash of the event just before `since` (GENESIS if there is none), so that a
    check can resume where the last one ended. Stops at the first broken link.

    A chain cut short at its end, or rewritten from some row onwards with every
    hash recomputed, still verifies: compare `last_hash` with one kept elsewhere.
    """
    rows = AuditEvent.objects.order_by("id").values_list(*HASHED_FIELDS, "hash")
    expected, previous = GENESIS, "the genesis (no event before it)"
    if since is not None:
        rows = rows.filter(id__gte=since)
        before = (
            AuditEvent.objects.filter(id__lt=since)
            .order_by("-id")
            .values_list("id", "hash")
            .first()
        )
        if before is not None:
            expected, previous = before[1], f"event #{before[0]}"
    checked, last_id, last_hash = 0, None, None
    # In a transaction, the server-side cursor streams (WITH HOLD would first copy
    # the whole table on the server) and every batch reads the same snapshot.
    with transaction.atomic():
        for row in rows.iterator(chunk_size=chunk_size):
            fields = dict(zip(HASHED_FIELDS, row))
            stored = row[-1]
            computed = event_hash(fields)
            problem = None
            if computed != stored:
                problem = HASH_MISMATCH
                detail = E_ALTERED.format(
                    stored=_short(stored), computed=_short(computed)
                )
            elif fields["prev_hash"] != expected:
                problem = PREV_HASH_MISMATCH
                detail = E_LINK.format(
                    found=_short(fields["prev_hash"]),
                    expected=_short(expected),
                    previous=previous,
                )
            if problem:
                return ChainReport(
                    checked=checked,
                    last_id=last_id,
                    last_hash=last_hash,
                    broken=ChainBreak(id=fields["id"], problem=problem, detail=detail),
                )
            checked += 1
            last_id, last_hash = fields["id"], stored
            expected, previous = stored, f"event #{last_id}"
    return ChainReport(
        checked=checked, last_id=last_id, last_hash=last_hash, broken=None
    )
