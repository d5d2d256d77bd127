"""Export the rows a user may see to a CSV or XLSX file (manage.py export_records)."""

import hashlib
import os
import time
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from records.imports.entities import ENTITIES
from records.imports.exports import export_csv, export_xlsx
from records.imports.models import ExportJob

E_UNKNOWN_USER = "No active user is called {username!r}."
FORMATS = ("csv", "xlsx")


class Command(BaseCommand):
    help = (
        "Export an entity's rows, as the given user may see them, to a file. "
        f"Entities: {', '.join(ENTITIES)}."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("entity", help=f"One of: {', '.join(ENTITIES)}.")
        parser.add_argument("file", type=Path, help="The file to write.")
        parser.add_argument(
            "--user", required=True, help="Export what this user may see, as them."
        )
        parser.add_argument(
            "--format",
            choices=FORMATS,
            help="csv or xlsx (default: from the file's extension, else csv).",
        )
        parser.add_argument(
            "--columns", help="Comma-separated column names (default: all)."
        )

    def handle(self, *args, entity: str, file: Path, **options) -> None:
        user = self._user(options["user"])
        file_format = options["format"] or ("xlsx" if file.suffix == ".xlsx" else "csv")
        columns = None
        if options["columns"]:
            names = options["columns"].split(",")
            columns = [name.strip() for name in names if name.strip()]
        started = time.perf_counter()
        try:
            digest = self._write(user, entity, columns, file_format, file)
        except (ValueError, PermissionDenied) as error:
            raise CommandError(str(error) or "Permission denied.") from error
        except OSError as error:
            raise CommandError(f"Cannot write {file}: {error.strerror}.") from error
        elapsed = time.perf_counter() - started
        job = ExportJob.objects.filter(user=user, sha256=digest).latest("pk")
        rate = job.row_count / elapsed if elapsed else 0
        self.stdout.write(
            f"Wrote {job.row_count} rows to {file} in {elapsed:.1f} s "
            f"({rate:,.0f} rows/s); export #{job.pk}."
        )

    @staticmethod
    def _user(username: str):
        user = (
            get_user_model().objects.filter(username=username, is_active=True).first()
        )
        if user is None:
            raise CommandError(E_UNKNOWN_USER.format(username=username))
        return user

    @staticmethod
    def _write(user, entity, columns, file_format, file: Path) -> str:
        """Write the export (next to the target, then moved in place: a failed run
        leaves no half file); return the SHA-256 of the bytes written."""
        # Both exports check permission, entity and columns before any file exists.
        if file_format == "csv":
            chunks = export_csv(user=user, entity=entity, columns=columns)
        else:
            chunks = [export_xlsx(user=user, entity=entity, columns=columns)]
        digest = hashlib.sha256()
        partial = file.with_name(file.name + ".part")
        try:
            with partial.open("wb") as out:
                for chunk in chunks:
                    out.write(chunk)
                    digest.update(chunk)
            os.replace(partial, file)
        finally:
            partial.unlink(missing_ok=True)
            if file_format == "csv":
                chunks.close()  # a stream not read to its end: the job says so
        return digest.hexdigest()
