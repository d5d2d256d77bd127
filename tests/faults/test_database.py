"""PostgreSQL unavailable is a 503 with Retry-After, logged once per outage; a
statement cancelled by its timeout is a 503 asking for a narrower search. The outage
is real: the test's connections go through a relay that is cut."""

import logging

import psycopg
import pytest
from django.db import connections
from django.db import utils as db_utils

from ndas import errors

pytestmark = pytest.mark.urls("tests.faults.urls")

COUNT = "/faults/count/"
SLOW = "/faults/slow/"
JSON = {"Accept": "application/json"}
HTML = {"Accept": "text/html"}


@pytest.fixture(autouse=True)
def no_outage_known():
    errors._Outage.logged_at = None
    yield
    errors._Outage.logged_at = None


@pytest.fixture
def database_through_relay(transactional_db, postgres_relay):
    """The test's own connection too goes through the relay."""
    connection = connections["default"]
    connection.close()
    yield postgres_relay
    postgres_relay.restore()
    connection.close()


def outage_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "ndas.errors"]


def assert_unavailable_json(response) -> None:
    assert response.status_code == 503
    assert response["Retry-After"] == str(errors.RETRY_AFTER_SECONDS)
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "status": "error",
        "error_code": errors.UNAVAILABLE_CODE,
        "message": errors.UNAVAILABLE_MESSAGE,
        "request_id": response["X-Request-ID"],
    }


def test_outage_is_503_with_retry_after_and_logged_once(
    client, database_through_relay, caplog
):
    assert client.get(COUNT, headers=JSON).status_code == 200
    database_through_relay.cut()
    with caplog.at_level(logging.INFO, logger="ndas.errors"):
        first = client.get(COUNT, headers=JSON)
        second = client.get(COUNT, headers=JSON)
    assert_unavailable_json(first)
    assert_unavailable_json(second)
    assert outage_lines(caplog) == [errors.LOG_UNAVAILABLE]
    [record] = [r for r in caplog.records if r.name == "ndas.errors"]
    assert record.path == COUNT and record.exc_info is None
    assert record.request_id == first["X-Request-ID"]


def test_outage_is_logged_again_after_the_database_came_back(
    client, database_through_relay, caplog
):
    with caplog.at_level(logging.INFO, logger="ndas.errors"):
        database_through_relay.cut()
        assert client.get(COUNT, headers=JSON).status_code == 503
        database_through_relay.restore()
        assert client.get(COUNT, headers=JSON).status_code == 200
        database_through_relay.cut()
        assert client.get(COUNT, headers=JSON).status_code == 503
        assert client.get(COUNT, headers=JSON).status_code == 503
    assert outage_lines(caplog) == [
        errors.LOG_UNAVAILABLE,
        errors.LOG_AVAILABLE_AGAIN,
        errors.LOG_UNAVAILABLE,
    ]


def test_a_long_outage_is_logged_again_after_the_interval(
    client, database_through_relay, caplog, monkeypatch
):
    monkeypatch.setattr(errors, "OUTAGE_LOG_INTERVAL", 0)
    database_through_relay.cut()
    with caplog.at_level(logging.INFO, logger="ndas.errors"):
        client.get(COUNT, headers=JSON)
        client.get(COUNT, headers=JSON)
    assert outage_lines(caplog) == [
        errors.LOG_UNAVAILABLE,
        errors.LOG_STILL_UNAVAILABLE,
    ]


def test_a_hung_database_is_503_too(client, database_through_relay):
    database_through_relay.hang()
    # connect_timeout (5 s) ends the wait for the server's greeting.
    assert_unavailable_json(client.get(COUNT, headers=JSON))


def test_signed_in_browser_gets_the_unavailable_page(
    client, make_user, database_through_relay
):
    client.force_login(make_user("outage"))
    assert client.get("/admin/", headers=HTML).status_code == 200
    database_through_relay.cut()
    # The session is the request's first query: this fails in a middleware.
    client.raise_request_exception = False
    response = client.get("/admin/", headers=HTML)
    assert response.status_code == 503
    assert response["Retry-After"] == str(errors.RETRY_AFTER_SECONDS)
    body = response.content.decode()
    assert "briefly unavailable" in body and errors.UNAVAILABLE_MESSAGE in body
    assert response["X-Request-ID"] in body
    assert errors.INTERNAL_ERROR_MESSAGE not in body


@pytest.mark.django_db
def test_statement_timeout_is_a_clear_503_logged_with_the_request_id(client, caplog):
    with caplog.at_level(logging.INFO, logger="ndas.errors"):
        response = client.get(SLOW + "?q=Velmarch", headers=JSON)
    assert response.status_code == 503
    assert "Retry-After" not in response
    assert response.json() == {
        "status": "error",
        "error_code": errors.QUERY_TIMEOUT_CODE,
        "message": errors.QUERY_TIMEOUT_MESSAGE,
        "request_id": response["X-Request-ID"],
    }
    [record] = [r for r in caplog.records if r.name == "ndas.errors"]
    assert record.getMessage() == errors.LOG_QUERY_TIMEOUT
    assert record.request_id == response["X-Request-ID"] and record.path == SLOW
    assert "Velmarch" not in str(record.__dict__)


@pytest.mark.django_db
def test_statement_timeout_page_for_browsers(client):
    response = client.get(SLOW, headers=HTML)
    assert response.status_code == 503
    body = response.content.decode()
    assert "took too long" in body and errors.QUERY_TIMEOUT_MESSAGE in body
    assert errors.INTERNAL_ERROR_MESSAGE not in body


def wrapped(sqlstate: str | None) -> db_utils.OperationalError:
    """An error as Django raises it: its own class, psycopg's error as the cause."""
    cause = (
        psycopg.OperationalError("connection failed")
        if sqlstate is None
        else psycopg.errors.lookup(sqlstate)("server said no")
    )
    error = db_utils.OperationalError(*cause.args)
    error.__cause__ = cause
    return error


@pytest.mark.parametrize(
    "sqlstate, fault",
    [
        (None, errors.UNAVAILABLE_CODE),  # no connection: refused, lost, timed out
        ("08006", errors.UNAVAILABLE_CODE),  # connection failure
        ("57P01", errors.UNAVAILABLE_CODE),  # the server is shutting down
        ("57P03", errors.UNAVAILABLE_CODE),  # the server is starting
        ("53300", errors.UNAVAILABLE_CODE),  # too many connections
        ("57014", errors.QUERY_TIMEOUT_CODE),  # statement timeout
        ("55P03", None),  # lock not available: an error of this request, not an outage
        ("40001", None),  # serialization failure
    ],
)
def test_which_database_errors_are_an_outage(sqlstate, fault):
    assert errors.database_fault(wrapped(sqlstate)) == fault


def test_other_errors_are_not_database_faults():
    assert errors.database_fault(RuntimeError("boom")) is None
    assert errors.database_fault(db_utils.IntegrityError("duplicate")) is None
