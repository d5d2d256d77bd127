"""scripts/dev-services: what answers is used; when nothing answers, a cluster (and a
Redis) of the project's own is started under var/, and stopped again."""

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "dev-services"


def run(*args, var: Path, **env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(SCRIPT), *args],
        env={**os.environ, "NDAS_VAR_DIR": str(var), **env},
        capture_output=True,
        text=True,
        timeout=180,
    )


def unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_services_that_answer_are_used(tmp_path):
    db = settings.DATABASES["default"]
    host = db.get("HOST") or "/var/run/postgresql"
    url = f"postgres:///postgres?host={host}&port={db.get('PORT') or 5432}"
    done = run(
        "postgres",
        "redis",
        var=tmp_path,
        DATABASE_URL=url,
        REDIS_URL=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15"),
    )
    assert done.returncode == 0, done.stderr
    assert "answers" in done.stdout
    env = (tmp_path / "services.env").read_text()
    assert "DATABASE_URL" not in env and "REDIS_URL" not in env
    assert not (tmp_path / "pg").exists()


def test_usage_is_explained(tmp_path):
    done = run("mysql", var=tmp_path)
    assert done.returncode == 2 and "usage" in done.stderr


@pytest.mark.skipif(
    not glob.glob("/usr/lib/postgresql/*/bin/initdb"),
    reason="Debian's PostgreSQL binaries are not installed",
)
def test_nothing_answering_starts_and_stops_a_local_cluster():
    # Not pytest's tmp_path: its parents are private to us, and as root the script
    # runs PostgreSQL as the postgres user, who must reach the cluster's directory.
    tmp_path = Path(tempfile.mkdtemp(prefix="ndas-dev-services-"))
    tmp_path.chmod(0o755)
    nowhere = f"postgres://127.0.0.1:{unused_port()}/ndas_local"
    try:
        done = run("postgres", var=tmp_path, DATABASE_URL=nowhere)
        assert done.returncode == 0, done.stdout + done.stderr
        env = dict(
            line.split("=", 1)
            for line in (tmp_path / "services.env").read_text().splitlines()
            if "=" in line and not line.startswith("#")
        )
        local = env["DATABASE_URL"]
        assert local.startswith("postgres://postgres:") and "@127.0.0.1:" in local
        with psycopg.connect(local.rsplit("/", 1)[0] + "/postgres") as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        # Run again: the running cluster is reused, on the same port.
        again = run("postgres", var=tmp_path, DATABASE_URL=nowhere)
        assert "starting" not in again.stdout
        assert local in (tmp_path / "services.env").read_text()
    finally:
        stopped = run("stop", var=tmp_path)
        shutil.rmtree(tmp_path, ignore_errors=True)
    assert stopped.returncode == 0 and "stopped PostgreSQL" in stopped.stdout
