"""verify_audit: an intact chain passes; rows altered, removed or forged are found."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from records.audit.chain import event_hash
from records.audit.management.commands.verify_audit import (
    E_HEAD_CHANGED,
    E_HEAD_CUT,
    E_HEAD_GONE,
    E_HEAD_SINCE,
)
from records.audit.models import Action, AuditEvent
from records.audit.verify import HASH_MISMATCH, PREV_HASH_MISMATCH, audit_chain_verify
from tests.helpers import AUDIT_TABLE, record, triggers_disabled

pytestmark = pytest.mark.django_db


def verify(*args: str) -> str:
    out = io.StringIO()
    call_command("verify_audit", *args, stdout=out)
    return out.getvalue()


def broken(*args: str) -> str:
    with pytest.raises(CommandError) as raised:
        verify(*args)
    return str(raised.value)


def skip_an_id() -> None:
    """A write rolled back after drawing its id: a gap in the ids, not in the chain."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT nextval(pg_get_serial_sequence('{AUDIT_TABLE}', 'id'))")


def test_an_empty_trail_verifies():
    assert verify().startswith("0 events verified, chain intact")


def test_an_intact_chain_verifies_and_names_its_head():
    events = record(5)
    out = verify()
    assert out.startswith("5 events verified, chain intact")
    assert f"head: event #{events[-1].pk}, hash {events[-1].hash}" in out


def test_an_altered_row_is_a_hash_mismatch_at_its_id():
    events = record(5)
    with triggers_disabled():
        AuditEvent.objects.filter(pk=events[2].pk).update(summary="Nothing happened")
    message = broken()
    assert f"broken at event #{events[2].pk}: {HASH_MISMATCH}" in message
    assert "2 events before it verified" in message


def test_an_altered_row_with_its_hash_recomputed_breaks_the_next_link():
    events = record(5)
    row = AuditEvent.objects.values().get(pk=events[2].pk)
    row["summary"] = "Nothing happened"
    with triggers_disabled():
        AuditEvent.objects.filter(pk=events[2].pk).update(
            summary=row["summary"], hash=event_hash(row)
        )
    assert f"broken at event #{events[3].pk}: {PREV_HASH_MISMATCH}" in broken()


def test_a_deleted_row_is_a_prev_hash_break_at_the_next_id():
    events = record(5)
    with triggers_disabled():
        AuditEvent.objects.filter(pk=events[2].pk).delete()
    message = broken()
    assert f"broken at event #{events[3].pk}: {PREV_HASH_MISMATCH}" in message
    assert f"the hash of event #{events[1].pk}" in message


def test_a_deleted_first_row_is_found_too():
    events = record(3)
    with triggers_disabled():
        AuditEvent.objects.filter(pk=events[0].pk).delete()
    message = broken()
    assert f"broken at event #{events[1].pk}: {PREV_HASH_MISMATCH}" in message
    assert "the genesis" in message


def test_a_forged_row_slipped_into_a_gap_is_found():
    # INSERT is allowed (the trail grows): a forger needs no trigger switched off.
    first = record(2)
    skip_an_id()
    later = record(2)
    gap = first[-1].pk + 1
    assert later[0].pk == gap + 1
    forged = {
        "id": gap,
        "at": timezone.now(),
        "actor_id": None,
        "actor_username": "clin",
        "ip": None,
        "request_id": "",
        "action": Action.DELETE,
        "object_type": "patients.patient",
        "object_id": "9",
        "patient_id": 9,
        "summary": "Deleted chart 9",
        "details": {},
        "prev_hash": first[-1].hash,  # a perfect link to the row before it
    }
    forged["hash"] = event_hash(forged)
    AuditEvent.objects.create(**forged)
    # Its own hash is right; the next row still names the row before the forgery.
    assert f"broken at event #{later[0].pk}: {PREV_HASH_MISMATCH}" in broken()


def test_a_forged_row_with_a_made_up_hash_is_found_at_its_id():
    events = record(2)
    AuditEvent.objects.create(
        at=timezone.now(),
        action=Action.EXPORT,
        summary="Exported everything",
        prev_hash=events[-1].hash,
        hash="f" * 64,
    )
    forged_id = AuditEvent.objects.latest("pk").pk
    assert f"broken at event #{forged_id}: {HASH_MISMATCH}" in broken()


def test_since_starts_at_an_id_and_checks_its_link_to_the_row_before():
    events = record(6)
    assert verify("--since", str(events[3].pk)).startswith(
        "3 events verified, chain intact"
    )
    # From the first id, the previous hash is the genesis.
    assert verify("--since", str(events[0].pk)).startswith("6 events verified")

    with triggers_disabled():
        AuditEvent.objects.filter(pk=events[1].pk).update(summary="altered")
    # A check from a later id does not reread the altered row...
    assert verify("--since", str(events[3].pk)).startswith("3 events verified")
    # ...one from an earlier id does.
    assert f"#{events[1].pk}: {HASH_MISMATCH}" in broken("--since", str(events[0].pk))

    with triggers_disabled():
        AuditEvent.objects.filter(pk=events[3].pk).delete()
    # Starting at the row after the deleted one: its link to the row before fails.
    assert f"#{events[4].pk}: {PREV_HASH_MISMATCH}" in broken(
        "--since", str(events[4].pk)
    )


def test_the_report_for_callers():
    events = record(3)
    report = audit_chain_verify(chunk_size=2)  # batches smaller than the chain
    assert report.intact and report.checked == 3
    assert (report.last_id, report.last_hash) == (events[-1].pk, events[-1].hash)
    with triggers_disabled():
        AuditEvent.objects.filter(pk=events[0].pk).update(prev_hash="1" * 64)
    report = audit_chain_verify()
    assert not report.intact and report.checked == 0
    assert report.broken.id == events[0].pk
    # prev_hash is hashed too: changing it alone is an altered row.
    assert report.broken.problem == HASH_MISMATCH
    assert "changed after it was written" in report.broken.detail


# --- a head kept outside the database ------------------------------------------------


def rewrite_from(events: list[AuditEvent], first: int) -> None:
    """What the table's owner could do: change an event and recompute every hash
    after it, so that the chain itself is intact again."""
    previous = AuditEvent.objects.get(pk=events[first - 1].pk).hash if first else None
    with triggers_disabled():
        for index, event in enumerate(events[first:]):
            row = AuditEvent.objects.values().get(pk=event.pk)
            if index == 0:
                row["summary"] = "Nothing happened"
            if previous is not None:
                row["prev_hash"] = previous
            row["hash"] = event_hash(row)
            AuditEvent.objects.filter(pk=event.pk).update(**row)
            previous = row["hash"]


def test_a_recorded_head_unchanged_passes():
    events = record(4)
    head = f"{events[2].pk}:{events[2].hash}"
    out = verify("--head", head)
    assert f"recorded head #{events[2].pk} unchanged" in out


def test_a_rewritten_trail_passes_the_chain_but_not_the_head():
    events = record(4)
    head = f"{events[-1].pk}:{events[-1].hash}"
    rewrite_from(events, 1)
    assert verify().startswith("4 events verified, chain intact")
    assert E_HEAD_CHANGED.format(id=events[-1].pk) in broken("--head", head)


def test_a_trail_cut_at_its_end_does_not_reach_the_head():
    events = record(4)
    head = f"{events[-1].pk}:{events[-1].hash}"
    with triggers_disabled():
        AuditEvent.objects.filter(pk__in=[e.pk for e in events[2:]]).delete()
    assert verify().startswith("2 events verified, chain intact")
    assert E_HEAD_CUT.format(id=events[-1].pk) in broken("--head", head)


def test_a_head_that_is_gone_below_the_end():
    events = record(3)
    head = f"{events[1].pk}:{events[1].hash}"
    with triggers_disabled():
        AuditEvent.objects.filter(pk=events[1].pk).delete()
        row = AuditEvent.objects.values().get(pk=events[2].pk)
        row["prev_hash"] = events[0].hash
        row["hash"] = event_hash(row)
        AuditEvent.objects.filter(pk=events[2].pk).update(**row)
    assert verify().startswith("2 events verified, chain intact")
    assert E_HEAD_GONE.format(id=events[1].pk) in broken("--head", head)


@pytest.mark.parametrize("given", ["7", "7:abc", "x:" + "0" * 64, "7:" + "G" * 64])
def test_a_head_not_in_the_printed_form_is_refused(given):
    assert "ID:HASH" in broken("--head", given)


def test_a_head_file_is_checked_then_kept(tmp_path):
    kept = tmp_path / "audit-head"
    events = record(2)
    # The first run: nothing to check yet, and the log says so.
    assert f"no head kept in {kept} yet" in verify("--head-file", str(kept))
    assert kept.read_text() == f"{events[-1].pk}:{events[-1].hash}\n"

    more = record(2)
    out = verify("--head-file", str(kept))
    assert f"recorded head #{events[-1].pk} unchanged" in out
    assert kept.read_text() == f"{more[-1].pk}:{more[-1].hash}\n"

    rewrite_from(events + more, 0)
    assert "the trail was rewritten" in broken("--head-file", str(kept))
    # A failed check keeps the head it checked against.
    assert kept.read_text() == f"{more[-1].pk}:{more[-1].hash}\n"


def test_a_head_file_that_cannot_be_written_is_a_clear_error(tmp_path):
    record(1)
    message = broken("--head-file", str(tmp_path / "missing-dir" / "audit-head"))
    assert "missing-dir/audit-head: No such file or directory" in message


def test_since_past_the_head_is_refused_as_it_would_leave_events_unchecked():
    events = record(6)
    head = f"{events[1].pk}:{events[1].hash}"
    refusal = E_HEAD_SINCE.format(
        since=events[4].pk, id=events[1].pk, next=events[1].pk + 1
    )
    assert refusal in broken("--since", str(events[4].pk), "--head", head)
    # From the event after the head: every later event is walked, and a rewrite
    # reaching back to the head is found there.
    assert verify("--since", str(events[2].pk), "--head", head)
    rewrite_from(events, 1)
    message = broken("--since", str(events[2].pk), "--head", head)
    assert E_HEAD_CHANGED.format(id=events[1].pk) in message


@pytest.mark.parametrize("text", ["", "garbage\n"])
def test_a_head_file_with_no_head_is_refused_and_kept(tmp_path, text):
    kept = tmp_path / "audit-head"
    kept.write_text(text)
    record(2)
    assert f"The head file {kept} holds no head" in broken("--head-file", str(kept))
    assert kept.read_text() == text


def test_an_empty_trail_does_not_reach_a_recorded_head(tmp_path):
    kept = tmp_path / "audit-head"
    kept.write_text(f"7:{'a' * 64}\n")
    assert E_HEAD_CUT.format(id=7) in broken("--head-file", str(kept))


def test_a_head_and_a_head_file_together_are_refused(tmp_path):
    with pytest.raises(CommandError, match="not allowed with argument"):
        verify("--head", f"7:{'a' * 64}", "--head-file", str(tmp_path / "h"))
