"""Staff at work on gunicorn as deployed: a locust load benchmark, three phases.
(One script past 400 lines: the server, the sessions, the mix and the report are
one procedure, read top to bottom; the locust users are in load_users.py, what a
browser sends in load_browser.py.)

gunicorn is started here with gunicorn.conf.py and production's settings (DEBUG
off, Redis as cache, sessions in PostgreSQL, HTTPS as the reverse proxy reports
it: X-Forwarded-Proto from 127.0.0.1, which gunicorn.conf.py trusts), bound to a
free port on 127.0.0.1, over a bench database built by bench/scale_bench.py
(ndas_bench_scale_1000000 by default). Staff sessions are made here, server-side,
past both sign-in steps (one user per session: clinicians in the bench
clinician's care teams, data managers, auditors); each simulated person is given
its session's cookies and works through the admin's pages as a browser does: lists,
searches (posted, kept by token), charts (their summary, which the list's row
opens, and now and then the patient's own page), new visits and assessments saved
through the add forms, a small patient import (upload, report, commit) and a CSV
export, the audit trail. The think time is between clicks, within a task too (the
add form filled before Save, the import's report read before Commit); a redirect
the browser follows by itself is no click.

Small imports and exports run within the web request in production too (under
IMPORT_WORKER_MIN_ROWS lines and EXPORT_BACKGROUND_ROWS rows): this bench's are
that size, so no Celery worker is needed and none is started.

Phases, each measured after its users have started (its own stats):
  a. one person, no think time: the baseline p95;
  b. --users (50) people, --think 0.5-2 s between clicks; goal: 0 errors and p95
     at most 3 x the baseline's;
  c. --day-users (200) people, --day-think 5-15 s (a large clinic's day); goal:
     p95 under 300 ms.
Each phase prints requests/s, p50/p95, errors, the p95 of each kind of request,
and gunicorn's CPU time per request (its processes' CPU from /proc, before and
after) and PostgreSQL's (the backends serving this database).

    REDIS_URL=redis://127.0.0.1:6379/9 .venv/bin/python bench/load.py
    .venv/bin/python bench/load.py --database ndas_bench_scale_1000 --duration 30
"""

import argparse
import json
import math
import os
import random
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_DATABASE = "ndas_bench_scale_1000000"
DEFAULT_REDIS = "redis://127.0.0.1:6379/9"
GOAL_RATIO = 3.0
GOAL_DAY_MS = 300.0

CLINICIAN, MANAGER, AUDITOR = "clinician", "data manager", "auditor"
# Who the simulated staff are, in shares of them (a clinic's day: mostly clinicians).
ROLE_SHARES = {CLINICIAN: 90, MANAGER: 6, AUDITOR: 4}
# What each role does, by weight: one task may make several requests.
TASKS = {
    CLINICIAN: {
        "patient list": 8,
        "list page 2": 3,
        "search MRN": 3,
        "search name prefix": 3,
        "search date of birth": 2,
        # The list's row opens the chart's summary; the patient's own form (its
        # demographics and latest records) is one click further, wanted less.
        "open chart": 6,
        "chart details": 2,
        "assessments": 2,
        "visits": 2,
        "save visit": 1,
        "save assessment": 1,
    },
    MANAGER: {
        "imports": 3,
        "exports": 2,
        "patient list": 2,
        "import": 1,
        "export": 1,
    },
    AUDITOR: {
        "audit trail": 3,
        "audit trail, views": 2,
        "chart audit report": 1,
    },
}
BENCH_USERS = {
    CLINICIAN: "bench-clinician",
    MANAGER: "bench-manager",
    AUDITOR: "bench-auditor",
}
ROLE_GROUPS = {CLINICIAN: "Clinician", MANAGER: "Data manager", AUDITOR: "Auditor"}


@dataclass(frozen=True)
class Phase:
    key: str
    title: str
    users: int
    think: tuple[float, float]
    ramp_s: float


# --- the mix (pure: tests/bench/test_load.py) -----------------------------------------


def parse_range(text: str) -> tuple[float, float]:
    """'0.5,2' (or '0.5-2') as seconds (low, high), both within 0..600."""
    low, high = (float(part) for part in text.replace("-", ",").split(","))
    if not 0 <= low <= high <= 600:
        raise ValueError(f"a think time is low,high seconds within 0-600, not {text!r}")
    return low, high


def apportion(users: int, shares: dict[str, int] = ROLE_SHARES) -> dict[str, int]:
    """How many of `users` people have each role: the shares by largest remainder,
    at least one of each role when there are as many people as roles."""
    total = sum(shares.values())
    exact = {role: users * share / total for role, share in shares.items()}
    counts = {role: math.floor(value) for role, value in exact.items()}
    by_remainder = sorted(shares, key=lambda role: exact[role] - counts[role])
    while sum(counts.values()) < users:
        counts[by_remainder.pop()] += 1
    if users >= len(shares):
        for role in shares:
            while counts[role] == 0:
                richest = max(counts, key=counts.get)
                counts[richest] -= 1
                counts[role] += 1
    return counts


def task_table(roles) -> list[tuple[str, str, float]]:
    """(role, task, weight) of everything a person of these roles does. One role:
    its tasks' weights. Several (the single person of phase a, who does the whole
    clinic's mix): each role's tasks in proportion to that role's share of staff,
    so that the baseline's requests are the same kinds, in about the same
    proportions, as the crowd's."""
    roles = list(roles)
    table = []
    for role in roles:
        share = ROLE_SHARES[role] if len(roles) > 1 else 1
        total = sum(TASKS[role].values())
        table += [
            (role, name, share * weight / total) for name, weight in TASKS[role].items()
        ]
    return table


def pick(table, rng: random.Random) -> tuple[str, str]:
    """A (role, task) drawn by weight."""
    role, name, _ = rng.choices(table, weights=[w for *_, w in table])[0]
    return role, name


# --- the server's CPU, from /proc -----------------------------------------------------


TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()  # fields from the state (3rd) on


def process_cpu(pid: int) -> float:
    """CPU seconds one process has used (user and system)."""
    fields = _stat(pid)
    return (int(fields[11]) + int(fields[12])) / TICK if fields else 0.0


def gunicorn_cpu(master: int) -> float:
    """CPU seconds of gunicorn: the master, its live workers, and the workers it
    has reaped (recycled after max_requests: the master's cutime and cstime)."""
    fields = _stat(master)
    total = sum(int(v) for v in fields[11:15]) if fields else 0
    try:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    except OSError:
        children = []
    for child in children:
        fields = _stat(int(child))
        if fields:
            total += int(fields[11]) + int(fields[12])
    return total / TICK


def database_cpu(database: str) -> dict[int, float]:
    """CPU seconds of each PostgreSQL backend connected to `database` (by its
    process title, `postgres: <user> <database> <host>`)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        words = title.replace("\0", " ").split()
        if words[:1] != ["postgres:"]:
            continue
        if len(words) > 1 and words[1].endswith(":"):  # the cluster's name
            del words[1]
        if len(words) > 2 and words[2] == database:
            fields = _stat(int(entry.name))
            if fields:
                found[int(entry.name)] = (int(fields[11]) + int(fields[12])) / TICK
    return found


def database_cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds the backends used between two readings (a backend that ended
    in between is not counted: gunicorn's workers keep theirs open)."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


# --- users, sessions, charts (Django) -------------------------------------------------


def staff_users(counts: dict[str, int]) -> dict[str, list]:
    """`counts[role]` users of each role: the bench's own (bench-clinician, ...)
    first, then bench-clinician-2, ... made as scale_bench makes its users, the
    clinicians joining bench-clinician's care teams."""
    from django.contrib.auth.models import Group
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from records.users.models import User

    first = {
        role: User.objects.get(username=name) for role, name in BENCH_USERS.items()
    }
    teams = list(first[CLINICIAN].groups.exclude(name__in=ROLE_GROUPS.values()))
    made: dict[str, list] = {}
    for role, count in counts.items():
        users = [first[role]]
        for n in range(2, count + 1):
            user, created = User.objects.get_or_create(
                username=f"{BENCH_USERS[role]}-{n}",
                defaults={
                    "is_staff": True,
                    "first_name": "Bench",
                    "last_name": f"{role} {n}",
                },
            )
            if created:
                user.set_unusable_password()
                user.save()
                user.groups.add(Group.objects.get(name=ROLE_GROUPS[role]))
                if role == CLINICIAN:
                    user.groups.add(*teams)
            users.append(user)
        for user in users:
            TOTPDevice.objects.get_or_create(
                user=user, name="Bench app", defaults={"confirmed": True}
            )
        made[role] = users[:count]
    return made


def signed_in_session(user) -> dict[str, str]:
    """A session past both sign-in steps, as django.contrib.auth and django_otp
    make it, and a CSRF secret: the cookies a signed-in browser holds."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.middleware.csrf import _get_new_csrf_string
    from django.utils.module_loading import import_string
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.get(user=user, name="Bench app")
    store = import_string(f"{settings.SESSION_ENGINE}.SessionStore")()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store[DEVICE_ID_SESSION_KEY] = device.persistent_id
    store.create()
    return {
        settings.SESSION_COOKIE_NAME: store.session_key,
        settings.CSRF_COOKIE_NAME: _get_new_csrf_string(),
    }


# What each run writes over and over and deletes: its sessions (each updated as
# its person clicks, then deleted), the data managers' import and export jobs.
CHURNED = ("django_session", "imports_importjob", "imports_exportjob")


def vacuum_churned() -> list[str]:
    """VACUUM (ANALYZE) the tables runs churn, as autovacuum keeps them in
    production. Where autovacuum is off (this development machine's PostgreSQL
    has it off), a dozen runs left django_session with 14,640 dead rows for 12
    live ones, and PostgreSQL's CPU per request went from 0.8 ms to 4.4."""
    from django.db import connection

    with connection.cursor() as cursor:
        for table in CHURNED:
            cursor.execute(f"VACUUM (ANALYZE) {connection.ops.quote_name(table)}")
    return list(CHURNED)


def sample_charts(count: int = 200, seed: int = 15) -> list[dict]:
    """Charts the clinicians may open (through patients_visible_to), drawn at
    random over the whole table: id, MRN, family name, date of birth."""
    from django.db.models import Max

    from records.patients.models import Patient
    from records.patients.repositories import patients_visible_to
    from records.users.models import User

    clinician = User.objects.get(username=BENCH_USERS[CLINICIAN])
    top = Patient.objects.aggregate(top=Max("pk"))["top"] or 0
    rng = random.Random(seed)
    ids = rng.sample(range(1, top + 1), min(top, count * 2))
    rows = patients_visible_to(clinician).filter(pk__in=ids)
    charts = [
        {
            "pk": row.pk,
            "mrn": row.mrn,
            "family_name": row.family_name,
            "date_of_birth": f"{row.date_of_birth:%d/%m/%Y}",
        }
        for row in rows.only("pk", "mrn", "family_name", "date_of_birth")[:count]
    ]
    taken = days_taken(clinician, [chart["pk"] for chart in charts])
    for chart in charts:
        chart["taken"] = taken[chart["pk"]]
    return charts


def days_taken(clinician, chart_ids) -> dict[int, list[str]]:
    """The days (ISO) that already hold a visit or an assessment on each chart
    (earlier runs saved some): a save picks another, or its form refuses it,
    rightly, as a second record of the day."""
    from records.clinical_records.repositories import clinical_records_visible_to
    from records.patients.repositories import assessments_visible_to

    taken = {pk: set() for pk in chart_ids}
    for records, day in (
        (clinical_records_visible_to(clinician), "visit_date"),
        (assessments_visible_to(clinician), "performed_on"),
    ):
        for pk, on in records.filter(patient_id__in=list(taken)).values_list(
            "patient_id", day
        ):
            taken[pk].add(on.isoformat())
    return {pk: sorted(days) for pk, days in taken.items()}


def urls() -> dict[str, str]:
    """The admin's addresses the tasks open ({pk}: a chart's id)."""
    from django.urls import reverse

    return {
        "patients": reverse("admin:patients_patient_changelist"),
        "chart": reverse("admin:patients_patient_change", args=[0]).replace(
            "/0/", "/{pk}/"
        ),
        "summary": reverse("admin:patients_patient_summary", args=[0]).replace(
            "/0/", "/{pk}/"
        ),
        "assessments": reverse("admin:patients_assessment_changelist"),
        "assessment_add": reverse("admin:patients_assessment_add"),
        "visits": reverse("admin:clinical_records_clinicalrecord_changelist"),
        "visit_add": reverse("admin:clinical_records_clinicalrecord_add"),
        "imports": reverse("admin:imports_importjob_changelist"),
        "import_upload": reverse("admin:imports_importjob_upload"),
        "exports": reverse("admin:imports_exportjob_changelist"),
        "patient_export": reverse("admin:patients_patient_export"),
        "audit": reverse("admin:audit_auditevent_changelist"),
        "audit_report": reverse(
            "admin:audit_auditevent_patient_report", args=[0]
        ).replace("/0/", "/{pk}/"),
        "login": reverse("admin:login"),
    }


# --- the run --------------------------------------------------------------------------


def say(message: str) -> None:
    print(f"  .. {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def environment(args) -> dict[str, str]:
    """Production's settings for this machine: DEBUG off, Redis, HTTPS cookies."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ndas.settings",
        "DATABASE_URL": f"postgres:///{args.database}",
        "REDIS_URL": args.redis,
        "DEBUG": "False",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "NDAS_ENVIRONMENT": "bench",
        "NDAS_WORK": "web",
    }


def start_gunicorn(env: dict, port: int, workers: int | None, log: Path):
    server_env = {**env, "GUNICORN_BIND": f"127.0.0.1:{port}", "LOG_LEVEL": "INFO"}
    if workers:
        server_env["GUNICORN_WORKERS"] = str(workers)
    with log.open("wb") as out:
        server = subprocess.Popen(
            [str(ROOT / ".venv/bin/gunicorn"), "-c", "gunicorn.conf.py", "ndas.wsgi"],
            cwd=ROOT,
            env=server_env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    import urllib.request

    for _ in range(240):
        if server.poll() is not None:
            raise SystemExit(f"gunicorn ended at start: see {log}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5):
                return server
        except OSError:
            time.sleep(0.5)
    server.terminate()
    raise SystemExit(f"gunicorn did not answer /healthz: see {log}")


def run_phase(phase: Phase, spec: dict, duration: float, env, server, database):
    """One phase in a locust process of its own (load_users.py); the server's and
    the database's CPU read when its measurement starts and ends."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump({**spec, "phase": phase.__dict__, "duration": duration}, handle)
    cpu = {}
    result = None
    try:  # the spec holds session keys: removed whatever happens
        child = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "load_users.py"), handle.name],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for line in child.stdout:
            line = line.strip()
            if line in ("MEASURING", "DONE"):
                cpu[line] = (
                    gunicorn_cpu(server.pid),
                    database_cpu(database),
                    time.time(),
                    process_cpu(child.pid),
                )
            elif line.startswith("{"):
                result = json.loads(line)
        child.wait()
    finally:
        os.unlink(handle.name)
    if child.returncode or result is None:
        raise SystemExit(f"phase {phase.key}: the locust process failed")
    (web0, db0, t0, locust0), (web1, db1, t1, locust1) = cpu["MEASURING"], cpu["DONE"]
    result["web_cpu_s"] = web1 - web0
    result["locust_cpu_s"] = locust1 - locust0
    result["db_cpu_s"] = database_cpu_used(db0, db1)
    result["wall_s"] = t1 - t0
    return result


def phases(args) -> list[Phase]:
    chosen = [key.strip() for key in args.phases.split(",")]
    known = {
        "a": Phase("a", "one person, no think time", 1, (0.0, 0.0), 15.0),
        "b": Phase(
            "b",
            f"{args.users} people, {args.think[0]:g}-{args.think[1]:g} s think",
            args.users,
            args.think,
            5.0 + args.users / 10,
        ),
        "c": Phase(
            "c",
            f"{args.day_users} people, "
            f"{args.day_think[0]:g}-{args.day_think[1]:g} s think",
            args.day_users,
            args.day_think,
            args.day_think[1] + args.day_users / 20,
        ),
    }
    unknown = set(chosen) - set(known)
    if unknown:
        raise SystemExit(f"--phases takes a, b and c, not {', '.join(sorted(unknown))}")
    return [known[key] for key in chosen]


def percentile(times: dict, count: int, percent: float) -> int:
    """locust's percentile of a response-time histogram ({ms: requests}, as
    locust.stats.calculate_response_time_percentile reads it): from the slowest
    down, the first time at which at most `percent` of the requests remain.
    locust itself is not imported here: it patches the standard library for
    gevent as it is imported."""
    within = int(count * percent)
    seen = 0
    for ms in sorted(times, key=float, reverse=True):
        seen += times[ms]
        if count - seen <= within:
            return int(float(ms))
    return 0


def _pooled(histograms) -> dict:
    """Response-time histograms added up, with their p50 and p95 read again."""
    times: dict[int, int] = {}
    for histogram in histograms:
        for ms, n in histogram.items():
            times[int(float(ms))] = times.get(int(float(ms)), 0) + n
    count = sum(times.values())
    return {
        "times": times,
        "p50": percentile(times, count, 0.5),
        "p95": percentile(times, count, 0.95),
    }


def merged(rounds: list[dict]) -> dict:
    """One phase measured in several windows, as if in one: requests, failures,
    CPU and time added up, response times pooled and their percentiles read
    again, per request name too."""
    if len(rounds) == 1:
        return rounds[0]
    added = ("requests", "failures", "web_cpu_s", "db_cpu_s", "locust_cpu_s", "wall_s")
    result = {key: sum(r[key] for r in rounds) for key in added}
    result.update(_pooled(r["times"] for r in rounds))
    result["by_name"] = {}
    for name in {name for r in rounds for name in r["by_name"]}:
        entries = [r["by_name"][name] for r in rounds if name in r["by_name"]]
        result["by_name"][name] = {
            "count": sum(e["count"] for e in entries),
            "failures": sum(e["failures"] for e in entries),
            **_pooled(e["times"] for e in entries),
        }
    errors: dict[str, int] = {}
    for r in rounds:
        for message, n in r["errors"]:
            errors[message] = errors.get(message, 0) + n
    result["errors"] = sorted(errors.items(), key=lambda pair: -pair[1])
    return result


def schedule(chosen: list[Phase], duration: float, rounds: int):
    """(phase, seconds measured, "round k/n" or "") in the order they run: the
    single person and the fifty in turn, `rounds` times, each measured for its
    share of `duration`, so that a minute when the machine runs slower falls on
    both and not on one; the large clinic's day once, after them."""
    paired = [p for p in chosen if p.key in ("a", "b")]
    if rounds > 1 and paired:
        for n in range(rounds):
            for phase in paired:
                yield phase, duration / rounds, f" (round {n + 1} of {rounds})"
    else:
        for phase in paired:
            yield phase, duration, ""
    for phase in chosen:
        if phase.key not in ("a", "b"):
            yield phase, duration, ""


def report(results: dict[str, dict]) -> None:
    print(
        "\nLoad on gunicorn (gunicorn.conf.py, DEBUG off, Redis), times in ms; CPU "
        "per request in ms: gunicorn's, PostgreSQL's, locust's own (it shares the "
        "machine)"
    )
    print(
        f"{'phase':36} {'requests':>8} {'req/s':>7} {'p50':>6} {'p95':>6} "
        f"{'errors':>6} {'web CPU/req':>11} {'db CPU/req':>10} {'locust':>6}"
    )
    for key, r in results.items():
        n = max(r["requests"], 1)
        print(
            f"{key}. {r['title']:33} {r['requests']:8} "
            f"{r['requests'] / r['wall_s']:7.1f} "
            f"{r['p50']:6.0f} {r['p95']:6.0f} {r['failures']:6} "
            f"{1000 * r['web_cpu_s'] / n:11.1f} {1000 * r['db_cpu_s'] / n:10.1f} "
            f"{1000 * r['locust_cpu_s'] / n:6.1f}"
        )
    names = sorted({name for r in results.values() for name in r["by_name"]})
    print("\np95 by request (ms; count in brackets)")
    print(f"{'request':44}" + "".join(f" {key:>13}" for key in results))
    for name in names:
        cells = ""
        for r in results.values():
            entry = r["by_name"].get(name)
            cells += (
                f" {entry['p95']:7.0f} ({entry['count']:>3})"
                if entry
                else f" {'-':>13}"
            )
        print(f"{name:44}{cells}")
    for r in results.values():
        for message, count in r["errors"][:10]:
            print(f"error ({count} x): {message}")
    print()
    if "a" in results and "b" in results:
        ratio = results["b"]["p95"] / max(results["a"]["p95"], 1)
        met = ratio <= GOAL_RATIO and results["b"]["failures"] == 0
        print(
            f"b / a p95: {ratio:.2f} x (goal <= {GOAL_RATIO:.0f} x, 0 errors): "
            f"{'met' if met else 'NOT MET'}"
        )
    if "c" in results:
        p95 = results["c"]["p95"]
        met = p95 < GOAL_DAY_MS and results["c"]["failures"] == 0
        print(
            f"c p95: {p95:.0f} ms (goal < {GOAL_DAY_MS:.0f} ms, 0 errors): "
            f"{'met' if met else 'NOT MET'}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    add("--database", default=DEFAULT_DATABASE, help="a scale_bench.py database")
    add("--duration", type=float, default=120, help="seconds each phase is measured")
    add("--users", type=int, default=50, help="people in phase b")
    add("--think", type=parse_range, default=(0.5, 2.0), help="b's LOW,HIGH s")
    add("--day-users", type=int, default=200, help="people in phase c")
    add("--day-think", type=parse_range, default=(5.0, 15.0), help="c's LOW,HIGH s")
    add("--phases", default="a,b,c", help="which of a, b and c to run")
    add(
        "--rounds",
        type=int,
        default=3,
        help="a and b measured in turn this many times, their windows pooled "
        "(the machine's speed drifts between minutes)",
    )
    add("--workers", type=int, help="gunicorn workers (gunicorn.conf.py's default)")
    add("--redis", default=os.environ.get("REDIS_URL") or DEFAULT_REDIS)
    args = parser.parse_args()
    if not 1 <= args.duration <= 1800 or not (
        1 <= args.users <= 1000 and 1 <= args.day_users <= 1000
    ):
        raise SystemExit("--duration is 1-1800 s, --users and --day-users 1-1000")
    if not 1 <= args.rounds <= 20:
        raise SystemExit("--rounds is 1-20")
    chosen = phases(args)

    env = environment(args)
    os.environ.update(env)
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ["NDAS_WORK"] = "command"
    import django

    django.setup()
    import redis
    from django.contrib.sessions.models import Session
    from django.core.management import call_command

    try:
        redis.Redis.from_url(args.redis).ping()
    except redis.RedisError as error:
        raise SystemExit(f"Redis at {args.redis} does not answer: {error}")
    if not (ROOT / "staticfiles" / "staticfiles.json").exists():
        call_command("collectstatic", interactive=False, verbosity=0)

    counts = {role: 1 for role in ROLE_SHARES}
    for phase in chosen:
        for role, count in apportion(phase.users).items():
            counts[role] = max(counts[role], count)
    say(f"users and sessions: {counts}")
    staff = staff_users(counts)
    sessions = {
        role: [signed_in_session(user) for user in users]
        for role, users in staff.items()
    }
    vacuum_churned()
    charts = sample_charts()
    if not charts:
        raise SystemExit(f"{args.database} has no chart the bench clinician may open")

    port = free_port()
    log = Path(tempfile.gettempdir()) / f"ndas-load-{port}.log"
    say(f"gunicorn on 127.0.0.1:{port} (log: {log})")
    server = start_gunicorn(env, port, args.workers, log)
    spec = {
        "host": f"http://127.0.0.1:{port}",
        "urls": urls(),
        "charts": charts,
        "sessions": sessions,
        "cookie_names": [name for name in sessions[CLINICIAN][0]],
    }
    results = {}
    load_before = os.getloadavg()[0]
    try:
        for phase, window, turn in schedule(chosen, args.duration, args.rounds):
            say(f"phase {phase.key}{turn}: {phase.title}, {window:.0f} s")
            results.setdefault(phase.key, []).append(
                run_phase(phase, spec, window, env, server, args.database)
            )
        titles = {phase.key: phase.title for phase in chosen}
        results = {
            key: {**merged(rounds), "title": titles[key]}
            for key, rounds in results.items()
        }
    finally:
        server.terminate()
        server.wait(timeout=60)
        keys = [s[spec["cookie_names"][0]] for role in sessions.values() for s in role]
        Session.objects.filter(session_key__in=keys).delete()
    print(
        f"\n{args.database}, gunicorn workers: "
        f"{args.workers or 'gunicorn.conf.py default'}; a and b measured in turn, "
        f"{args.rounds} windows each; load average (1 min) {load_before:.1f} at the "
        "start, "
        f"{os.getloadavg()[0]:.1f} at the end"
    )
    report(results)
    if any(r["failures"] for r in results.values()):
        print(f"gunicorn's log (each request, errors): {log}")
    else:
        log.unlink()


if __name__ == "__main__":
    main()
