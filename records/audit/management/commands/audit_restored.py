"""Record in the audit trail that the database was restored from a backup
(manage.py audit_restored), right after pg_restore."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from records.audit.restore import (
    E_LOST_CHANGED,
    RestoreRefused,
    head_parse,
    restore_record,
    trail_holds,
)

E_HEAD_FORM = (
    "{option} takes ID:HASH, an audit head as backup_database and verify_audit "
    "print it (got {given!r})."
)
E_HEAD_FILE = "The head file {path}: {error}."
E_HEAD_FILE_FORM = "The head file {path} holds no head (ID:HASH): {given!r}."
E_DATABASE = (
    "Nothing was recorded: the database could not be read or written ({reason})."
)


class Command(BaseCommand):
    help = (
        "After restoring a backup, before migrate and before the application "
        "starts: append a `restore` audit event right after the backup's audit "
        "head, naming the heads kept since (lost with the events after the "
        "backup), so that verify_audit reports the restore instead of a cut trail."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--backup-head",
            required=True,
            metavar="ID:HASH",
            help="The audit head the backup holds (its .json sidecar or the "
            "object's audit-head metadata; for a point-in-time recovery, the head "
            "verify_audit prints on the restored database).",
        )
        parser.add_argument(
            "--reason",
            required=True,
            help="Why the database was restored, and by whom (one line, kept in "
            "the trail; no patient data).",
        )
        parser.add_argument(
            "--lost-head",
            action="append",
            default=[],
            metavar="ID:HASH",
            help="A head kept outside the database after the backup was taken "
            "(repeatable): recorded as lost, so that verify_audit accepts it.",
        )
        parser.add_argument(
            "--head-file",
            type=Path,
            metavar="PATH",
            help="verify_audit's head file from before the restore: its head is "
            "recorded as lost (when past the backup's head).",
        )

    def handle(
        self, *args, backup_head, reason, lost_head=(), head_file=None, **options
    ) -> None:
        backup = _parsed(backup_head, "--backup-head")
        lost = [_parsed(head, "--lost-head") for head in lost_head]
        if head_file is not None:
            try:
                text = head_file.read_text().strip()
            except OSError as error:
                raise CommandError(
                    E_HEAD_FILE.format(path=head_file, error=error.strerror)
                ) from None
            kept = head_parse(text)
            if kept is None:
                raise CommandError(E_HEAD_FILE_FORM.format(path=head_file, given=text))
            if kept[0] > backup[0]:
                lost.append(kept)
            elif not trail_holds(*kept):
                # Kept before the backup was taken, yet not in what it restored.
                raise CommandError(E_LOST_CHANGED.format(lost=kept[0]))
        try:
            event = restore_record(backup_head=backup, reason=reason, lost_heads=lost)
        except RestoreRefused as error:
            raise CommandError(str(error)) from None
        except DatabaseError as error:
            lines = str(error).strip().splitlines() or ["no message"]
            raise CommandError(E_DATABASE.format(reason=lines[0])) from None
        named = event.details["lost_heads"]
        self.stdout.write(
            f"Restore recorded as audit event #{event.pk}, after the backup's head "
            f"#{backup[0]}"
            + (
                f"; lost head{'s' if len(named) > 1 else ''} "
                + ", ".join(f"#{head.split(':')[0]}" for head in named)
                + " accounted for"
                if named
                else ""
            )
            + f"; head: event #{event.pk}, hash {event.hash}"
        )


def _parsed(text: str, option: str) -> tuple[int, str]:
    head = head_parse(text)
    if head is None:
        raise CommandError(E_HEAD_FORM.format(option=option, given=text))
    return head
