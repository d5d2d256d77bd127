"""Request ids, the JSON/HTML error responses, the access log and session timeouts."""

import json
import logging

import pytest
import time_machine
from django.test import RequestFactory

from ndas import errors
from ndas.logging import RequestContextFilter
from records.common.context import request_id_var

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.urls")]

EXPECTED_ERROR_KEYS = {"status", "error_code", "message", "request_id"}


def test_request_id_is_generated_and_echoed(client):
    response = client.get("/admin/login/")
    request_id = response.headers["X-Request-ID"]
    assert len(request_id) == 32 and request_id.isalnum()
    assert client.get("/admin/login/").headers["X-Request-ID"] != request_id


def test_valid_incoming_request_id_is_kept(client):
    response = client.get("/admin/login/", headers={"X-Request-ID": "edge-1234.abcd"})
    assert response.headers["X-Request-ID"] == "edge-1234.abcd"


@pytest.mark.parametrize(
    "bad",
    ["short", "x" * 129, "has space in it", "<script>alert(1)</script>", "-leading"],
)
def test_invalid_incoming_request_id_is_replaced(client, bad):
    response = client.get("/admin/login/", headers={"X-Request-ID": bad})
    assert response.headers["X-Request-ID"] != bad
    assert len(response.headers["X-Request-ID"]) == 32


def test_json_request_gets_exact_error_body(client):
    client.raise_request_exception = False
    response = client.get(
        "/test/boom/",
        headers={"Accept": "application/json", "X-Request-ID": "req-00000001"},
    )
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "status": "error",
        "error_code": "internal_server_error",
        "message": "An unexpected error occurred. Please try again later.",
        "request_id": "req-00000001",
    }


def test_ajax_request_gets_json_error(client):
    response = client.get("/test/boom/", headers={"X-Requested-With": "XMLHttpRequest"})
    assert response.status_code == 500
    assert set(response.json()) == EXPECTED_ERROR_KEYS


def test_json_body_request_gets_json_error(client):
    response = client.post("/test/boom/", data="{}", content_type="application/json")
    assert response.status_code == 500
    assert response.json()["error_code"] == "internal_server_error"


def test_html_request_gets_plain_page_without_traceback(client, settings):
    settings.DEBUG = True  # even with debug pages on, no traceback reaches the browser
    response = client.get("/test/boom/", headers={"Accept": "text/html"})
    assert response.status_code == 500
    body = response.content.decode()
    assert "Something went wrong" in body
    assert response.headers["X-Request-ID"] in body
    assert "kaboom" not in body and "Traceback" not in body


def test_client_errors_keep_djangos_handling(client):
    response = client.get("/test/missing/", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert b"Page not found" in response.content


def test_exception_is_logged_with_traceback_and_context(client, caplog):
    with caplog.at_level(logging.ERROR, logger="ndas.errors"):
        response = client.get("/test/boom/", headers={"X-Request-ID": "req-00000002"})
    assert response.status_code == 500
    [record] = [r for r in caplog.records if r.name == "ndas.errors"]
    assert record.exc_info[0] is RuntimeError
    assert record.path == "/test/boom/"
    assert RequestContextFilter().filter(record) and record.request_id == "req-00000002"


def test_handler500_logs_and_answers_like_the_middleware(caplog):
    request = RequestFactory().get("/somewhere/", HTTP_ACCEPT="application/json")
    request.request_id = "req-00000003"
    with caplog.at_level(logging.ERROR, logger="ndas.errors"):
        try:
            raise ValueError("raised in a middleware")
        except ValueError:
            response = errors.server_error(request)
    assert response.status_code == 500
    assert json.loads(response.content)["request_id"] == "req-00000003"
    assert caplog.records[-1].exc_info[0] is ValueError


def test_each_request_is_logged_once_without_query_string(client, make_user, caplog):
    user = make_user("logged")
    client.force_login(user)
    with caplog.at_level(logging.INFO, logger="ndas.request"):
        client.get("/test/whoami/?q=Smith", headers={"X-Request-ID": "req-00000004"})
    [record] = [r for r in caplog.records if r.name == "ndas.request"]
    assert record.method == "GET"
    assert record.path == "/test/whoami/"
    assert record.status == 200
    assert record.user_id == user.pk
    assert record.duration_ms >= 0
    assert "Smith" not in json.dumps(record.__dict__, default=str)
    assert RequestContextFilter().filter(record) and record.request_id == "req-00000004"
    assert request_id_var.get() is None  # context does not leak past the request


def test_json_formatter_writes_one_json_object_per_line(settings):
    from logging.config import dictConfig

    dictConfig(settings.LOGGING)
    handler = logging.getLogger().handlers[0]
    record = logging.LogRecord(
        "ndas.test", logging.INFO, __file__, 1, "hello", (), None
    )
    handler.filter(record)
    line = handler.format(record)
    assert "\n" not in line
    data = json.loads(line)
    assert data["message"] == "hello" and data["level"] == "INFO"
    assert {"time", "request_id", "user_id"} <= set(data)


@pytest.fixture
def signed_in(client, make_user):
    user = make_user("timeout")
    client.force_login(user)
    return client


def test_idle_session_is_ended(signed_in, settings):
    settings.SESSION_IDLE_TIMEOUT = 1800
    with time_machine.travel("2026-01-01 09:00Z", tick=False) as traveller:
        assert signed_in.get("/test/whoami/").content != b""
        traveller.shift(29 * 60)
        assert signed_in.get("/test/whoami/").content != b""
        traveller.shift(29 * 60)  # active 29 minutes ago: still in
        assert signed_in.get("/test/whoami/").content != b""
        traveller.shift(31 * 60)
        assert signed_in.get("/test/whoami/").content == b""


def test_session_has_an_absolute_lifetime(signed_in, settings):
    settings.SESSION_IDLE_TIMEOUT = 1800
    settings.SESSION_ABSOLUTE_TIMEOUT = 3600
    with time_machine.travel("2026-01-01 09:00Z", tick=False) as traveller:
        signed_in.get("/test/whoami/")
        for _ in range(3):
            traveller.shift(20 * 60)
            assert signed_in.get("/test/whoami/").content != b""
        traveller.shift(20 * 60)
        assert signed_in.get("/test/whoami/").content == b""
