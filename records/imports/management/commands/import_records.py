"""Import a large spreadsheet from the command line: validate, then commit it all."""

import sys
import time
from pathlib import Path

import psycopg
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError
from django.template.defaultfilters import pluralize

from records.imports import services
from records.imports.engine.runtime import process_tweaks_allowed
from records.imports.models import Entity, ImportJob, ImportMode
from records.imports.teams import team_refused
from records.users.models import CareTeam, User

SHOWN_ERRORS = 20


class Command(BaseCommand):
    help = "Import patients, assessments or visit records from a CSV or XLSX file."

    def add_arguments(self, parser) -> None:
        parser.add_argument("entity", choices=Entity.values)
        parser.add_argument("file", type=Path)
        parser.add_argument("--user", required=True, help="Who imports (username).")
        parser.add_argument(
            "--mode", choices=ImportMode.values, default=ImportMode.CREATE_OR_UPDATE
        )
        parser.add_argument(
            "--reason", default="", help="Kept in every changed record's history."
        )
        parser.add_argument(
            "--blank-overwrites",
            action="store_true",
            help="Empty cells clear stored values (default: they keep them).",
        )
        teams = parser.add_mutually_exclusive_group()
        teams.add_argument("--care-team", help="Care team of new patients (name).")
        teams.add_argument(
            "--no-care-team",
            action="store_true",
            help="New patients join no care team: only administrators, data "
            "managers and auditors will see them (patients need one or the other).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Validate only; write nothing."
        )

    def handle(self, *args, **options) -> None:
        user = User.objects.filter(username=options["user"], is_active=True).first()
        if user is None:
            raise CommandError(f"No active user {options['user']!r}.")
        team = None
        if options["care_team"]:
            team = CareTeam.objects.filter(name=options["care_team"]).first()
            if team is None:
                raise CommandError(f"No care team {options['care_team']!r}.")
        path: Path = options["file"]
        try:
            # The size first: a file past the limit is never read into memory.
            if path.stat().st_size > settings.IMPORT_MAX_BYTES:
                raise CommandError(services.too_large_message())
            data = path.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}.") from None
        started = time.perf_counter()
        try:
            # This process only imports: the engine's process-wide tweaks are
            # for it (never for a web process's threads).
            with process_tweaks_allowed():
                job = services.import_file(
                    acting_user=user,
                    entity=options["entity"],
                    file_name=path.name,
                    data=data,
                    reason=options["reason"]
                    or ("dry run" if options["dry_run"] else ""),
                    mode=options["mode"],
                    blank_keeps_value=not options["blank_overwrites"],
                    care_team=team,
                    no_care_team=options["no_care_team"],
                    dry_run=options["dry_run"],
                    progress=self._progress(started),
                )
        except PermissionDenied as error:
            raise CommandError(str(error) or "Not allowed.") from None
        except (DatabaseError, psycopg.DatabaseError) as error:
            # The database went away (a restart, a network cut): one clear line,
            # not a traceback; the job is marked failed, now or by the sweep.
            first = str(error).strip().splitlines()[0] if str(error).strip() else ""
            raise CommandError(
                f"The import stopped: the database connection failed ({first}). "
                "Nothing was written; run it again."
            ) from None
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self._report(job, time.perf_counter() - started)
        if job.status == ImportJob.Status.INVALID:
            hint = " Name a team with --care-team, or say --no-care-team."
            raise CommandError(
                f"Import #{job.pk}: {job.invalid} invalid "
                f"row{pluralize(job.invalid)}; nothing was written."
                + (hint if team_refused(job) else "")
            )

    def _progress(self, started: float):
        if not sys.stdout.isatty():
            return None

        def show(rows: int) -> None:
            rate = rows / max(time.perf_counter() - started, 1e-6)
            self.stdout.write(
                f"\r  {rows:>10,} rows checked  {rate:>9,.0f} rows/s", ending=""
            )
            self.stdout.flush()

        return show

    def _report(self, job: ImportJob, seconds: float) -> None:
        if sys.stdout.isatty():
            self.stdout.write("")
        for note in job.notes:
            self.stdout.write(f"  Note: {note}")
        for error in job.errors[:SHOWN_ERRORS]:
            where = f"row {error['row']}" + (
                f", {error['column']}" if error["column"] else ""
            )
            self.stdout.write(f"  {where}: {error['message']} ({error['value']!r})")
        if job.invalid > SHOWN_ERRORS:
            self.stdout.write(f"  ... and more: {job.invalid} invalid rows in all.")
        rate = job.rows / seconds if seconds else 0
        self.stdout.write(
            f"Import #{job.pk} {job.get_status_display().lower()}: {job.rows:,} rows "
            f"({job.new:,} new, {job.changed:,} changed, {job.unchanged:,} unchanged, "
            f"{job.invalid:,} invalid) in {seconds:.1f} s, {rate:,.0f} rows/s."
        )
