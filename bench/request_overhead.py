"""What the project's middleware stack costs per request, against bare Django.

Both handlers serve the same trivial view in-process (no network, no database), so the
difference is the middleware alone: request id, access log, security headers, CSP,
sessions, CSRF, authentication, timeouts, axes.
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ndas.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")  # measure the work, not the terminal

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.test import override_settings  # noqa: E402
from django.test.client import RequestFactory  # noqa: E402
from django.urls import path  # noqa: E402


def ping(request):
    return HttpResponse("pong")


urlpatterns = [path("ping/", ping)]


def rate(middleware: list[str], requests: int) -> float:
    """Requests per second of a WSGI handler built with this middleware."""
    with override_settings(ROOT_URLCONF=__name__, MIDDLEWARE=middleware):
        handler = WSGIHandler()
        environ = (
            RequestFactory()
            .get("/ping/", REMOTE_ADDR="127.0.0.1", HTTP_HOST="127.0.0.1")
            .environ
        )
        statuses = []

        def start_response(status, headers):
            statuses.append(status)

        for _ in range(min(200, requests)):  # warm-up
            handler(dict(environ), start_response)
        started = time.perf_counter()
        for _ in range(requests):
            handler(dict(environ), start_response)
        elapsed = time.perf_counter() - started
    assert all(s.startswith("200") for s in statuses), set(statuses)
    return requests / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000)
    args = parser.parse_args()
    baseline = rate([], args.requests)
    ndas = rate(list(settings.MIDDLEWARE), args.requests)
    print(f"requests: {args.requests}")
    print(f"baseline (no middleware):   {baseline:10,.0f} req/s")
    print(f"ndas (full middleware):     {ndas:10,.0f} req/s")
    print(f"ratio ndas/baseline:        {ndas / baseline:10.2f}")
    print(f"middleware cost per request: {(1 / ndas - 1 / baseline) * 1e6:8.0f} us")


if __name__ == "__main__":
    main()
