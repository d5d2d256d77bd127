"""Readiness answers within its deadline whatever hangs, and fails only for the
database; liveness never touches a dependency. Faults are real: relays cut off or
hang the real Redis and PostgreSQL, and a listener that never answers is the S3."""

import time

import pytest

from ndas import health

pytestmark = pytest.mark.django_db

DEADLINE = 1.0
# Thread start-up and the request itself, on a busy machine.
SLACK = 1.5


@pytest.fixture(autouse=True)
def short_deadline(settings):
    settings.READINESS_CHECK_TIMEOUT = DEADLINE


def timed_get(client, path):
    started = time.monotonic()
    response = client.get(path)
    return response, time.monotonic() - started


def test_hung_storage_is_reported_within_the_deadline_without_failing(client, hung_s3):
    response, took = timed_get(client, "/readyz")
    assert took < DEADLINE + SLACK
    assert response.status_code == 200
    assert response.json() == {
        "status": "degraded",
        "checks": {"database": "ok", "cache": "ok", "storage": "timeout"},
        "failed": ["storage"],
    }


def test_a_stuck_check_is_not_started_again(client, hung_s3, settings):
    settings.READINESS_CHECK_TIMEOUT = 0.3  # well within the hung call's two seconds
    client.get("/readyz")
    stuck = health._pending["storage"]
    # The first storage check is still waiting on the hung endpoint.
    response, took = timed_get(client, "/readyz")
    assert not stuck.done() and health._pending["storage"] is stuck
    assert response.json()["checks"]["storage"] == "timeout"
    assert took < DEADLINE + SLACK


def test_hung_redis_is_reported_within_the_deadline_without_failing(
    client, redis_relay
):
    redis_relay.hang()
    response, took = timed_get(client, "/readyz")
    assert took < DEADLINE + SLACK
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["failed"] == ["cache"]


def test_redis_cut_off_is_degraded_and_back_when_restored(client, redis_relay):
    redis_relay.cut()
    assert client.get("/readyz").json()["failed"] == ["cache"]
    redis_relay.restore()
    response = client.get("/readyz")
    assert response.status_code == 200 and response.json()["failed"] == []


def test_hung_database_fails_readiness_within_the_deadline(client, postgres_relay):
    postgres_relay.hang()
    response, took = timed_get(client, "/readyz")
    assert took < DEADLINE + SLACK
    assert response.status_code == 503
    assert response.json()["status"] == "error"
    assert response.json()["checks"]["database"] == "timeout"
    assert response.json()["failed"] == ["database"]


def test_database_cut_off_fails_readiness_and_recovers(client, postgres_relay):
    assert client.get("/readyz").status_code == 200  # through the relay
    postgres_relay.cut()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "error"
    postgres_relay.restore()
    assert client.get("/readyz").status_code == 200


def test_liveness_ignores_every_dependency(
    client, postgres_relay, redis_relay, hung_s3
):
    postgres_relay.hang()
    redis_relay.hang()
    response, took = timed_get(client, "/healthz")
    assert response.status_code == 200 and took < SLACK
