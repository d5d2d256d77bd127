"""The production server as deployed: gunicorn.conf.py, DEBUG off, WhiteNoise."""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.conf import settings

from tests.helpers import BASE_DIR

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(production_env, tmp_path_factory):
    db = settings.DATABASES["default"]
    port = free_port()
    env = {
        **production_env,
        "PATH": os.environ["PATH"],
        "DATABASE_URL": f"postgres:///{db['NAME']}",
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15"),
        "ALLOWED_HOSTS": "ndas.example.org",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "1",
        "GUNICORN_THREADS": "2",
    }
    python = Path(sys.executable)
    subprocess.run(
        [python, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=BASE_DIR,
        env=env,
        check=True,
        timeout=300,
    )
    log = tmp_path_factory.mktemp("gunicorn") / "stdout.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [python.parent / "gunicorn", "-c", "gunicorn.conf.py", "ndas.wsgi"],
            cwd=BASE_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                requests.get(f"{url}/healthz", timeout=1)
                break
            # Not listening yet, or a cold worker slow on its first request.
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(0.2)
        yield url, log
    finally:
        process.terminate()
        process.wait(timeout=30)


HTTPS = {"Host": "ndas.example.org", "X-Forwarded-Proto": "https"}


def test_healthz_over_plain_http_by_ip(server):
    url, _ = server
    response = requests.get(f"{url}/healthz", timeout=5, allow_redirects=False)
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_plain_http_is_redirected_to_https(server):
    url, _ = server
    response = requests.get(
        f"{url}/admin/login/",
        headers={"Host": "ndas.example.org"},
        timeout=5,
        allow_redirects=False,
    )
    assert response.status_code == 301
    assert response.headers["Location"] == "https://ndas.example.org/admin/login/"


def test_login_page_behind_the_proxy(server):
    url, _ = server
    response = requests.get(f"{url}/admin/login/", headers=HTTPS, timeout=5)
    assert response.status_code == 200
    assert "preload" in response.headers["Strict-Transport-Security"]
    assert "__Host-ndas_csrf=" in response.headers["Set-Cookie"]
    assert "Secure" in response.headers["Set-Cookie"]


def test_unknown_host_is_refused(server):
    url, _ = server
    response = requests.get(
        f"{url}/admin/login/",
        headers={**HTTPS, "Host": "evil.example.com"},
        timeout=5,
    )
    assert response.status_code == 400


def test_static_files_are_hashed_compressed_and_long_cached(server):
    url, _ = server
    page = requests.get(f"{url}/admin/login/", headers=HTTPS, timeout=5).text
    start = page.index("/static/unfold/")
    path = page[start : page.index('"', start)]
    assert path.count(".") >= 2  # name.<hash>.ext
    response = requests.get(
        f"{url}{path}", headers={**HTTPS, "Accept-Encoding": "gzip"}, timeout=5
    )
    assert response.status_code == 200
    assert "max-age=315360000" in response.headers["Cache-Control"]
    assert response.headers.get("Content-Encoding") == "gzip"


def test_server_logs_are_json_lines_with_request_ids(server):
    url, log = server
    requests.get(
        f"{url}/admin/login/",
        headers={**HTTPS, "X-Request-ID": "gunicorn-smoke-1"},
        timeout=5,
    )
    time.sleep(0.2)
    lines = [json.loads(line) for line in log.read_text().splitlines() if line]
    [entry] = [e for e in lines if e.get("request_id") == "gunicorn-smoke-1"]
    assert entry["name"] == "ndas.request"
    assert entry["status"] == 200 and entry["path"] == "/admin/login/"
    assert any(e["name"] == "gunicorn.error" for e in lines)
    # Each request is logged once: gunicorn's own access log is off by default.
    assert not any(e["name"] == "gunicorn.access" for e in lines)
