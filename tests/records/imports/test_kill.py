"""An import killed while it writes leaves nothing behind: one transaction."""

import os
import signal
import subprocess
import sys
import time

import pytest
from django.conf import settings

from records.imports.models import ImportJob
from records.patients.models import Patient
from records.users import roles
from tests.helpers import BASE_DIR, writing

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
ROWS = 100_000


def test_killed_import_writes_nothing(make_user, tmp_path):
    make_user("bulk", roles=[roles.DATA_MANAGER])
    path = tmp_path / "patients.csv"
    lines = ["mrn,given_name,family_name,date_of_birth,sex"]
    lines += [f"K-{n:06d},Talvi,Quennard{n},2025-03-14,female" for n in range(ROWS)]
    path.write_text("\n".join(lines) + "\n")
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres:///{settings.DATABASES['default']['NAME']}",
        "LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "import_records",
            "patients",
            str(path),
            "--user",
            "bulk",
            "--reason",
            "Bulk load",
            "--no-care-team",
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        # The import locks the patients table when its write transaction starts.
        while not writing():
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.02)
        time.sleep(0.5)  # some chunks written, most of the file still to come
        assert process.poll() is None, "the import finished before it was killed"
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    assert Patient.objects.count() == 0
    assert Patient.history.count() == 0
    assert ImportJob.objects.get().status != ImportJob.Status.COMMITTED
