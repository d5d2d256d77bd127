"""WSGI entry point for gunicorn.

The cycle collector, tuned for a web process (bench/scale_bench.py's patient page,
whose p95 it set):
- What is loaded by now (Django, unfold, the growth references, scipy...) lives as
  long as the process: frozen, full collections no longer walk it. Unfrozen, every
  few requests one walked it all: 140 ms of CPU added to one request in eight.
- What the first requests build and keep (compiled templates, URL and sidebar
  memos) is frozen too, once, after the process's first WARM_REQUESTS requests,
  when its answer has gone out (request_finished).
- A request's own objects die with it, by their counts, not by the collector: the
  youngest generation is collected every YOUNG_THRESHOLD allocations, not 700
  (Python's default), which a chart page made it do a hundred times. The patient
  page's p95 went from about 115-155 ms to 85-90 ms of CPU, its median 68 to 62-66.
"""

import gc
import os
import threading

from django.core.signals import request_finished
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ndas.settings")

WARM_REQUESTS = 100
YOUNG_THRESHOLD = 50_000

application = get_wsgi_application()


def _freeze() -> None:
    gc.collect()
    gc.freeze()


class _WarmFreeze:
    """Freezes what the process holds once its first WARM_REQUESTS requests are
    answered."""

    def __init__(self):
        self.answered = 0
        self.lock = threading.Lock()

    def __call__(self, **kwargs) -> None:
        with self.lock:
            self.answered += 1
            if self.answered != WARM_REQUESTS:
                return
        _freeze()
        request_finished.disconnect(self, dispatch_uid="ndas.warm_freeze")


_freeze()
gc.set_threshold(YOUNG_THRESHOLD, *gc.get_threshold()[1:])
request_finished.connect(_WarmFreeze(), weak=False, dispatch_uid="ndas.warm_freeze")
