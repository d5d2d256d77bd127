"""Check the audit chain end to end, or from an id onwards (manage.py verify_audit)."""

import os
import re
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from records.audit.models import AuditEvent
from records.audit.restore import Restore, restore_for_head
from records.audit.verify import audit_chain_verify

E_BROKEN = "Audit chain broken at event #{id}: {problem}; {detail}. {checked} verified."
E_HEAD_FORM = (
    "A head is ID:HASH, an event's id and hash as this command prints them "
    "(got {given!r})."
)
E_HEAD_FILE_FORM = "The head file {path} holds no head (ID:HASH): {given!r}."
E_HEAD_FILE = "The head file {path}: {error}."
E_HEAD_SINCE = (
    "--since #{since} would leave the events after the recorded head #{id} "
    "unchecked: start at #{next} at the latest."
)
E_HEAD_CUT = (
    "The trail ends before the recorded head, event #{id}: events were removed "
    "from its end."
)
E_HEAD_GONE = "Event #{id}, the recorded head, is gone: the trail was rewritten."
E_HEAD_CHANGED = (
    "Event #{id}, the recorded head, has another hash: the trail was rewritten."
)
NO_HEAD_YET = "no head kept in {path} yet: this run's is the first"
RESTORED = (
    "trail restored from backup at event #{at}: the recorded head #{id} was kept "
    "on events lost with the restore (the backup ends at event #{backup})"
)
HEAD = re.compile(r"(\d+):([0-9a-f]{64})")


class Command(BaseCommand):
    help = (
        "Recompute every audit event's hash and follow every link, in id order. "
        "Exits non-zero at the first broken link."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--since",
            type=int,
            metavar="ID",
            help="Start at this event id, linking it to the event before it "
            "(an incremental check from the last verified head).",
        )
        parser.add_argument(
            "--chunk-size", type=int, default=5000, help="Rows read per batch."
        )
        heads = parser.add_mutually_exclusive_group()
        heads.add_argument(
            "--head",
            metavar="ID:HASH",
            help="A head an earlier run printed, kept outside the database: the "
            "trail must still reach that event, with that hash (or a restore from "
            "backup, recorded by audit_restored, must account for it).",
        )
        heads.add_argument(
            "--head-file",
            type=Path,
            metavar="PATH",
            help="Check the head kept in this file (none the first time), then "
            "keep the new head there.",
        )

    def handle(
        self, *args, since=None, chunk_size=5000, head=None, head_file=None, **options
    ) -> None:
        notes = []
        recorded = _parsed(head, E_HEAD_FORM.format(given=head)) if head else None
        if head_file is not None:
            if head_file.exists():
                text = _file_io(head_file, head_file.read_text).strip()
                form = E_HEAD_FILE_FORM.format(path=head_file, given=text)
                recorded = _parsed(text, form)  # an empty file is no first run
            else:
                notes.append(NO_HEAD_YET.format(path=head_file))
        if recorded is not None and since is not None and since > recorded[0] + 1:
            # Nothing would link the events after the head to it.
            raise CommandError(
                E_HEAD_SINCE.format(since=since, id=recorded[0], next=recorded[0] + 1)
            )
        report = audit_chain_verify(since=since, chunk_size=chunk_size)
        if report.broken is not None:
            raise CommandError(
                E_BROKEN.format(
                    id=report.broken.id,
                    problem=report.broken.problem,
                    detail=report.broken.detail,
                    checked=f"{report.checked} events before it",
                )
            )
        if recorded is not None:
            restore = _head_check(*recorded, last_id=report.last_id)
            if restore is None:
                notes.append(f"recorded head #{recorded[0]} unchanged")
            else:
                notes.append(
                    RESTORED.format(
                        at=restore.event_id, id=recorded[0], backup=restore.backup_id
                    )
                )
        message = "; ".join([f"{report.checked} events verified, chain intact", *notes])
        if report.last_id is not None:
            # The head, to keep outside the database: a later run that does not
            # reach it (or finds another hash at that id) reveals a rewrite.
            message += f"; head: event #{report.last_id}, hash {report.last_hash}"
        self.stdout.write(message)  # in the log even if the file cannot be written
        if head_file is not None and report.last_id is not None:
            _head_keep(head_file, f"{report.last_id}:{report.last_hash}")


def _parsed(head: str, refusal: str) -> tuple[int, str]:
    match = HEAD.fullmatch(head)
    if match is None:
        raise CommandError(refusal)
    return int(match.group(1)), match.group(2)


def _head_check(head_id: int, head_hash: str, *, last_id: int | None) -> Restore | None:
    """The chain walked is intact; it still holds the recorded head unchanged, so
    everything up to the head is what it was when the head was recorded (None).
    Or the head was kept on events a restore from backup left behind, and the
    restore event says so (records.audit.restore): that restore."""
    if last_id is None or last_id < head_id:
        problem = E_HEAD_CUT
    else:
        stored = AuditEvent.objects.filter(pk=head_id).values_list("hash", flat=True)
        found = stored.first()
        if found == head_hash:
            return None
        problem = E_HEAD_GONE if found is None else E_HEAD_CHANGED
    restore = restore_for_head(head_id, head_hash)
    if restore is None:
        raise CommandError(problem.format(id=head_id))
    return restore


def _head_keep(path: Path, head: str) -> None:
    """Replace the file's head in one step, on disk before the step: a crash
    leaves the old head or the new one, never an empty file."""
    partial = path.with_name(path.name + ".new")

    def write() -> None:
        with open(partial, "w") as handle:
            handle.write(head + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    _file_io(path, write)


def _file_io(path: Path, work):
    try:
        return work()
    except OSError as error:
        raise CommandError(E_HEAD_FILE.format(path=path, error=error.strerror))
