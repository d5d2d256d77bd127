"""What the auditor's reads cost on a year of audit events, with and without indexes.

One run, in its own scratch database (ndas_bench_audit_scale, created and migrated
here): 1,000,000 audit events over 365 days (20,000 patients, 200 actors, a mix of
actions) and 100,000 rows of patient history, generated inside PostgreSQL with
generate_series. The hash chain is not built (a read benchmark does not need it):
prev_hash and hash are unique made-up hex strings. Generation is skipped when the
rows are already there; --rebuild forces it.

Timed, as the median of several runs after one warm-up, fetching every row:
  1. `reports.patient_events` for one patient over the last 90 days;
  2. the admin list's filter: one action, one actor_username, 30 days, by -id, 100;
  3. one patient's history rows (patients_historicalpatient) by history_date;
and, as the baseline, queries 1 and 2 in raw SQL against `audit_copy`, an unindexed
copy of the audit table.
"""

import argparse
import io
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
BENCH_DATABASE = "ndas_bench_audit_scale"
# Forced, not defaulted: this script empties tables, so it never follows a
# DATABASE_URL that points at real data.
os.environ["DATABASE_URL"] = f"postgres:///{BENCH_DATABASE}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ndas.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("DEBUG", "False")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from records import reports  # noqa: E402
from records.audit.models import AuditEvent  # noqa: E402
from records.reports import Period  # noqa: E402
from records.patients.models import Patient  # noqa: E402

EVENTS = 1_000_000
PATIENTS = 20_000
ACTORS = 200
HISTORY_ROWS = 100_000
DAYS = 365
RUNS = 5
TARGET_MS = 200.0
TABLE = AuditEvent._meta.db_table
HISTORY_TABLE = Patient.history.model._meta.db_table
COPY_TABLE = "audit_copy"

PATIENT_ID = 4242
ACTOR = "user042"
ACTION = "view"

# Out of 20: 12 views, 3 updates, 1 each of create, download, export, login, amend.
ACTION_CASE = """
    CASE abs(mod(hashint4(-i), 20))
        WHEN 12 THEN 'update' WHEN 13 THEN 'update' WHEN 14 THEN 'update'
        WHEN 15 THEN 'create' WHEN 16 THEN 'download' WHEN 17 THEN 'export'
        WHEN 18 THEN 'login' WHEN 19 THEN 'amend' ELSE 'view'
    END
"""

# Event i happens at (i / EVENTS) of the way through the 365 days before %(end)s.
# hashint4/hashint8 spread patients, actors and actions independently of time.
AUDIT_INSERT = f"""
INSERT INTO "{TABLE}" (
    at, actor_id, actor_username, ip, request_id, action, object_type, object_id,
    patient_id, summary, details, prev_hash, hash
)
SELECT
    %(end)s - interval '{DAYS} days' * ((%(n)s - i)::float8 / %(n)s),
    NULL,
    'user' || lpad((abs(mod(hashint4(i), {ACTORS})) + 1)::text, 3, '0'),
    '192.0.2.10'::inet,
    md5(i::text),
    {ACTION_CASE},
    'patients.patient',
    (abs(mod(hashint8(i), {PATIENTS})) + 1)::text,
    abs(mod(hashint8(i), {PATIENTS})) + 1,
    'Bench event ' || i,
    '{{}}'::jsonb,
    md5((i - 1)::text) || md5(i::text),
    md5(i::text) || md5((i + 1)::text)
FROM generate_series(1, %(n)s) AS i
"""

# Five versions of each patient: created, then changed four times, spread over
# the same 365 days.
HISTORY_INSERT = f"""
INSERT INTO "{HISTORY_TABLE}" (
    id, created_at, updated_at, version, mrn, given_name, family_name,
    preferred_name, date_of_birth, sex, guardian_name, guardian_relationship,
    guardian_phone, guardian_email, address_line1, address_line2, city, postcode,
    status, history_date, history_change_reason, history_type, created_by_id,
    history_user_id
)
SELECT
    p, %(end)s - interval '{DAYS} days', at, v, 'BENCH-' || p,
    'Given' || p, 'Family' || p, '', date '2020-01-01' + mod(p, 1500), 'unknown',
    '', '', '', '', '', '', '', '', 'active', at, NULL,
    CASE WHEN v = 1 THEN '+' ELSE '~' END, NULL, NULL
FROM (
    SELECT
        mod(i - 1, {PATIENTS}) + 1 AS p,
        (i - 1) / {PATIENTS} + 1 AS v,
        %(end)s - interval '{DAYS} days' * ((%(n)s - i)::float8 / %(n)s) AS at
    FROM generate_series(1, %(n)s) AS i
) AS versions
"""


def expect(condition: bool, message: str) -> None:
    """A wrong result makes the timings meaningless: stop (not an assert: -O)."""
    if not condition:
        raise SystemExit(f"audit_scale_bench: {message}")


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def scalar(sql: str, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def bench_database() -> None:
    expect(
        connection.settings_dict["NAME"] == BENCH_DATABASE,
        f"refusing to run outside the {BENCH_DATABASE} database",
    )
    call_command("ensure_database", stdout=io.StringIO())
    call_command("migrate", verbosity=0)


def generate(rebuild: bool) -> bool:
    """Fill the tables unless they already hold the rows; True if it generated."""
    expect(connection.settings_dict["NAME"] == BENCH_DATABASE, "wrong database")
    have = (
        scalar(f'SELECT count(*) FROM "{TABLE}"') == EVENTS
        and scalar(f'SELECT count(*) FROM "{HISTORY_TABLE}"') == HISTORY_ROWS
        and scalar("SELECT to_regclass(%s) IS NOT NULL", [COPY_TABLE])
    )
    if have and not rebuild:
        return False
    end = timezone.now().replace(microsecond=0)
    with transaction.atomic(), connection.cursor() as cursor:
        # As the owner: the append-only triggers refuse a TRUNCATE of rows.
        cursor.execute(f'ALTER TABLE "{TABLE}" DISABLE TRIGGER USER')
        cursor.execute(f'TRUNCATE "{TABLE}" RESTART IDENTITY')
        cursor.execute(f'ALTER TABLE "{TABLE}" ENABLE TRIGGER USER')
        cursor.execute(f'TRUNCATE "{HISTORY_TABLE}" RESTART IDENTITY')
        cursor.execute(f'DROP TABLE IF EXISTS "{COPY_TABLE}"')
        progress(f"generating {EVENTS:,} audit events")
        cursor.execute(AUDIT_INSERT, {"end": end, "n": EVENTS})
        progress(f"generating {HISTORY_ROWS:,} patient history rows")
        cursor.execute(HISTORY_INSERT, {"end": end, "n": HISTORY_ROWS})
        progress(f"copying the audit table to {COPY_TABLE} (no indexes)")
        cursor.execute(f'CREATE TABLE "{COPY_TABLE}" AS SELECT * FROM "{TABLE}"')
    progress("ANALYZE")
    with connection.cursor() as cursor:
        for table in (TABLE, HISTORY_TABLE, COPY_TABLE):
            cursor.execute(f'ANALYZE "{table}"')
    expect(AuditEvent.objects.count() == EVENTS, "wrong audit event count")
    return True


def median_ms(fetch) -> tuple[float, int]:
    """Median milliseconds of RUNS fetches after one warm-up, and the rows fetched."""
    rows = len(fetch())
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        result = fetch()
        times.append((time.perf_counter() - started) * 1000)
        expect(len(result) == rows, "a query returned a different row count")
    return statistics.median(times), rows


def raw(sql: str, params: list):
    def fetch() -> list:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    return fetch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rebuild", action="store_true", help="regenerate the data even if present"
    )
    args = parser.parse_args()

    progress(f"database {BENCH_DATABASE}: migrating")
    bench_database()
    generated = generate(args.rebuild)
    if not generated:
        progress("data already present: skipping generation (--rebuild forces it)")

    last_at = AuditEvent.objects.order_by("-at").values_list("at", flat=True)[0]
    last_day = timezone.localtime(last_at).date()
    period90 = Period.of_days(last_day - timedelta(days=89), last_day)
    period30 = Period.of_days(last_day - timedelta(days=29), last_day)

    def patient_report() -> list:
        return list(reports.patient_events(patient_id=PATIENT_ID, period=period90))

    def admin_list() -> list:
        return list(
            AuditEvent.objects.filter(
                action=ACTION,
                actor_username=ACTOR,
                at__gte=period30.start,
                at__lt=period30.end,
            ).order_by("-id")[:100]
        )

    def patient_history() -> list:
        return list(Patient.history.filter(id=PATIENT_ID).order_by("history_date"))

    baseline_report = raw(
        f'SELECT * FROM "{COPY_TABLE}" WHERE patient_id = %s '
        "AND at >= %s AND at < %s ORDER BY at, id",
        [PATIENT_ID, period90.start, period90.end],
    )
    baseline_list = raw(
        f'SELECT * FROM "{COPY_TABLE}" WHERE action = %s AND actor_username = %s '
        "AND at >= %s AND at < %s ORDER BY id DESC LIMIT 100",
        [ACTION, ACTOR, period30.start, period30.end],
    )

    progress(f"timing: median of {RUNS} runs after one warm-up")
    report_ms, report_rows = median_ms(patient_report)
    list_ms, list_rows = median_ms(admin_list)
    history_ms, history_rows = median_ms(patient_history)
    base_report_ms, base_report_rows = median_ms(baseline_report)
    base_list_ms, base_list_rows = median_ms(baseline_list)
    expect(report_rows > 0, f"patient {PATIENT_ID} has no events in the period")
    expect(list_rows > 0, f"{ACTOR} has no {ACTION} events in the period")
    expect(history_rows > 0, f"patient {PATIENT_ID} has no history")
    expect(base_report_rows == report_rows, "baseline 1 returned other rows")
    expect(base_list_rows == list_rows, "baseline 2 returned other rows")

    print(
        f"database {BENCH_DATABASE}: {AuditEvent.objects.count():,} audit events "
        f"over {DAYS} days, {HISTORY_ROWS:,} patient history rows "
        f"({'generated in this run' if generated else 'generated earlier'})"
    )
    print(
        f"periods end {last_day}; patient {PATIENT_ID}, actor {ACTOR}, "
        f"action {ACTION}; median of {RUNS} runs after one warm-up"
    )
    print()
    print(f"{'query':<62}{'rows':>6}{'ms':>10}")
    for label, rows, ms in (
        ("1. reports.patient_events, 90 days (indexed)", report_rows, report_ms),
        (
            "2. admin list: action+actor, 30 days, -id, 100 (indexed)",
            list_rows,
            list_ms,
        ),
        ("3. patient history by history_date (indexed)", history_rows, history_ms),
        (
            "4a. baseline of 1: raw SQL on unindexed audit_copy",
            report_rows,
            base_report_ms,
        ),
        ("4b. baseline of 2: raw SQL on unindexed audit_copy", list_rows, base_list_ms),
    ):
        print(f"{label:<62}{rows:>6}{ms:>10.2f}")
    print()
    print(f"ratio baseline/indexed, query 1: {base_report_ms / report_ms:.1f}")
    print(f"ratio baseline/indexed, query 2: {base_list_ms / list_ms:.1f}")
    print(
        f"target < {TARGET_MS:.0f} ms, query 1: {report_ms:.2f} ms, "
        f"{verdict(report_ms < TARGET_MS)}"
    )
    print(
        f"target < {TARGET_MS:.0f} ms, query 2: {list_ms:.2f} ms, "
        f"{verdict(list_ms < TARGET_MS)}"
    )


if __name__ == "__main__":
    main()
