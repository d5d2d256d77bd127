"""Check the audit chain end to end, or from an id onwards (manage.py verify_audit)."""

import os
import re
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from records.audit.models import AuditEvent
from records.audit.verify import audit_chain_verify

E_BROKEN = "Audit chain broken at event #{id}: {problem}; {detail}. {checked} verified."
E_HEAD_FORM = "A head is ID:HASH, as this command prints it (got {given!r})."
E_HEAD_CUT = (
    "The trail ends before the recorded head, event #{id}: events were removed "
    "from its end."
)
E_HEAD_GONE = "Event #{id}, the recorded head, is gone: the trail was rewritten."
E_HEAD_CHANGED = (
    "Event #{id}, the recorded head, has another hash: the trail was rewritten."
)
E_HEAD_FILE = "The head file {path}: {error}."
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
        parser.add_argument(
            "--head",
            metavar="ID:HASH",
            help="A head an earlier run printed, kept outside the database: the "
            "trail must still reach it, with the same hash.",
        )
        parser.add_argument(
            "--head-file",
            type=Path,
            metavar="PATH",
            help="Check the head kept in this file (if there is one), then keep "
            "the new head there.",
        )

    def handle(
        self, *args, since=None, chunk_size=5000, head=None, head_file=None, **options
    ) -> None:
        if head is None and head_file is not None and head_file.exists():
            head = _file_io(head_file, head_file.read_text).strip()
        recorded = _parsed(head) if head else None
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
            _head_check(*recorded, last_id=report.last_id)
        message = f"{report.checked} events verified, chain intact"
        if recorded is not None:
            message += f"; recorded head #{recorded[0]} unchanged"
        if report.last_id is not None:
            # The head, to keep outside the database: a later run that does not
            # reach it (or finds another hash at that id) reveals a rewrite.
            message += f"; head: event #{report.last_id}, hash {report.last_hash}"
            if head_file is not None:
                _head_keep(head_file, f"{report.last_id}:{report.last_hash}")
        self.stdout.write(message)


def _parsed(head: str) -> tuple[int, str]:
    match = HEAD.fullmatch(head)
    if match is None:
        raise CommandError(E_HEAD_FORM.format(given=head))
    return int(match.group(1)), match.group(2)


def _head_check(head_id: int, head_hash: str, *, last_id: int | None) -> None:
    """The chain walked is intact; it still holds the recorded head unchanged, so
    everything up to the head is what it was when the head was recorded."""
    if last_id is None or last_id < head_id:
        raise CommandError(E_HEAD_CUT.format(last=last_id, id=head_id))
    stored = AuditEvent.objects.filter(pk=head_id).values_list("hash", flat=True)
    found = stored.first()
    if found is None:
        raise CommandError(E_HEAD_GONE.format(id=head_id))
    if found != head_hash:
        raise CommandError(E_HEAD_CHANGED.format(id=head_id))


def _head_keep(path: Path, head: str) -> None:
    """Replace the file's head in one step: a crash leaves the old one or the new."""
    partial = path.with_name(path.name + ".new")
    _file_io(path, lambda: partial.write_text(head + "\n"))
    _file_io(path, lambda: os.replace(partial, path))


def _file_io(path: Path, work):
    try:
        return work()
    except OSError as error:
        raise CommandError(E_HEAD_FILE.format(path=path, error=error.strerror))
