"""The web process as gunicorn loads it."""

import subprocess
import sys

from tests.helpers import BASE_DIR


def _python(script: str) -> str:
    """What a fresh Python process running `script` in the project prints."""
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_loading_the_application_freezes_what_it_loaded():
    """The cycle collector leaves what the process loaded at start alone (gc.freeze):
    otherwise its full collections walk it every few requests."""
    script = (
        "import gc; assert gc.get_freeze_count() == 0; import ndas.wsgi; "
        "print(gc.get_freeze_count())"
    )
    assert int(_python(script)) > 100_000


def test_the_process_freezes_again_after_its_first_requests():
    """What the first requests build (templates, memos) is frozen once they are
    answered, and a request's own objects are left to their counts (a young
    generation of YOUNG_THRESHOLD allocations)."""
    script = (
        "import gc\n"
        "import ndas.wsgi as w\n"
        "from django.core.signals import request_finished\n"
        "assert gc.get_threshold()[0] == w.YOUNG_THRESHOLD\n"
        "before = gc.get_freeze_count()\n"
        "kept = [[i] for i in range(5000)]  # what the first requests built\n"
        "for _ in range(w.WARM_REQUESTS - 1):\n"
        "    request_finished.send(sender=None)\n"
        "assert gc.get_freeze_count() == before\n"
        "request_finished.send(sender=None)\n"
        "after = gc.get_freeze_count()\n"
        "assert after >= before + 5000, (before, after)\n"
        "for _ in range(w.WARM_REQUESTS * 2):\n"
        "    request_finished.send(sender=None)\n"
        "assert gc.get_freeze_count() == after  # once only\n"
        "print('ok')\n"
    )
    assert _python(script) == "ok"
