"""The web container's health check (docker-compose.prod.yml), run as Docker runs it
against a live server: healthy only once the replica has reached the database, and
then not made unhealthy by a database outage."""

import subprocess

import pytest
import yaml

from tests.helpers import BASE_DIR

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

CONTAINER_ADDRESS = "http://127.0.0.1:8000"
MARKER = "/tmp/ndas-was-ready"


def web_healthcheck() -> dict:
    compose = yaml.safe_load((BASE_DIR / "docker-compose.prod.yml").read_text())
    return compose["services"]["web"]["healthcheck"]


@pytest.fixture
def healthcheck(live_server, tmp_path):
    kind, command = web_healthcheck()["test"]
    assert kind == "CMD-SHELL"
    command = command.replace(CONTAINER_ADDRESS, live_server.url)
    command = command.replace(MARKER, str(tmp_path / "was-ready"))

    def run() -> int:
        return subprocess.run(["sh", "-c", command], timeout=30).returncode

    return run


def test_web_health_check_is_liveness_after_a_first_readiness():
    healthcheck = web_healthcheck()
    command = healthcheck["test"][1]
    assert "/healthz" in command and "/readyz" in command
    assert MARKER in command and CONTAINER_ADDRESS in command


def test_a_replica_is_not_healthy_before_it_reaches_the_database(
    healthcheck, postgres_relay, settings
):
    settings.READINESS_CHECK_TIMEOUT = 1
    postgres_relay.cut()
    assert healthcheck() != 0
    postgres_relay.restore()
    assert healthcheck() == 0


def test_a_database_outage_does_not_make_a_ready_replica_unhealthy(
    healthcheck, postgres_relay, settings
):
    settings.READINESS_CHECK_TIMEOUT = 1
    assert healthcheck() == 0
    postgres_relay.cut()
    assert healthcheck() == 0
    assert healthcheck() == 0
