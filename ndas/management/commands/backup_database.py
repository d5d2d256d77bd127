"""Back the database up to the backup bucket, with its audit head (manage.py
backup_database; nightly in the compose file's `backup` service)."""

import os

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from ndas.backup import BackupError, backup_database, s3_target_from_env

DEFAULT_KEEP_DAYS = 30


class Command(BaseCommand):
    help = (
        "pg_dump -Fc of the database (run it as the owner), uploaded to the backup "
        "bucket with the audit head it holds (object metadata and a .json "
        "sidecar); then this database's backups older than --keep-days removed."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--bucket", help="The backup bucket (default: BACKUP_BUCKET_NAME)."
        )
        parser.add_argument(
            "--prefix",
            help="Key prefix in the bucket (default: BACKUP_PREFIX, " "or postgres/).",
        )
        parser.add_argument(
            "--keep-days",
            type=int,
            help="Remove this database's backups older than this many days; 0 "
            f"keeps all (default: BACKUP_KEEP_DAYS, or {DEFAULT_KEEP_DAYS}).",
        )

    def handle(self, *args, bucket=None, prefix=None, keep_days=None, **options):
        if keep_days is None:
            try:
                keep_days = int(os.environ.get("BACKUP_KEEP_DAYS", DEFAULT_KEEP_DAYS))
            except ValueError:
                raise CommandError("BACKUP_KEEP_DAYS must be a number of days.")
        if keep_days < 0:
            raise CommandError("--keep-days cannot be negative.")
        try:
            target = s3_target_from_env(bucket=bucket, prefix=prefix)
            result = backup_database(
                connection.settings_dict, target, keep_days=keep_days
            )
        except BackupError as error:
            raise CommandError(str(error)) from None
        removed = sum(key.endswith(".dump") for key in result.removed)
        retention = (
            f"{removed} backup{'' if removed == 1 else 's'} older than {keep_days} "
            "days removed"
            if keep_days
            else "older backups kept"
        )
        self.stdout.write(
            f"Backup stored: s3://{result.bucket}/{result.key} "
            f"({result.size / 1024**2:.1f} MiB, sha256 {result.sha256}); "
            f"audit head {result.audit_head}; {retention}."
        )
