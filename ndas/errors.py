"""Turn an unhandled exception into a safe response: JSON or a plain page."""

import logging

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader

logger = logging.getLogger("ndas.errors")

INTERNAL_ERROR_CODE = "internal_server_error"
INTERNAL_ERROR_MESSAGE = "An unexpected error occurred. Please try again later."


def wants_json(request: HttpRequest) -> bool:
    """True for AJAX calls and clients that ask for or send JSON rather than HTML."""
    if request.headers.get("X-Requested-With") == "XMLHttpRequest":
        return True
    if request.content_type == "application/json":
        return True
    accept = request.headers.get("Accept", "")
    first = accept.split(",")[0].split(";")[0].strip().lower()
    return first == "application/json"


def error_response(request: HttpRequest) -> HttpResponse:
    """The 500 response: never a traceback, always the request id for support."""
    request_id = getattr(request, "request_id", None)
    if wants_json(request):
        return JsonResponse(
            {
                "status": "error",
                "error_code": INTERNAL_ERROR_CODE,
                "message": INTERNAL_ERROR_MESSAGE,
                "request_id": request_id,
            },
            status=500,
        )
    # No request context: context processors may touch the database that just failed.
    html = loader.render_to_string(
        "500.html", {"message": INTERNAL_ERROR_MESSAGE, "request_id": request_id}
    )
    return HttpResponse(html, status=500)


def log_unhandled(request: HttpRequest) -> None:
    """Log the exception being handled, with its traceback, in the request's context."""
    logger.exception(
        "unhandled exception",
        extra={"method": request.method, "path": request.path},
    )


def server_error(request: HttpRequest) -> HttpResponse:
    """`handler500`: for exceptions raised outside views (in middleware, say)."""
    log_unhandled(request)
    return error_response(request)
