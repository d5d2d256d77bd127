"""The production compose file runs commands that exist, and Celery as README says."""

import re

import yaml
from django.conf import settings
from django.core.management import get_commands

from tests.helpers import BASE_DIR

COMPOSE = yaml.safe_load((BASE_DIR / "docker-compose.prod.yml").read_text())
SERVICES = COMPOSE["services"]


def test_every_manage_py_command_in_the_compose_file_exists():
    text = yaml.safe_dump(SERVICES, width=float("inf"))
    named = set(re.findall(r"manage\.py (\w+)", text))
    assert {"migrate", "grant_app_role", "backup_database"} <= named
    assert named <= set(get_commands())


def _option(command: list[str], name: str) -> str | None:
    for part in command:
        if part.startswith(f"--{name}="):
            return part.split("=", 1)[1]
    return None


def test_workers_are_replicated_non_root_bounded_and_checked_by_a_ping():
    worker = SERVICES["worker"]
    command = worker["command"]

    assert command[:3] == ["celery", "--app=ndas", "worker"]
    assert _option(command, "queues") == "celery"
    assert _option(command, "max-tasks-per-child")
    assert worker["user"] == "10001:10001"
    assert worker["environment"]["NDAS_WORK"] == "worker"
    assert "NDAS_WORKER_REPLICAS" in str(worker["deploy"]["replicas"])
    # The same image as web.
    assert worker["image"] == SERVICES["web"]["image"]
    check = " ".join(worker["healthcheck"]["test"])
    assert "celery --app=ndas inspect ping --destination=worker@$$HOSTNAME" in check


def test_one_beat_runs_the_schedule_and_its_jobs_with_the_audit_head():
    beat = SERVICES["beat"]
    command = beat["command"]

    assert beat["deploy"]["replicas"] == 1
    assert "--beat" in command and _option(command, "schedule").startswith("/app/var/")
    # It alone consumes the queue the scheduled jobs are routed to.
    assert _option(command, "queues") == "scheduled"
    assert {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()} == {
        "scheduled"
    }
    assert "audithead:/app/var" in beat["volumes"]
    assert beat["user"] == "10001:10001"
    assert "inspect ping --destination=beat@$$HOSTNAME" in " ".join(
        beat["healthcheck"]["test"]
    )
    # Beat replaces the old housekeeping loop.
    assert "housekeeping" not in SERVICES


def test_postgresql_gets_the_shared_buffers_its_benchmark_needed():
    """README, PostgreSQL settings: an import into a million charts ran at 24,900
    rows/s with PostgreSQL's 128 MB of shared buffers and 34,500 with 1 GB."""
    db = SERVICES["db"]
    command = " ".join(db["command"])
    assert command.startswith("postgres -c shared_buffers=")
    assert "${POSTGRES_SHARED_BUFFERS:-1GB}" in command
    assert db["shm_size"]
    example = (BASE_DIR / ".env.example").read_text()
    assert re.search(r"^POSTGRES_SHARED_BUFFERS=\d+GB$", example, re.MULTILINE)
