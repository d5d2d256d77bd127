"""Project middleware: request context and log, health, headers, timeouts, errors."""

import logging
import re
import time
import uuid

from django.conf import settings
from django.contrib.auth import logout
from django.core.exceptions import (
    BadRequest,
    PermissionDenied,
    SuspiciousOperation,
)
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.functional import empty

from ndas import errors, health
from records.common.context import (
    client_ip_var,
    request_id_var,
    request_memo_var,
    user_id_var,
)
from records.common.net import client_ip, from_trusted_proxy

access_log = logging.getLogger("ndas.request")

REQUEST_ID_HEADER = "X-Request-ID"
# Accept a caller's id only if it is short and plain, so it is safe to log and echo.
REQUEST_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{7,127}")
HEALTH_PATHS = ("/healthz", "/readyz")

SESSION_STARTED_KEY = "_ndas_started_at"
SESSION_ACTIVITY_KEY = "_ndas_last_activity"
# Record activity at most once a minute, so that browsing does not write on every page.
ACTIVITY_WRITE_INTERVAL = 60


def _loaded_user_id(request: HttpRequest) -> int | None:
    """The signed-in user's id if the request already loaded the user (no new query)."""
    user = getattr(request, "user", None)
    if user is None or getattr(user, "_wrapped", None) is empty:
        return None
    return user.pk if user.is_authenticated else None


def _request_ids(request: HttpRequest) -> tuple[str, str]:
    """The request's id, and the id a client sent that was not taken as it.

    The trusted proxy's X-Request-ID (deploy/nginx.conf sets its own on every
    request) is the request's id; a value from any other peer is the client's choice
    and never the id the logs and the audit trail carry: it is only logged beside it.
    """
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    plain = bool(REQUEST_ID_RE.fullmatch(incoming))
    if plain and from_trusted_proxy(request):
        return incoming, ""
    return uuid.uuid4().hex, incoming if plain else ""


class RequestContextMiddleware:
    """Give each request an id (echoed back) and log it once when it is answered.

    The log line has the path but never the query string: search terms can be names.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id, client_request_id = _request_ids(request)
        request.request_id = request_id
        request_token = request_id_var.set(request_id)
        user_token = user_id_var.set(None)
        ip_token = client_ip_var.set(client_ip(request))
        safe = request.method in ("GET", "HEAD")
        memo_token = request_memo_var.set({} if safe else None)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            level = logging.DEBUG if request.path in HEALTH_PATHS else logging.INFO
            access_log.log(
                level,
                "request",
                extra={
                    "user_id": _loaded_user_id(request),
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    **(
                        {"client_request_id": client_request_id}
                        if client_request_id
                        else {}
                    ),
                },
            )
            return response
        finally:
            request_id_var.reset(request_token)
            user_id_var.reset(user_token)
            client_ip_var.reset(ip_token)
            request_memo_var.reset(memo_token)


class HealthCheckMiddleware:
    """Serve /healthz and /readyz before host checks, HTTPS redirects and sessions.

    Load balancers and container health checks call the worker directly by IP over plain
    HTTP; these answers contain no data worth protecting.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path not in HEALTH_PATHS:
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            return JsonResponse({"status": "error"}, status=405)
        if request.path == "/healthz":
            return JsonResponse({"status": "ok"})
        status, body = health.readiness()
        return JsonResponse(body, status=status)


class InputCharactersMiddleware:
    """Refuse (400) a request whose query string or form fields hold a NUL:
    PostgreSQL cannot store or compare it, and every filter, ordering and id the
    admin reads from a request would otherwise turn it into a server error. Forms
    already refuse it field by field; this holds for what no form checks."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # The CSRF check reads a POST's fields (not its files) before any view
        # does: reading them here first changes nothing.
        fields = (
            [request.GET, request.POST] if request.method == "POST" else [request.GET]
        )
        for query in fields:
            for key, values in query.lists():
                if "\x00" in key or any("\x00" in value for value in values):
                    raise BadRequest("NUL in a request field")
        return self.get_response(request)


class PermissionsPolicyMiddleware:
    """Deny powerful browser features (camera, microphone, location...) everywhere."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response


class SessionTimeoutMiddleware:
    """End sessions idle too long or too old (SESSION_IDLE/ABSOLUTE_TIMEOUT)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            user_id_var.set(request.user.pk)
            self._enforce(request)
        return self.get_response(request)

    @staticmethod
    def _enforce(request: HttpRequest) -> None:
        now = int(time.time())
        session = request.session
        started = session.setdefault(SESSION_STARTED_KEY, now)
        last_activity = session.get(SESSION_ACTIVITY_KEY, now)
        idle = now - last_activity > settings.SESSION_IDLE_TIMEOUT
        too_old = now - started > settings.SESSION_ABSOLUTE_TIMEOUT
        if idle or too_old:
            logout(request)
            user_id_var.set(None)
        elif (
            SESSION_ACTIVITY_KEY not in session
            or now - last_activity >= ACTIVITY_WRITE_INTERVAL
        ):
            session[SESSION_ACTIVITY_KEY] = now


class ExceptionMiddleware:
    """Turn an unhandled exception in a view into a safe 500 (JSON or a plain page),
    or a 503 when the database is unavailable or a statement timed out.

    A 404 is NDAS's own not-found page, with DEBUG on too (Django's would list the
    URL patterns); other client errors (403, 400) keep Django's own handling.
    """

    CLIENT_ERRORS = (PermissionDenied, SuspiciousOperation, BadRequest)

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            settings.DEBUG
            and response.status_code == 404
            and not getattr(response, "ndas_not_found", False)
            and response.get("Content-Type", "").startswith("text/html")
        ):
            # A path no URL pattern matches, answered by Django's technical page.
            return errors.not_found(request)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception):
        if isinstance(exception, Http404):
            return errors.not_found(request, exception)
        if isinstance(exception, self.CLIENT_ERRORS):
            return None
        return errors.exception_response(request, exception)
