"""Turn an unhandled exception into a safe response: JSON or a plain page.

A database that cannot be reached (or is shutting down) is not an unexpected error:
it is a 503 with Retry-After, logged once per outage rather than once per request.
A statement cancelled by its timeout is a 503 asking for a narrower search.
"""

import logging
import sys
import threading
import time

import psycopg
from django.db import utils as db_utils
from django.db.backends.signals import connection_created
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.urls import NoReverseMatch, reverse

logger = logging.getLogger("ndas.errors")

INTERNAL_ERROR_CODE = "internal_server_error"
INTERNAL_ERROR_MESSAGE = "An unexpected error occurred. Please try again later."
UNAVAILABLE_CODE = "service_unavailable"
UNAVAILABLE_MESSAGE = (
    "NDAS is briefly unavailable: it cannot reach its database. "
    "Nothing you saved before is lost. Please try again in a minute."
)
QUERY_TIMEOUT_CODE = "query_timeout"
QUERY_TIMEOUT_MESSAGE = (
    "The request took too long and was stopped. Narrow your search (more of the "
    "name, a date range, fewer charts) and try again."
)
# Seconds a client is asked to wait before trying again during an outage.
RETRY_AFTER_SECONDS = 30
# An outage still going on is logged again after this many seconds.
OUTAGE_LOG_INTERVAL = 300

LOG_UNAVAILABLE = "database unavailable"
LOG_STILL_UNAVAILABLE = "database still unavailable"
LOG_AVAILABLE_AGAIN = "database available again"
LOG_QUERY_TIMEOUT = "query timed out"

# SQLSTATEs of a server that cannot be reached, is starting or stopping, or is full;
# class 08 (connection exceptions) too. Errors without a SQLSTATE are the client's
# own: the connection could not be made or was lost.
_UNAVAILABLE_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "53300"})


def wants_json(request: HttpRequest) -> bool:
    """True for AJAX calls and clients that ask for or send JSON rather than HTML."""
    if request.headers.get("X-Requested-With") == "XMLHttpRequest":
        return True
    if request.content_type == "application/json":
        return True
    accept = request.headers.get("Accept", "")
    first = accept.split(",")[0].split(";")[0].strip().lower()
    return first == "application/json"


def _response(
    request: HttpRequest, *, status: int, code: str, message: str, template: str
) -> HttpResponse:
    request_id = getattr(request, "request_id", None)
    if wants_json(request):
        return JsonResponse(
            {
                "status": "error",
                "error_code": code,
                "message": message,
                "request_id": request_id,
            },
            status=status,
        )
    # No request context: context processors may touch the database that just failed.
    html = loader.render_to_string(
        template, {"message": message, "request_id": request_id}
    )
    return HttpResponse(html, status=status)


def error_response(request: HttpRequest) -> HttpResponse:
    """The 500 response: never a traceback, always the request id for support."""
    return _response(
        request,
        status=500,
        code=INTERNAL_ERROR_CODE,
        message=INTERNAL_ERROR_MESSAGE,
        template="500.html",
    )


def log_unhandled(request: HttpRequest) -> None:
    """Log the exception being handled, with its traceback, in the request's context."""
    logger.exception(
        "unhandled exception",
        extra={"method": request.method, "path": request.path},
    )


# --- the database's faults ------------------------------------------------------------


def _psycopg_error(exc: BaseException | None) -> psycopg.Error | None:
    """The driver's error behind Django's wrapper (its __cause__), if any."""
    while exc is not None:
        if isinstance(exc, psycopg.Error):
            return exc
        exc = exc.__cause__
    return None


def database_fault(exc: BaseException) -> str | None:
    """QUERY_TIMEOUT_CODE, UNAVAILABLE_CODE, or None for any other exception."""
    if not isinstance(exc, (db_utils.OperationalError, db_utils.InterfaceError)):
        return None
    cause = _psycopg_error(exc)
    if isinstance(cause, psycopg.errors.QueryCanceled):
        return QUERY_TIMEOUT_CODE
    if isinstance(exc, db_utils.InterfaceError):  # the connection is already closed
        return UNAVAILABLE_CODE
    sqlstate = getattr(cause, "sqlstate", None)
    if sqlstate is None or sqlstate.startswith("08"):
        return UNAVAILABLE_CODE
    return UNAVAILABLE_CODE if sqlstate in _UNAVAILABLE_SQLSTATES else None


class _Outage:
    """Per process: when the database was last logged as unavailable (None: it is not
    known to be). Reset by the next connection that succeeds."""

    lock = threading.Lock()
    logged_at: float | None = None


def _log_unavailable(request: HttpRequest, exc: BaseException) -> None:
    now = time.monotonic()
    with _Outage.lock:
        since = _Outage.logged_at
        if since is not None and now - since < OUTAGE_LOG_INTERVAL:
            return
        _Outage.logged_at = now
    cause = _psycopg_error(exc) or exc
    logger.error(
        LOG_UNAVAILABLE if since is None else LOG_STILL_UNAVAILABLE,
        extra={
            "method": request.method,
            "path": request.path,
            "error": type(cause).__name__,
            "sqlstate": getattr(cause, "sqlstate", None),
        },
    )


def _database_connected(sender, connection, **kwargs) -> None:
    with _Outage.lock:
        was_down, _Outage.logged_at = _Outage.logged_at is not None, None
    if was_down:
        logger.warning(LOG_AVAILABLE_AGAIN)


connection_created.connect(_database_connected, dispatch_uid="ndas.errors.outage")


def exception_response(request: HttpRequest, exc: BaseException) -> HttpResponse:
    """The response to an unhandled exception, logged as its kind deserves."""
    fault = database_fault(exc)
    if fault == UNAVAILABLE_CODE:
        _log_unavailable(request, exc)
        response = _response(
            request,
            status=503,
            code=UNAVAILABLE_CODE,
            message=UNAVAILABLE_MESSAGE,
            template="503.html",
        )
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    if fault == QUERY_TIMEOUT_CODE:
        # The path, never the query string: it holds the search terms.
        logger.warning(
            LOG_QUERY_TIMEOUT, extra={"method": request.method, "path": request.path}
        )
        return _response(
            request,
            status=503,
            code=QUERY_TIMEOUT_CODE,
            message=QUERY_TIMEOUT_MESSAGE,
            template="query_timeout.html",
        )
    log_unhandled(request)
    return error_response(request)


def server_error(request: HttpRequest) -> HttpResponse:
    """`handler500`: for exceptions raised outside views (in middleware, say: loading
    the session is the first query of a request)."""
    exc = sys.exc_info()[1]
    if exc is None:
        log_unhandled(request)
        return error_response(request)
    return exception_response(request, exc)


# --- not found ---------------------------------------------------------------------

# The same words for a chart that does not exist and one outside the user's access:
# nothing on the page tells them apart.
NOT_FOUND_MESSAGE = (
    "This page or chart does not exist, or the chart is not in your care teams."
)


def not_found(request: HttpRequest, exception: BaseException | None = None):
    """`handler404`, and (ExceptionMiddleware) every 404 under DEBUG too: NDAS's
    own page, never Django's list of URL patterns. Those who may use emergency
    access are shown the way to it."""
    user = getattr(request, "user", None)
    break_glass_url = None
    if (
        user is not None
        and user.is_authenticated
        and user.has_perm("patients.add_breakglassgrant")
    ):
        try:
            break_glass_url = reverse("admin:patients_patient_break_glass")
        except NoReverseMatch:  # pragma: no cover - the admin is always routed
            pass
    html = loader.render_to_string(
        "404.html",
        {
            "message": NOT_FOUND_MESSAGE,
            "break_glass_url": break_glass_url,
            "request_id": getattr(request, "request_id", None),
        },
    )
    response = HttpResponse(html, status=404)
    response.ndas_not_found = True
    return response
