"""A logical backup of the database to an S3 bucket, with the audit head it holds.

pg_dump's custom format (pg_restore reads it), taken from a snapshot exported by a
REPEATABLE READ transaction in which the audit trail's last event is read too: the
head recorded next to the dump (the object's `audit-head` metadata and a JSON
sidecar) is exactly the last event in the dump. After the upload, this database's
backups older than the retention are removed from the bucket.

Keys name the database and the time only: `<prefix><database>-<UTC time>.dump`
and `.json`. Nothing here logs or names patient data.
"""

import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import boto3
import psycopg
from boto3.exceptions import S3UploadFailedError
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from psycopg import sql

from records.audit.chain import GENESIS
from records.audit.models import AuditEvent

STAMP_FORMAT = "%Y%m%dT%H%M%SZ"
DUMP_TIMEOUT = 6 * 60 * 60  # seconds: a dump that takes longer is stuck

E_NO_BUCKET = "No backup bucket: set BACKUP_BUCKET_NAME (or give --bucket)."
E_NO_PG_DUMP = (
    "pg_dump was not found: install PostgreSQL's client programs (Debian: "
    "postgresql-client), of the server's major version or newer."
)
E_DATABASE = "Could not read the database {name} for its backup: {reason}."
E_DUMP = "pg_dump failed (exit {code}): {reason}."
E_DUMP_TIMEOUT = "pg_dump did not finish within {seconds} s; nothing was stored."
E_UPLOAD = "Could not store the backup in s3://{bucket}/{key}: {reason}."
E_TEMPORARY = "Could not write the dump to a temporary file: {reason}."
E_RETENTION = (
    "The backup was stored (s3://{bucket}/{key}, audit head {head}), but removing "
    "backups older than {days} days failed: {reason}."
)


class BackupError(Exception):
    """The backup failed; the message says why, in one line."""


@dataclass(frozen=True)
class S3Target:
    bucket: str
    prefix: str = "postgres/"
    endpoint_url: str | None = None
    region_name: str | None = None
    access_key: str | None = None
    secret_key: str | None = None
    connect_timeout: float = 10
    read_timeout: float = 120

    def client(self):
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=self.region_name,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            config=Config(
                signature_version="s3v4",
                s3={"addressing_style": "path" if self.endpoint_url else "auto"},
                connect_timeout=self.connect_timeout,
                read_timeout=self.read_timeout,
                retries={"mode": "standard", "max_attempts": 3},
            ),
        )


@dataclass(frozen=True)
class BackupResult:
    bucket: str
    key: str
    sidecar_key: str
    size: int
    sha256: str
    audit_head: str  # "ID:HASH"; "0:<genesis>" for an empty trail
    removed: list[str] = field(default_factory=list)


def s3_target_from_env(environ=os.environ, **overrides) -> S3Target:
    """The backup bucket and its credentials: BACKUP_* variables, falling back to
    the media store's endpoint and region (never to its credentials: the
    application's S3 user may not write backups)."""

    def get(name: str, fallback: str = "") -> str | None:
        return environ.get(name) or (environ.get(fallback) if fallback else "") or None

    values = {
        "bucket": get("BACKUP_BUCKET_NAME") or "",
        "prefix": environ.get("BACKUP_PREFIX", "postgres/"),
        "endpoint_url": get("BACKUP_S3_ENDPOINT_URL", "AWS_S3_ENDPOINT_URL"),
        "region_name": get("BACKUP_S3_REGION_NAME", "AWS_S3_REGION_NAME"),
        "access_key": get("BACKUP_AWS_ACCESS_KEY_ID"),
        "secret_key": get("BACKUP_AWS_SECRET_ACCESS_KEY"),
    }
    values.update({key: value for key, value in overrides.items() if value is not None})
    if not values["bucket"]:
        raise BackupError(E_NO_BUCKET)
    return S3Target(**values)


def pg_tool(name: str) -> str:
    """A PostgreSQL client program: on PATH, else the newest of Debian's
    /usr/lib/postgresql/<version>/bin."""
    found = shutil.which(name)
    if found:
        return found
    candidates = glob.glob(f"/usr/lib/postgresql/*/bin/{name}")
    if not candidates:
        raise BackupError(E_NO_PG_DUMP)

    def version(path: str) -> float:
        try:
            return float(Path(path).parent.parent.name)
        except ValueError:
            return 0.0

    return max(candidates, key=version)


def libpq_env(settings_dict: dict) -> dict[str, str]:
    """libpq's variables for this database: the password never on a command line."""
    env = {
        "PGDATABASE": settings_dict["NAME"],
        "PGHOST": settings_dict.get("HOST") or "",
        "PGPORT": str(settings_dict.get("PORT") or ""),
        "PGUSER": settings_dict.get("USER") or "",
        "PGPASSWORD": settings_dict.get("PASSWORD") or "",
        "PGSSLMODE": (settings_dict.get("OPTIONS") or {}).get("sslmode") or "",
        "PGCONNECT_TIMEOUT": "10",
        "PGAPPNAME": "ndas-backup",
    }
    return {key: value for key, value in env.items() if value}


def _last_line(text: str) -> str:
    lines = [line.strip() for line in str(text).strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no message"


def _s3_reason(error: Exception) -> str:
    if isinstance(error, ClientError):
        info = error.response.get("Error", {})
        return f"{info.get('Code', 'error')}: {info.get('Message', '')}".strip(": ")
    return _last_line(error)


def backup_database(
    settings_dict: dict,
    target: S3Target,
    *,
    keep_days: int,
    now: datetime | None = None,
) -> BackupResult:
    """Dump the database to a temporary file, upload it and its sidecar, then
    remove this database's backups older than `keep_days` (0: keep all)."""
    now = now or datetime.now(timezone.utc)
    name = settings_dict["NAME"]
    stamp = now.strftime(STAMP_FORMAT)
    key = f"{target.prefix}{name}-{stamp}.dump"
    sidecar_key = f"{target.prefix}{name}-{stamp}.json"
    pg_dump = pg_tool("pg_dump")
    env = {**os.environ, **libpq_env(settings_dict)}
    try:
        result = _dump_and_upload(
            target, env, pg_dump, name=name, now=now, key=key, sidecar_key=sidecar_key
        )
    except OSError as error:  # the temporary directory (TMPDIR): full, or read-only
        raise BackupError(E_TEMPORARY.format(reason=error.strerror or error))
    if keep_days > 0:
        try:
            result.removed.extend(
                _remove_older(target, name, now - timedelta(days=keep_days))
            )
        except (BotoCoreError, ClientError) as error:
            raise BackupError(
                E_RETENTION.format(
                    bucket=target.bucket,
                    key=key,
                    head=result.audit_head,
                    days=keep_days,
                    reason=_s3_reason(error),
                )
            ) from error
    return result


def _dump_and_upload(
    target: S3Target, env: dict, pg_dump: str, *, name, now, key, sidecar_key
) -> BackupResult:
    with tempfile.TemporaryDirectory(prefix="ndas-backup-") as directory:
        path = Path(directory) / "database.dump"
        head = _dump(pg_dump, env, path, name)
        size, digest = _size_and_sha256(path)
        sidecar = {
            "dump": key,
            "database": name,
            "taken_at": now.isoformat(timespec="seconds"),
            "audit_head": head,
            "format": "pg_dump custom (pg_restore)",
            "size": size,
            "sha256": digest,
        }
        client = target.client()
        try:
            client.upload_file(
                str(path),
                target.bucket,
                key,
                ExtraArgs={
                    "ContentType": "application/octet-stream",
                    "Metadata": {"audit-head": head, "sha256": digest},
                },
            )
            client.put_object(
                Bucket=target.bucket,
                Key=sidecar_key,
                Body=json.dumps(sidecar, indent=2).encode() + b"\n",
                ContentType="application/json",
            )
        except (BotoCoreError, ClientError, S3UploadFailedError) as error:
            raise BackupError(
                E_UPLOAD.format(bucket=target.bucket, key=key, reason=_s3_reason(error))
            ) from error
    return BackupResult(target.bucket, key, sidecar_key, size, digest, head)


def _dump(pg_dump: str, env: dict, path: Path, name: str) -> str:
    """pg_dump from a snapshot in which the audit head is read: (the head)."""
    params = {
        "dbname": env["PGDATABASE"],
        "host": env.get("PGHOST"),
        "port": env.get("PGPORT"),
        "user": env.get("PGUSER"),
        "password": env.get("PGPASSWORD"),
        "sslmode": env.get("PGSSLMODE"),
        "connect_timeout": 10,
        "application_name": "ndas-backup",
    }
    params = {key: value for key, value in params.items() if value}
    table = AuditEvent._meta.db_table
    try:
        connection = psycopg.connect(**params)
    except psycopg.Error as error:
        raise BackupError(E_DATABASE.format(name=name, reason=_last_line(error)))
    try:
        with connection:
            connection.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            # Held open while pg_dump runs: no server timeout may end it.
            connection.execute("SET LOCAL idle_in_transaction_session_timeout = 0")
            connection.execute("SET LOCAL statement_timeout = 0")
            snapshot = connection.execute("SELECT pg_export_snapshot()").fetchone()[0]
            row = connection.execute(
                sql.SQL("SELECT id, hash FROM {} ORDER BY id DESC LIMIT 1").format(
                    sql.Identifier(table)
                )
            ).fetchone()
            head = f"{row[0]}:{row[1]}" if row else f"0:{GENESIS}"
            command = [
                pg_dump,
                "--format=custom",
                "--no-password",
                f"--snapshot={snapshot}",
                f"--file={path}",
            ]
            try:
                done = subprocess.run(
                    command,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    text=True,
                    timeout=DUMP_TIMEOUT,
                )
            except subprocess.TimeoutExpired:
                raise BackupError(E_DUMP_TIMEOUT.format(seconds=DUMP_TIMEOUT))
            if done.returncode != 0:
                raise BackupError(
                    E_DUMP.format(code=done.returncode, reason=_last_line(done.stderr))
                )
    except psycopg.Error as error:
        raise BackupError(E_DATABASE.format(name=name, reason=_last_line(error)))
    finally:
        connection.close()
    return head


def _size_and_sha256(path: Path) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
            size += len(block)
    return size, digest.hexdigest()


def _remove_older(target: S3Target, name: str, cutoff: datetime) -> list[str]:
    """This database's dumps and sidecars whose time (in the key) is before
    `cutoff`; other keys in the bucket are left alone."""
    client = target.client()
    pattern = re.compile(
        re.escape(f"{target.prefix}{name}-") + r"(\d{8}T\d{6}Z)\.(?:dump|json)"
    )
    removed = []
    pages = client.get_paginator("list_objects_v2").paginate(
        Bucket=target.bucket, Prefix=f"{target.prefix}{name}-"
    )
    for page in pages:
        for item in page.get("Contents", []):
            match = pattern.fullmatch(item["Key"])
            if match is None:
                continue
            taken = datetime.strptime(match.group(1), STAMP_FORMAT)
            if taken.replace(tzinfo=timezone.utc) < cutoff:
                client.delete_object(Bucket=target.bucket, Key=item["Key"])
                removed.append(item["Key"])
    return removed
