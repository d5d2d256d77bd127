"""WSGI entry point for gunicorn."""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ndas.settings")

application = get_wsgi_application()

# What is loaded by now (Django, unfold, the growth references, scipy...) lives as
# long as the process: frozen, the cycle collector no longer walks it. Unfrozen,
# every few requests a full collection walked it all: 140 ms of CPU added to one
# request in eight of the patient page (its p95, bench/scale_bench.py).
gc.collect()
gc.freeze()
