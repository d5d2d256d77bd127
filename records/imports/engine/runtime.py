"""Process-wide runtime tweaks for importing processes only: the cycle collector
paused while a file is read, and threads handing over sooner while a writer runs.
"""

import gc
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# The two process-wide tweaks below (the cycle collector paused, threads handing
# over sooner) touch every thread of the process: in a threaded web server, every
# other request. Only processes that do nothing but import turn them on: the Celery
# workers (records.imports.tasks) and the command line (import_records).
_tweaks = False


def process_tweaks_allow() -> None:
    """This process only imports: imports may pause the collector and lower the
    switch interval while they run."""
    global _tweaks
    _tweaks = True


@contextmanager
def process_tweaks_allowed() -> Iterator[None]:
    """As process_tweaks_allow, for one command's run (the command line's)."""
    global _tweaks
    before, _tweaks = _tweaks, True
    try:
        yield
    finally:
        _tweaks = before


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector off while a file is read (importing processes only).

    Reading a file makes millions of short-lived objects (cells, values, rows);
    reference counting frees them, none form cycles, yet they set off collections
    that walk every object of the process: a quarter of an import's time. Any
    cycles made meanwhile are collected after the pause, as usual.
    """
    if not _tweaks or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


_handoff_lock = threading.Lock()
_handoff_users = 0
_handoff_default: float | None = None  # the interval to restore, while lowered
HANDOFF_S = 0.0005


@contextmanager
def _quick_handoffs() -> Iterator[None]:
    """Threads (all of the process's) hand the interpreter over sooner while a
    writer runs (importing processes only, see _tweaks).

    The writer thread needs the interpreter for a moment after each database
    call; at Python's default switch interval (5 ms) it waits up to that long
    whenever the checking thread holds it, and PostgreSQL waits with it.
    """
    global _handoff_users, _handoff_default
    if not _tweaks:  # a web process: its other requests keep their interval
        yield
        return
    with _handoff_lock:
        if _handoff_users == 0:
            _handoff_default = sys.getswitchinterval()
            sys.setswitchinterval(HANDOFF_S)
        _handoff_users += 1
    try:
        yield
    finally:
        with _handoff_lock:
            _handoff_users -= 1
            if _handoff_users == 0:
                sys.setswitchinterval(_handoff_default)
