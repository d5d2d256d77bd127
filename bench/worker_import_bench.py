"""A large patient file imported through the admin's pages, checked and committed
by a Celery worker: how long each step takes, and the peak memory of the worker
and of the web process (which only streams the upload to storage).

Three processes, as in production: this script (the browser: it signs in, uploads
the file, polls the progress the page polls, commits), a gunicorn web server (one
process, four threads) and a Celery worker (solo pool: the task runs in the process
whose memory is read). Peak memory is each server's VmHWM from /proc. The baseline,
measured in the same run: the same file through `import_records` (the command line,
one process doing it all), its peak memory too.

It runs in its own scratch database (ndas_worker_bench, created and migrated here,
its patients emptied) and needs Redis: REDIS_URL (a database of its own, e.g.
redis://127.0.0.1:6379/8). Usage: bench/worker_import_bench.py [--rows 1000000]
"""

import argparse
import csv
import os
import re
import resource
import socket
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
BENCH_DATABASE = "ndas_worker_bench"
# Forced, not defaulted: this script empties the patients table.
os.environ["DATABASE_URL"] = f"postgres:///{BENCH_DATABASE}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ndas.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ["DEBUG"] = "False"

import django  # noqa: E402

django.setup()

import requests  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY  # noqa: E402
from django.contrib.auth import SESSION_KEY  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils.module_loading import import_string  # noqa: E402
from django_otp import DEVICE_ID_SESSION_KEY  # noqa: E402
from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: E402

from records.imports.models import ImportJob  # noqa: E402
from records.patients.models import Patient  # noqa: E402
from records.users.models import CareTeam, User  # noqa: E402
from records.users.roles import DATA_MANAGER  # noqa: E402

USERNAME = "bench-worker-importer"
TEAM = "Bench team"
HEADER = ["mrn", "given_name", "family_name", "date_of_birth", "sex", "guardian_name"]


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def peak_mb(pid: int) -> float:
    """The process's peak resident memory (VmHWM), in MB."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024


def gunicorn_worker(master: int) -> int:
    """The pid of the (one) web worker the gunicorn master forked."""
    for _ in range(100):
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.2)
    raise SystemExit("gunicorn started no worker")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def write_csv(path: Path, rows: int) -> None:
    born = date(2015, 1, 1)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for n in range(rows):
            writer.writerow(
                [
                    f"WB-{n:07d}",
                    "Talvi",
                    f"Quennard{n}",
                    (born + timedelta(days=n % 3000)).isoformat(),
                    "female" if n % 2 else "male",
                    f"Guardian {n}",
                ]
            )


def prepared() -> User:
    call_command("ensure_database", verbosity=0)
    call_command("migrate", verbosity=0)
    tables = (Patient._meta.db_table, Patient.history.model._meta.db_table)
    quoted = ", ".join(f'"{table}"' for table in tables)
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {quoted} CASCADE")
    ImportJob.objects.all().delete()
    user, _ = User.objects.get_or_create(username=USERNAME, defaults={"is_staff": True})
    user.groups.set([Group.objects.get(name=DATA_MANAGER)])
    user.set_unusable_password()
    user.save()
    if not CareTeam.objects.filter(name=TEAM).exists():
        CareTeam.objects.create(name=TEAM, group=Group.objects.create(name=TEAM))
    return User.objects.get(pk=user.pk)


def signed_in(user: User, base: str) -> requests.Session:
    """A browser session past both sign-in steps (made as django.contrib.auth and
    django_otp make it)."""
    device, _ = TOTPDevice.objects.get_or_create(
        user=user, name="Bench app", defaults={"confirmed": True}
    )
    store = import_string(f"{settings.SESSION_ENGINE}.SessionStore")()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store[DEVICE_ID_SESSION_KEY] = device.persistent_id
    store.create()
    browser = requests.Session()
    browser.cookies.set("sessionid", store.session_key)
    browser.headers["Referer"] = base + "/admin/"
    return browser


def csrf(browser: requests.Session, url: str) -> str:
    page = browser.get(url, timeout=60)
    page.raise_for_status()
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)


def followed(browser, base: str, job_id: int, wanted: str) -> tuple[float, int]:
    """Poll the progress JSON (as the page does, once a second) until the job
    ends; the seconds it took and how many polls."""
    started, polls = time.perf_counter(), 0
    url = f"{base}/admin/imports/importjob/{job_id}/progress/"
    while True:
        state = browser.get(url, timeout=60).json()
        polls += 1
        if state["done"]:
            break
        time.sleep(1)
    job = ImportJob.objects.get(pk=job_id)
    if job.status != wanted:
        raise SystemExit(f"import #{job_id} is {job.status}: {job.errors[:3]}")
    return time.perf_counter() - started, polls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--skip-baseline", action="store_true")
    args = parser.parse_args()
    if not os.environ.get("REDIS_URL"):
        raise SystemExit("Set REDIS_URL (a Redis database of this benchmark's own).")
    user = prepared()
    team = CareTeam.objects.get(name=TEAM)
    workdir = Path(tempfile.mkdtemp(prefix="ndas-worker-bench-"))
    path = workdir / "patients.csv"
    say(f"writing {args.rows:,} rows")
    write_csv(path, args.rows)
    size_mb = path.stat().st_size / 1024**2
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # The web server in development form (plain HTTP, the usual cookie names); the
    # worker as production runs it. Both read the same scratch database.
    env = {**os.environ, "ALLOWED_HOSTS": "127.0.0.1"}
    web = subprocess.Popen(
        [str(BASE_DIR / ".venv/bin/gunicorn"), "ndas.wsgi", "--workers=1"]
        + ["--threads=4", f"--bind=127.0.0.1:{port}", "--timeout=300"],
        cwd=BASE_DIR,
        env={**env, "DEBUG": "True"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "--app=ndas", "worker", "--pool=solo"]
        + ["--loglevel=WARNING", "--without-gossip", "--without-mingle"],
        cwd=BASE_DIR,
        env={**env, "NDAS_WORK": "worker"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(120):
            try:
                requests.get(base + "/admin/login/", timeout=30)
                break
            except requests.RequestException:  # still starting
                time.sleep(0.5)
        web_pid = gunicorn_worker(web.pid)
        browser = signed_in(user, base)
        upload_url = base + "/admin/imports/importjob/upload/"
        token = csrf(browser, upload_url)
        web_before, worker_before = peak_mb(web_pid), peak_mb(worker.pid)
        say(f"uploading {size_mb:,.0f} MB (web {web_before:,.0f} MB)")
        started = time.perf_counter()
        with path.open("rb") as handle:
            response = browser.post(
                upload_url,
                data={
                    "csrfmiddlewaretoken": token,
                    "entity": "patients",
                    "mode": "create_or_update",
                    "blank_keeps_value": "on",
                    "reason": "Benchmark",
                    "care_team": str(team.pk),
                },
                files={"file": ("patients.csv", handle, "text/csv")},
                allow_redirects=False,
                timeout=600,
            )
        upload_s = time.perf_counter() - started
        if response.status_code != 302:
            raise SystemExit(f"upload answered {response.status_code}")
        job_id = int(re.search(r"/importjob/(\d+)/", response.headers["Location"])[1])
        say(f"checking import #{job_id} in the worker")
        check_s, check_polls = followed(browser, base, job_id, "validated")
        report = f"{base}/admin/imports/importjob/{job_id}/report/"
        token = csrf(browser, report)
        say("committing in the worker")
        started = time.perf_counter()
        browser.post(
            f"{base}/admin/imports/importjob/{job_id}/commit/",
            data={"csrfmiddlewaretoken": token},
            allow_redirects=False,
            timeout=60,
        )
        commit_s, commit_polls = followed(browser, base, job_id, "committed")
        commit_s = time.perf_counter() - started
        web_after, worker_after = peak_mb(web_pid), peak_mb(worker.pid)
    finally:
        for process in (web, worker):
            process.terminate()
        for process in (web, worker):
            process.wait(timeout=60)
    patients = Patient.objects.count()
    if patients != args.rows:
        raise SystemExit(f"{patients:,} patients, not {args.rows:,}")

    baseline_s = baseline_mb = None
    if not args.skip_baseline:
        say("baseline: the same file through import_records")
        prepared()
        command = [sys.executable, "manage.py", "import_records", "patients", str(path)]
        command += ["--user", USERNAME, "--reason", "Benchmark", "--care-team", TEAM]
        command += ["--skip-checks"]  # the production checks want its settings
        started = time.perf_counter()
        cli = subprocess.run(
            ["/usr/bin/time", "-f", "%M", *command],
            cwd=BASE_DIR,
            env={**os.environ, "NDAS_WORK": "worker"},
            capture_output=True,
            text=True,
        )
        baseline_s = time.perf_counter() - started
        if cli.returncode != 0:
            raise SystemExit(f"import_records failed: {cli.stderr[-500:]}")
        baseline_mb = int(cli.stderr.strip().splitlines()[-1]) / 1024

    rows = args.rows
    total_s = upload_s + check_s + commit_s
    print(f"\n{rows:,} patients ({size_mb:,.0f} MB CSV) through the admin and a worker")
    print(f"  upload (web streams it to storage): {upload_s:7.1f} s")
    print(
        f"  check in the worker:                {check_s:7.1f} s "
        f"({rows / check_s:,.0f} rows/s, {check_polls} progress polls)"
    )
    print(
        f"  commit in the worker:               {commit_s:7.1f} s "
        f"({rows / commit_s:,.0f} rows/s, {commit_polls} progress polls)"
    )
    print(f"  in all:                             {total_s:7.1f} s")
    print("peak RSS (VmHWM)")
    print(
        f"  web process:    {web_before:6.0f} MB before the upload, "
        f"{web_after:6.0f} MB at the end ({web_after - web_before:+.0f} MB)"
    )
    print(
        f"  worker process: {worker_before:6.0f} MB idle, "
        f"{worker_after:6.0f} MB at the end ({worker_after - worker_before:+.0f} MB)"
    )
    script_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  this script:    {script_mb:6.0f} MB")
    if baseline_s is not None:
        print("baseline: import_records, one process (validate and commit in one go)")
        print(
            f"  {baseline_s:7.1f} s ({rows / baseline_s:,.0f} rows/s), "
            f"peak RSS {baseline_mb:,.0f} MB"
        )
        print(
            f"  worker path / command line: time {total_s / baseline_s:.2f}x "
            f"(it checks the file twice: preview, then commit), peak memory "
            f"{worker_after / baseline_mb:.2f}x"
        )


if __name__ == "__main__":
    main()
