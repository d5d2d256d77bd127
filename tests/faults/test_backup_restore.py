"""Backups and a restore drill: pg_dump of the test database to a bucket on the S3
endpoint, restored (createdb, pg_restore) into a scratch database of the same
PostgreSQL, the restore recorded in its audit trail, verify_audit and a chart page
served from it. (One module past 400 lines: one drill, its steps sharing the
scratch database and bucket fixtures.)"""

import io
import json
import os
import re
import subprocess
import tempfile
import uuid
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import boto3
import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from psycopg import sql

from ndas import backup
from records.audit.models import Action, AuditEvent
from records.audit.services import audit_record
from tests import factories
from tests.helpers import BASE_DIR, read_env_file

pytestmark = pytest.mark.slow  # pg_dump and pg_restore of a database

BACKUP_BUCKET = "ndas-test-backups"
REASON = "Restore drill: the database volume was lost"


@pytest.fixture
def backup_bucket(s3_endpoint, monkeypatch):
    """An empty backup bucket on the S3 endpoint, named by the BACKUP_* variables."""
    s3 = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    try:
        s3.create_bucket(Bucket=BACKUP_BUCKET)
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BACKUP_BUCKET):
        for item in page.get("Contents", []):
            s3.delete_object(Bucket=BACKUP_BUCKET, Key=item["Key"])
    for name, value in {
        "BACKUP_BUCKET_NAME": BACKUP_BUCKET,
        "BACKUP_S3_ENDPOINT_URL": s3_endpoint,
        "BACKUP_S3_REGION_NAME": "us-east-1",
        "BACKUP_AWS_ACCESS_KEY_ID": "testing",
        "BACKUP_AWS_SECRET_ACCESS_KEY": "testing",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("BACKUP_PREFIX", "BACKUP_KEEP_DAYS"):
        monkeypatch.delenv(name, raising=False)
    return s3


def run(name: str, *args: str) -> str:
    out = io.StringIO()
    call_command(name, *args, stdout=out)
    return out.getvalue()


def refused(name: str, *args: str) -> str:
    with pytest.raises(CommandError) as raised:
        run(name, *args)
    return str(raised.value)


def server_params(dbname: str) -> dict:
    db = connection.settings_dict
    params = {
        "dbname": dbname,
        "host": db.get("HOST"),
        "port": db.get("PORT"),
        "user": db.get("USER"),
        "password": db.get("PASSWORD"),
    }
    return {key: value for key, value in params.items() if value}


@contextmanager
def scratch_database():
    """A new, empty database on the same server; dropped afterwards."""
    name = f"{connection.settings_dict['NAME']}_restored_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(**server_params("postgres"), autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield name
    finally:
        with psycopg.connect(**server_params("postgres"), autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(name)
                )
            )


@contextmanager
def default_database(name: str):
    """Django's default connection pointed at another database of the server."""
    original = connection.settings_dict["NAME"]
    connection.close()
    connection.settings_dict["NAME"] = name
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict["NAME"] = original


@pytest.mark.usefixtures("audit_emptied_after")
def test_restore_drill(backup_bucket, tmp_path):
    kept = tmp_path / "audit-head"  # housekeeping's head file
    doctor = factories.clinician("drill-doctor")
    patient = factories.patient(acting_user=doctor)
    run("verify_audit", "--head-file", str(kept))

    out = run("backup_database")
    [key, head] = re.fullmatch(
        r"Backup stored: s3://ndas-test-backups/(\S+) \(.*\); audit head (\d+:\w+); "
        r"0 backups older than 30 days removed\.\n",
        out,
    ).groups()
    last = AuditEvent.objects.latest("pk")
    assert head == f"{last.pk}:{last.hash}"
    # The head next to the dump: object metadata and the sidecar.
    stored = backup_bucket.head_object(Bucket=BACKUP_BUCKET, Key=key)
    assert stored["Metadata"]["audit-head"] == head
    sidecar = json.loads(
        backup_bucket.get_object(Bucket=BACKUP_BUCKET, Key=key[:-5] + ".json")[
            "Body"
        ].read()
    )
    assert sidecar["audit_head"] == head and sidecar["dump"] == key
    assert patient.mrn not in key and patient.family_name not in json.dumps(sidecar)

    # After the backup: a chart and events the restore will lose, and the day's
    # check keeping a head past the backup.
    later = factories.patient(acting_user=doctor)
    run("verify_audit", "--head-file", str(kept))
    lost_head = kept.read_text().strip()
    assert int(lost_head.split(":")[0]) > last.pk

    dump = tmp_path / "backup.dump"
    backup_bucket.download_file(BACKUP_BUCKET, key, str(dump))
    env = {**os.environ, **backup.libpq_env(connection.settings_dict)}
    with scratch_database() as restored:
        subprocess.run(
            [
                backup.pg_tool("pg_restore"),
                "--exit-on-error",
                "--no-password",
                f"--dbname={restored}",
                str(dump),
            ],
            env=env,
            check=True,
            capture_output=True,
            timeout=120,
        )
        with default_database(restored):
            # The restored trail ends at the backup's head: the kept head is cut.
            assert "events were removed" in refused(
                "verify_audit", "--head-file", str(kept)
            )
            out = run(
                "audit_restored",
                *("--backup-head", head, "--reason", REASON, "--head-file", str(kept)),
            )
            restore = AuditEvent.objects.latest("pk")
            assert restore.action == Action.RESTORE
            assert out.startswith(f"Restore recorded as audit event #{restore.pk}")
            assert restore.details["lost_heads"] == [lost_head]

            assert run("verify_audit", "--since", str(restore.pk)).startswith(
                "1 events verified, chain intact"
            )
            out = run("verify_audit", "--head-file", str(kept))
            assert f"trail restored from backup at event #{restore.pk}" in out
            assert kept.read_text() == f"{restore.pk}:{restore.hash}\n"

            # The application serves the chart from the restored database; the
            # chart made after the backup is not there.
            client = Client()
            client.force_login(doctor)
            page = client.get(
                reverse("admin:patients_patient_change", args=[patient.pk])
            )
            assert page.status_code == 200
            assert patient.mrn in page.content.decode()
            gone = client.get(reverse("admin:patients_patient_change", args=[later.pk]))
            assert gone.status_code in (302, 404)
            # Its reading is audited after the restore event, on an intact chain.
            assert "recorded head #%d unchanged" % restore.pk in run(
                "verify_audit", "--head-file", str(kept)
            )
        # The restore is recorded in the restored database alone.
        assert AuditEvent.objects.filter(action=Action.RESTORE).count() == 0


@pytest.mark.django_db
def test_retention_removes_only_this_databases_old_backups(backup_bucket):
    name = connection.settings_dict["NAME"]
    now = datetime.now(timezone.utc)
    old = (now - timedelta(days=31)).strftime(backup.STAMP_FORMAT)
    recent = (now - timedelta(days=29)).strftime(backup.STAMP_FORMAT)
    keys = [
        f"postgres/{name}-{old}.dump",
        f"postgres/{name}-{old}.json",
        f"postgres/{name}-{recent}.dump",
        f"postgres/{name}-{recent}.json",
        f"postgres/{name}-{old}.dump.partial",  # not a backup's name: left alone
        f"postgres/other-{old}.dump",  # another database's
        f"elsewhere/{name}-{old}.dump",
    ]
    for key in keys:
        backup_bucket.put_object(Bucket=BACKUP_BUCKET, Key=key, Body=b"x")
    out = run("backup_database", "--keep-days", "30")
    assert out.endswith("1 backup older than 30 days removed.\n")
    listed = {
        item["Key"]
        for item in backup_bucket.list_objects_v2(Bucket=BACKUP_BUCKET)["Contents"]
    }
    assert listed >= set(keys[2:]) and not listed & set(keys[:2])
    assert len(listed - set(keys)) == 2  # the new dump and its sidecar

    out = run("backup_database", "--keep-days", "0", "--prefix", "elsewhere/")
    assert out.endswith("older backups kept.\n")
    assert f"elsewhere/{name}-{old}.dump" in {
        item["Key"]
        for item in backup_bucket.list_objects_v2(Bucket=BACKUP_BUCKET)["Contents"]
    }


@pytest.mark.django_db
def test_an_empty_trail_is_backed_up_with_the_genesis_head(backup_bucket):
    assert not AuditEvent.objects.exists()
    assert f"audit head 0:{'0' * 64};" in run("backup_database")


@pytest.mark.django_db
def test_the_head_is_the_dumps_own_not_a_later_events(backup_bucket):
    # An event written but not committed when the dump starts is not in it, and
    # not its head: the test's own transaction is still open.
    event = audit_record(action=Action.VIEW, summary="not committed yet")
    out = run("backup_database")
    assert f"audit head {event.pk}:" not in out
    assert "audit head 0:" in out


@pytest.mark.django_db
def test_failures_are_one_clear_line(backup_bucket, monkeypatch, tmp_path):
    monkeypatch.delenv("BACKUP_BUCKET_NAME")
    assert refused("backup_database") == backup.E_NO_BUCKET
    message = refused("backup_database", "--bucket", "no-such-bucket")
    assert message.startswith("Could not store the backup in s3://no-such-bucket/")
    assert "NoSuchBucket" in message and "\n" not in message
    assert "cannot be negative" in refused("backup_database", "--keep-days", "-1")
    monkeypatch.setenv("BACKUP_KEEP_DAYS", "a month")
    assert "BACKUP_KEEP_DAYS" in refused("backup_database", "--bucket", "b")
    monkeypatch.delenv("BACKUP_KEEP_DAYS")

    # pg_dump itself failing: its last line of errors is the reason.
    fake = tmp_path / "bin" / "pg_dump"
    fake.parent.mkdir()
    fake.write_text(
        "#!/bin/sh\necho 'pg_dump: error: aborting because of server version "
        "mismatch' >&2\nexit 1\n"
    )
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}:{os.environ['PATH']}")
    message = refused("backup_database", "--bucket", BACKUP_BUCKET)
    assert message == backup.E_DUMP.format(
        code=1, reason="pg_dump: error: aborting because of server version mismatch"
    )


def test_no_room_for_the_dump_is_one_clear_line(backup_bucket, monkeypatch, tmp_path):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "missing"))
    message = refused("backup_database")
    assert message == backup.E_TEMPORARY.format(reason="No such file or directory")


def test_audit_restored_with_the_database_unreachable(transactional_db, postgres_relay):
    connection.close()  # the next connection goes through the relay
    postgres_relay.cut()
    try:
        message = refused(
            "audit_restored", "--backup-head", f"0:{'0' * 64}", "--reason", REASON
        )
    finally:
        postgres_relay.restore()
        connection.close()
    assert message.startswith("Nothing was recorded: the database could not be read")
    assert "\n" not in message


def test_the_database_unreachable_is_one_clear_line(backup_bucket):
    target = backup.s3_target_from_env()
    with pytest.raises(backup.BackupError) as raised:
        backup.backup_database(
            {"NAME": "ndas", "HOST": "127.0.0.1", "PORT": "1"}, target, keep_days=0
        )
    assert str(raised.value).startswith("Could not read the database ndas")


def test_pg_dump_is_found_on_path_or_in_debians_directories(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    found = backup.pg_tool("pg_dump")
    assert re.fullmatch(r"/usr/lib/postgresql/[0-9.]+/bin/pg_dump", found)
    monkeypatch.setattr(backup.glob, "glob", lambda pattern: [])
    with pytest.raises(backup.BackupError, match="postgresql-client"):
        backup.pg_tool("pg_dump")


def test_backup_credentials_are_never_the_applications():
    target = backup.s3_target_from_env(
        {
            "BACKUP_BUCKET_NAME": "b",
            "AWS_S3_ENDPOINT_URL": "http://objectstore:9000",
            "AWS_ACCESS_KEY_ID": "ndas-app",
            "AWS_SECRET_ACCESS_KEY": "app-secret",
        }
    )
    assert target.endpoint_url == "http://objectstore:9000"
    assert (target.access_key, target.secret_key) == (None, None)
    assert target.prefix == "postgres/"


# --- the object store's buckets and users (compose's createbucket) ------------------


def createbucket(tmp_path, **changes) -> tuple[subprocess.CompletedProcess, str]:
    """deploy/minio/createbucket.sh under .env.example's values, with an `mc` that
    records each call (and each policy it is given) instead of reaching a store."""
    log = tmp_path / "mc.log"
    fake = tmp_path / "bin" / "mc"
    fake.parent.mkdir(exist_ok=True)
    fake.write_text(
        "#!/bin/sh\n"
        'echo "mc $*" >> "$MC_LOG"\n'
        'if [ "$1 $2 $3" = "admin policy create" ]; then cat "$6" > "$MC_LOG.$5"; fi\n'
    )
    fake.chmod(0o755)
    env = {
        **read_env_file(BASE_DIR / ".env.example"),
        "PATH": f"{fake.parent}:/usr/bin:/bin",
        "MC_LOG": str(log),
        **changes,
    }
    done = subprocess.run(
        ["sh", str(BASE_DIR / "deploy" / "minio" / "createbucket.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    return done, log.read_text() if log.exists() else ""


def test_createbucket_versions_the_media_and_limits_both_users(tmp_path):
    done, calls = createbucket(tmp_path)
    assert done.returncode == 0, done.stderr
    assert "mc mb --ignore-existing --with-lock store/ndas-media" in calls
    assert "mc version enable store/ndas-media" in calls
    assert "mc version enable store/ndas-backups" in calls
    assert "mc ilm rule add --noncurrent-expire-days 7 store/ndas-backups" in calls
    assert "mc retention clear --default store/ndas-media" in calls  # lock days 0
    assert "mc admin policy attach store ndas-media --user ndas-app" in calls
    assert "mc admin policy attach store ndas-backups --user ndas-backup" in calls
    assert "readwrite --user ndas-app" in calls.replace("detach", "")  # taken away
    assert "attach store readwrite" not in calls
    for policy, bucket in (
        ("ndas-media", "ndas-media"),
        ("ndas-backups", "ndas-backups"),
    ):
        document = json.loads((tmp_path / f"mc.log.{policy}").read_text())
        allowed = {
            (action, resource)
            for statement in document["Statement"]
            if statement["Effect"] == "Allow"
            for action in statement["Action"]
            for resource in statement["Resource"]
        }
        denied = {
            action
            for statement in document["Statement"]
            if statement["Effect"] == "Deny"
            for action in statement["Action"]
        }
        assert {resource for _, resource in allowed} == {
            f"arn:aws:s3:::{bucket}",
            f"arn:aws:s3:::{bucket}/*",
        }
        assert ("s3:DeleteObject", f"arn:aws:s3:::{bucket}/*") in allowed
        assert not any("Version" in action or "*" in action for action, _ in allowed)
        assert {"s3:DeleteObjectVersion", "s3:BypassGovernanceRetention"} <= denied


def test_createbucket_locks_media_versions_when_asked(tmp_path):
    done, calls = createbucket(
        tmp_path, MEDIA_LOCK_DAYS="30", BACKUP_VERSIONS_KEEP_DAYS="0"
    )
    assert done.returncode == 0, done.stderr
    assert "mc retention set --default GOVERNANCE 30d store/ndas-media" in calls
    assert "ilm rule add" not in calls


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"MEDIA_LOCK_DAYS": "a month"}, "numbers of days"),
        ({"BACKUP_BUCKET_NAME": "ndas-media"}, "another bucket than the media"),
        ({"BACKUP_AWS_SECRET_ACCESS_KEY": ""}, "set BACKUP_AWS_SECRET_ACCESS_KEY"),
    ],
)
def test_createbucket_refuses_a_bad_configuration(tmp_path, changes, message):
    done, calls = createbucket(tmp_path, **changes)
    assert done.returncode != 0 and message in done.stderr
    assert calls == ""
