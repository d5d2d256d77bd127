"""gunicorn settings, read from the environment (see the README's variable table)."""

import json
import multiprocessing
import os


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
worker_class = "gthread"
workers = _int("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1)
# One thread a process: NDAS's pages are CPU work, and a process's threads take
# turns at one interpreter lock. 50 staff clicking every 0.5-2 s on two cores
# (bench/load.py) had a p95 of 2.1-2.4 x one person's with one thread, 2.9 x with
# two, 2.7-4.7 x with four, whose requests cost more CPU each (README,
# Benchmarks). More threads absorb slow S3 and database calls: raise it where many
# large uploads run at once.
threads = _int("GUNICORN_THREADS", 1)
# Generous: an admin upload of a large spreadsheet is processed within the request.
timeout = _int("GUNICORN_TIMEOUT", 120)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = 5
# Recycle workers now and then so that a slow leak cannot grow without bound.
max_requests = _int("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = 200
# Heartbeat files on tmpfs: a container's overlay filesystem can stall workers.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
control_socket_disable = True

# Only the reverse proxy may tell us the scheme (X-Forwarded-Proto) and the client.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
proxy_allow_ips = forwarded_allow_ips
secure_scheme_headers = {"X-FORWARDED-PROTO": "https"}

# Django logs every request once, with request and user ids (ndas.middleware). The
# access log is for what never reaches Django (timeouts, refused requests): enable it
# with GUNICORN_ACCESSLOG=- . It is JSON, without query strings, like the app's log.
accesslog = os.environ.get("GUNICORN_ACCESSLOG") or None
access_log_format = json.dumps(
    {
        "time": "%(t)s",
        "name": "gunicorn.access",
        "request_id": "%({x-request-id}o)s",
        "method": "%(m)s",
        "path": "%(U)s",
        "status": "%(s)s",
        "duration_ms": "%(M)s",
        "bytes": "%(B)s",
        "remote_addr": "%(h)s",
    }
)
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {
            "()": "ndas.logging.RedactingJsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "datefmt": "%Y-%m-%dT%H:%M:%S%z",
            "rename_fields": {"asctime": "time", "levelname": "level"},
        },
        # Access lines are already JSON (access_log_format); print them as they are.
        "raw": {"format": "%(message)s"},
    },
    "handlers": {
        "error": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stderr",
            "formatter": "json",
        },
        "access": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "raw",
        },
    },
    "root": {"handlers": ["error"], "level": "INFO"},
    "loggers": {
        "gunicorn.error": {"handlers": ["error"], "propagate": False},
        # Silent unless enabled: a logconfig_dict alone turns the access log on.
        "gunicorn.access": {
            "handlers": ["access"],
            "propagate": False,
            "level": "INFO" if accesslog else "CRITICAL",
        },
    },
}


def post_worker_init(worker) -> None:
    """Each web process makes a blank letter once, in the background, as it starts:
    WeasyPrint's first PDF in a process costs 2-5 s (loading Pango and parsing its C
    declarations, not fonts), which a clinician's first letter would otherwise wait
    for. Commands and workers that never print do not pay it."""
    import threading

    def warm() -> None:
        try:
            from admin_ext.pdf import warm_up

            warm_up()
        except Exception:  # a warm-up only: the first letter then pays, as before
            worker.log.exception("PDF warm-up failed")

    threading.Thread(target=warm, name="pdf-warm-up", daemon=True).start()
