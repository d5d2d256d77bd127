"""The web process as gunicorn loads it."""

import subprocess
import sys

from tests.helpers import BASE_DIR


def test_loading_the_application_freezes_what_it_loaded():
    """The cycle collector leaves what the process loaded at start alone (gc.freeze):
    otherwise its full collections walk it every few requests."""
    script = (
        "import gc; assert gc.get_freeze_count() == 0; import ndas.wsgi; "
        "print(gc.get_freeze_count())"
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    assert int(out.stdout.strip()) > 100_000
