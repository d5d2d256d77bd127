"""audit_restored and verify_audit after a restore from backup: the restore event
accounts for the heads kept on the lost events, and for nothing else."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from records.audit import restore as restore_module
from records.audit.chain import GENESIS
from records.audit.management.commands.verify_audit import (
    E_HEAD_CHANGED,
    E_HEAD_CUT,
    RESTORED,
)
from records.audit.models import Action, AuditEvent
from records.audit.restore import (
    E_ALREADY,
    E_BROKEN,
    E_LOST_CHANGED,
    E_LOST_INSIDE,
    E_NOT_THE_BACKUP,
    E_RACE,
    E_WRITTEN_SINCE,
    restore_for_head,
)
from records.audit.services import audit_record
from tests.helpers import AUDIT_TABLE, record, triggers_disabled

pytestmark = pytest.mark.django_db

REASON = "Disk lost on db-1; restored by the on-call engineer"


def run(name: str, *args: str) -> str:
    out = io.StringIO()
    call_command(name, *args, stdout=out)
    return out.getvalue()


def refused(name: str, *args: str) -> str:
    with pytest.raises(CommandError) as raised:
        run(name, *args)
    return str(raised.value)


def head(event: AuditEvent) -> str:
    return f"{event.pk}:{event.hash}"


def restore_to(backup: AuditEvent | None, *, sequence_back: bool = True) -> None:
    """What pg_restore of a backup taken at `backup` leaves: the trail up to it, and
    (as the dump had it) the id sequence where it was then."""
    last = backup.pk if backup else 0
    with triggers_disabled():
        AuditEvent.objects.filter(pk__gt=last).delete()
    if sequence_back:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{AUDIT_TABLE}', 'id'), %s, %s)",
                [max(last, 1), last > 0],
            )


def test_a_restore_accounts_for_the_head_kept_on_the_lost_events(tmp_path):
    kept = tmp_path / "audit-head"
    backup = record(3)[-1]
    lost = record(2)
    run("verify_audit", "--head-file", str(kept))  # the day's check, after the backup
    assert kept.read_text() == f"{head(lost[-1])}\n"

    restore_to(backup)
    # Restored, the trail no longer reaches the kept head: a cut, as it should be.
    assert E_HEAD_CUT.format(id=lost[-1].pk) in refused(
        "verify_audit", "--head-file", str(kept)
    )

    out = run(
        "audit_restored",
        "--backup-head",
        head(backup),
        "--reason",
        REASON,
        "--head-file",
        str(kept),
    )
    event = AuditEvent.objects.latest("pk")
    assert out.startswith(f"Restore recorded as audit event #{event.pk}")
    assert f"lost head #{lost[-1].pk} accounted for" in out
    assert (event.action, event.prev_hash) == (Action.RESTORE, backup.hash)
    assert event.pk == backup.pk + 1  # the restored sequence: lost ids reused
    assert event.details == {
        "backup_head": head(backup),
        "lost_heads": [head(lost[-1])],
        "lost_after": backup.pk,
        "lost_through_at_least": lost[-1].pk,
    }
    assert REASON in event.summary

    out = run("verify_audit", "--head-file", str(kept))
    assert out.startswith("4 events verified, chain intact")
    assert "trail restored from backup at event #%d" % event.pk in out
    assert RESTORED.format(at=event.pk, id=lost[-1].pk, backup=backup.pk) in out
    assert kept.read_text() == f"{head(event)}\n"  # the new head, from now on
    assert "recorded head #%d unchanged" % event.pk in run(
        "verify_audit", "--head-file", str(kept)
    )
    # Run again by mistake: said so, nothing written.
    again = refused("audit_restored", "--backup-head", head(backup), "--reason", REASON)
    assert again == E_ALREADY.format(id=event.pk)
    # From the restore event on: linked to the backup's head.
    assert run("verify_audit", "--since", str(event.pk)).startswith("1 events verified")


def test_a_head_the_restore_does_not_name_is_still_a_failure():
    backup = record(2)[-1]
    lost = record(3)
    restore_to(backup)
    run("audit_restored", "--backup-head", head(backup), "--reason", REASON)
    # The restore took id backup+1, which the lost trail had too.
    assert E_HEAD_CHANGED.format(id=lost[0].pk) in refused(
        "verify_audit", "--head", head(lost[0])
    )
    assert E_HEAD_CUT.format(id=lost[-1].pk) in refused(
        "verify_audit", "--head", head(lost[-1])
    )


def test_a_lost_head_between_the_backup_and_the_restore_event_is_accounted_for():
    # The sequence was past the lost ids (a dump's sequence may be ahead of its
    # rows): no event of the restored trail can have such an id.
    backup = record(2)[-1]
    lost = record(2)
    restore_to(backup, sequence_back=False)
    run("audit_restored", "--backup-head", head(backup), "--reason", REASON)
    event = AuditEvent.objects.latest("pk")
    assert event.pk > lost[-1].pk
    out = run("verify_audit", "--head", head(lost[-1]))
    assert RESTORED.format(at=event.pk, id=lost[-1].pk, backup=backup.pk) in out


def test_a_restore_does_not_cover_a_truncation_after_it():
    backup = record(2)[-1]
    record(2)
    restore_to(backup)
    run("audit_restored", "--backup-head", head(backup), "--reason", REASON)
    later = record(4)
    kept = head(later[-1])
    assert "unchanged" in run("verify_audit", "--head", kept)
    # The owner cuts the trail after the restore: the old restore event names the
    # backup's head, but not this head, which lies past the restore event.
    with triggers_disabled():
        AuditEvent.objects.filter(pk__gt=later[1].pk).delete()
    assert E_HEAD_CUT.format(id=later[-1].pk) in refused("verify_audit", "--head", kept)


def test_a_head_inside_the_backup_that_changed_is_still_a_failure():
    events = record(3)
    record(1)
    restore_to(events[-1])
    run("audit_restored", "--backup-head", head(events[-1]), "--reason", REASON)
    forged = f"{events[1].pk}:{'a' * 64}"
    assert E_HEAD_CHANGED.format(id=events[1].pk) in refused(
        "verify_audit", "--head", forged
    )
    assert restore_for_head(events[1].pk, "a" * 64) is None


def test_a_restore_event_written_elsewhere_accounts_for_nothing():
    # audit_append() is open to the application's role: a restore event can be
    # appended anywhere, but one that does not follow the head it names counts
    # for nothing (and stays in the trail, chained).
    backup = record(2)[-1]
    lost = record(2)
    restore_to(backup)
    record(1)
    audit_record(
        action=Action.RESTORE,
        summary="forged",
        details={"backup_head": head(backup), "lost_heads": [head(lost[-1])]},
    )
    assert restore_for_head(lost[-1].pk, lost[-1].hash) is None
    assert "the trail was rewritten" in refused(
        "verify_audit", "--head", head(lost[-1])
    )
    # Nor does one whose details are not what audit_restored writes.
    audit_record(action=Action.RESTORE, details={"backup_head": "garbage"})
    assert restore_for_head(lost[-1].pk, lost[-1].hash) is None


def test_a_backup_of_an_empty_trail():
    lost = record(2)
    restore_to(None)
    out = run(
        "audit_restored",
        "--backup-head",
        f"0:{GENESIS}",
        "--reason",
        REASON,
        "--lost-head",
        head(lost[-1]),
    )
    assert "after the backup's head #0" in out
    assert "trail restored from backup" in run("verify_audit", "--head", head(lost[-1]))


def test_the_restored_trail_must_be_the_backups():
    events = record(3)
    message = refused(
        "audit_restored",
        "--backup-head",
        f"{events[-1].pk}:{'b' * 64}",
        "--reason",
        "x",
    )
    assert message == E_NOT_THE_BACKUP.format(id=events[-1].pk)
    # Events written after the restore (migrate, the application) come first.
    message = refused(
        "audit_restored", "--backup-head", head(events[1]), "--reason", REASON
    )
    assert message == E_WRITTEN_SINCE.format(last=events[-1].pk, id=events[1].pk)
    with triggers_disabled():
        AuditEvent.objects.filter(pk=events[0].pk).update(summary="altered")
    message = refused(
        "audit_restored", "--backup-head", head(events[-1]), "--reason", REASON
    )
    assert message == E_BROKEN.format(id=events[0].pk, problem="hash mismatch")
    assert not AuditEvent.objects.filter(action=Action.RESTORE).exists()


def test_lost_heads_must_be_past_the_backup(tmp_path):
    events = record(3)
    backup = head(events[-1])
    message = refused(
        "audit_restored",
        *("--backup-head", backup, "--reason", REASON, "--lost-head", head(events[0])),
    )
    assert message == E_LOST_INSIDE.format(lost=events[0].pk, id=events[-1].pk)
    other = f"{events[0].pk}:{'c' * 64}"
    message = refused(
        "audit_restored",
        *("--backup-head", backup, "--reason", REASON, "--lost-head", other),
    )
    assert message == E_LOST_CHANGED.format(lost=events[0].pk)
    # A head file older than the backup: checked, nothing to name.
    kept = tmp_path / "audit-head"
    kept.write_text(other + "\n")
    assert refused(
        "audit_restored",
        "--backup-head",
        backup,
        "--reason",
        REASON,
        "--head-file",
        str(kept),
    ) == E_LOST_CHANGED.format(lost=events[0].pk)
    kept.write_text(head(events[0]) + "\n")
    out = run(
        "audit_restored",
        "--backup-head",
        backup,
        "--reason",
        REASON,
        "--head-file",
        str(kept),
    )
    assert "accounted for" not in out


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--backup-head", "7"], "--backup-head takes ID:HASH"),
        (["--backup-head", f"7:{'a' * 64}", "--lost-head", "x"], "--lost-head takes"),
        (["--backup-head", f"0:{GENESIS}", "--reason", " "], "Give a reason"),
        (["--backup-head", f"0:{GENESIS}", "--reason", "x" * 201], "Give a reason"),
    ],
)
def test_malformed_arguments_are_refused_in_one_line(args, expected):
    if "--reason" not in args:
        args = [*args, "--reason", REASON]
    message = refused("audit_restored", *args)
    assert expected in message and "\n" not in message


def test_a_head_file_that_cannot_be_read_or_holds_no_head(tmp_path):
    common = ["--backup-head", f"0:{GENESIS}", "--reason", REASON, "--head-file"]
    missing = tmp_path / "none"
    assert f"{missing}: No such file or directory" in refused(
        "audit_restored", *common, str(missing)
    )
    garbled = tmp_path / "garbled"
    garbled.write_text("garbage\n")
    assert "holds no head" in refused("audit_restored", *common, str(garbled))


def test_an_event_slipped_in_while_recording_rolls_the_restore_back(monkeypatch):
    backup = record(2)[-1]
    verify = restore_module.audit_chain_verify

    def verify_then_someone_writes():
        report = verify()
        record(1)
        return report

    monkeypatch.setattr(
        restore_module, "audit_chain_verify", verify_then_someone_writes
    )
    assert (
        refused("audit_restored", "--backup-head", head(backup), "--reason", REASON)
        == E_RACE
    )
    assert not AuditEvent.objects.filter(action=Action.RESTORE).exists()
