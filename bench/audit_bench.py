"""What writing the audit chain costs, against plain inserts of the same events.

One run: N events through `audit_record` (advisory lock, head read, id drawn, hash,
INSERT, commit: one transaction each), against the baseline of N plain
`AuditEvent.objects.create` calls with a made-up hash (no lock, no read, no hash;
autocommit, so one commit each too). Then the same N events from several threads at
once (the gunicorn case: all writers queue on the one lock), and `verify_audit`'s
walk over what was written.

It runs in its own scratch database (ndas_bench_audit, created and migrated here)
and empties its audit table between steps, as the table's owner with the append-only
triggers switched off: the development data is never touched.
"""

import argparse
import io
import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
BENCH_DATABASE = "ndas_bench_audit"
# Forced, not defaulted: this script empties the audit table, so it never follows a
# DATABASE_URL that points at real data.
os.environ["DATABASE_URL"] = f"postgres:///{BENCH_DATABASE}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ndas.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")  # measure the work, not the terminal
# DEBUG keeps every SQL statement for the debug page; production runs without it.
os.environ.setdefault("DEBUG", "False")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from records.audit.models import Action, AuditEvent  # noqa: E402
from records.audit.services import audit_record  # noqa: E402
from records.audit.verify import audit_chain_verify  # noqa: E402

BENCH_LOCK = 73_190_423  # pg advisory lock key: one run of this script at a time
TARGET_EVENTS_S = 2_000  # the target, for one writer
WARM_UP = 200
TABLE = AuditEvent._meta.db_table

# A typical event: a clinician opening a chart inside a request.
EVENT = {
    "action": Action.VIEW,
    "actor_username": "bench-clinician",
    "ip": "192.0.2.10",
    "object_type": "patients.patient",
    "patient_id": 4242,
    "details": {"tab": "assessments", "count": 3},
}


def expect(condition: bool, message: str) -> None:
    """A wrong result makes the timings meaningless: stop (not an assert: -O)."""
    if not condition:
        raise SystemExit(f"audit_bench: {message}")


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def bench_database() -> int:
    """Create (if missing) and migrate the scratch database; hold the run's lock.

    Returns how many other sessions are connected to it: their work skews timings.
    """
    expect(
        connection.settings_dict["NAME"] == BENCH_DATABASE,
        f"refusing to run outside the {BENCH_DATABASE} database",
    )
    call_command("ensure_database", stdout=io.StringIO())
    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [BENCH_LOCK])
        if not cursor.fetchone()[0]:
            progress("another audit_bench run holds the database: waiting")
            cursor.execute("SELECT pg_advisory_lock(%s)", [BENCH_LOCK])
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def audit_empty() -> None:
    """As the owner: the triggers refuse a TRUNCATE of a table with rows in it."""
    expect(connection.settings_dict["NAME"] == BENCH_DATABASE, "wrong database")
    with connection.cursor() as cursor:
        cursor.execute(f'ALTER TABLE "{TABLE}" DISABLE TRIGGER USER')
        try:
            cursor.execute(f'TRUNCATE "{TABLE}" RESTART IDENTITY')
        finally:
            cursor.execute(f'ALTER TABLE "{TABLE}" ENABLE TRIGGER USER')


def plain_create(count: int, offset: int) -> float:
    """The baseline: the same rows, one autocommitted INSERT each."""
    started = time.perf_counter()
    for n in range(offset, offset + count):
        AuditEvent.objects.create(
            at=timezone.now(),
            object_id=str(n),
            summary=f"Opened chart {n}",
            prev_hash="",
            hash=f"{n:064x}",
            **EVENT,
        )
    return time.perf_counter() - started


def chained(count: int, offset: int = 0) -> float:
    started = time.perf_counter()
    for n in range(offset, offset + count):
        audit_record(object_id=n, summary=f"Opened chart {n}", **EVENT)
    return time.perf_counter() - started


def chained_threads(count: int, threads: int) -> float:
    """`count` events from `threads` writers at once, each on its own connection."""
    share = count // threads
    start = threading.Barrier(threads + 1)
    errors = []

    def write(worker: int) -> None:
        try:
            start.wait()
            chained(share, offset=worker * share)
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    workers = [threading.Thread(target=write, args=(w,)) for w in range(threads)]
    for worker in workers:
        worker.start()
    start.wait()
    started = time.perf_counter()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    expect(not errors, f"a writer failed: {errors[:1]}")
    return elapsed


def chain_check(count: int) -> float:
    started = time.perf_counter()
    report = audit_chain_verify()
    elapsed = time.perf_counter() - started
    expect(report.intact, f"the chain is broken: {report.broken}")
    expect(report.checked == count, f"verified {report.checked} of {count} events")
    return elapsed


def server_setting(name: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting(%s)", [name])
        return cursor.fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5_000, help="events per step")
    parser.add_argument(
        "--threads", type=int, default=4, help="concurrent writers in step 3"
    )
    args = parser.parse_args()
    events, threads = args.events, args.threads
    expect(events >= threads >= 1, "give --events >= --threads >= 1")
    events -= events % threads  # every writer writes the same share

    progress(f"database {BENCH_DATABASE}: migrating, emptying the audit table")
    load_start = os.getloadavg()[0]
    others = bench_database()
    audit_empty()
    plain_create(WARM_UP, offset=10**9)
    chained(WARM_UP)
    audit_empty()

    progress(f"1/4 baseline: {events:,} plain creates")
    plain_s = plain_create(events, offset=0)
    expect(AuditEvent.objects.count() == events, "baseline: wrong row count")
    audit_empty()

    progress(f"2/4 audit_record: {events:,} events, one writer")
    chained_s = chained(events)
    progress("    verifying the chain")
    verify_s = chain_check(events)
    audit_empty()

    progress(f"3/4 audit_record: {events:,} events, {threads} writers at once")
    threads_s = chained_threads(events, threads)
    progress("4/4 verifying the chain")
    chain_check(events)
    audit_empty()

    plain_rate = events / plain_s
    chained_rate = events / chained_s
    threads_rate = events / threads_s
    print(
        f"audit events: {events:,} per step, database {BENCH_DATABASE} "
        f"(synchronous_commit={server_setting('synchronous_commit')}, "
        f"fsync={server_setting('fsync')})"
    )
    print(
        f"load average (1 min) {load_start:.2f} at the start, "
        f"{os.getloadavg()[0]:.2f} at the end, on {os.cpu_count()} cores"
    )
    if others:
        print(f"warning: {others} other session(s) were using {BENCH_DATABASE}")
    print()
    print(f"{'step':<58}{'events/s':>10}{'us/event':>10}")
    for label, rate in (
        ("1. AuditEvent.objects.create, no lock or hash (baseline)", plain_rate),
        ("2. audit_record, one writer", chained_rate),
        (f"3. audit_record, {threads} writers at once (total)", threads_rate),
        ("   verify_audit's walk over step 2's events", events / verify_s),
    ):
        print(f"{label:<58}{rate:>10,.0f}{1e6 / rate:>10.0f}")
    print()
    print(f"ratio audit_record/baseline (one writer): {chained_rate / plain_rate:.2f}")
    print(
        f"target >= {TARGET_EVENTS_S:,} events/s (one writer): "
        f"{chained_rate:,.0f} events/s, {verdict(chained_rate >= TARGET_EVENTS_S)}"
    )


if __name__ == "__main__":
    main()
