"""Each web process makes a blank letter as it starts (gunicorn.conf.py), so that a
clinician's first letter does not wait for WeasyPrint's first-PDF setup."""

import runpy
import sys
import threading
from pathlib import Path

from django.db import connection
from django.test.utils import CaptureQueriesContext

from admin_ext.pdf import warm_up

BASE_DIR = Path(__file__).resolve().parents[2]


def test_the_blank_letter_is_a_pdf_and_reads_nothing(db):
    with CaptureQueriesContext(connection) as queries:
        body = warm_up()
    assert body.startswith(b"%PDF")
    assert len(queries) == 0
    assert "weasyprint" in sys.modules


def test_gunicorn_warms_each_worker_in_the_background():
    config = runpy.run_path(str(BASE_DIR / "gunicorn.conf.py"))

    class Log:
        errors: list = []

        def exception(self, message):
            self.errors.append(message)

    class Worker:
        log = Log()

    config["post_worker_init"](Worker())
    warmers = [t for t in threading.enumerate() if t.name == "pdf-warm-up"]
    assert warmers and all(t.daemon for t in warmers)
    for thread in warmers:
        thread.join(timeout=60)
    assert not Worker.log.errors
