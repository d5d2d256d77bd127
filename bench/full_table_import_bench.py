"""A patient import into a table that already holds a million charts.

The issue's case: a 333,333-row file of new patients into a patients table of
1,000,000 (with their history), committed with validation and history, at
>= 25,000 rows/s, memory flat. In its own database (ndas_bench_full), filled once
inside PostgreSQL (generate_series: a minute or two) and reused; each run removes
what the last one imported. The baseline, measured in the same run: raw COPY of the
same file into a table shaped and indexed like patients that holds the same million
rows (what storing the rows there costs, with no validation and no history).
Then the export of the whole table as CSV (>= 100,000 rows/s), against
PostgreSQL's own COPY TO of it.
"""

import argparse
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ["BENCH_DATABASE"] = "ndas_bench_full"
os.environ["NDAS_WORK"] = "command"  # the long statement ceiling, as an import runs

from import_bench import (  # noqa: E402
    HEADER,
    csv_bytes,
    data_manager,
    expect,
    export,
    ndas_import,
    patient_rows,
    progress,
)
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from records.imports.engine.runtime import process_tweaks_allow  # noqa: E402
from records.patients.models import Patient  # noqa: E402

TARGET_ROWS_S = 25_000
TARGET_EXPORT_ROWS_S = 100_000

FILL_SQL = """
INSERT INTO patients_patient (
    created_at, updated_at, version, mrn, given_name, family_name, preferred_name,
    date_of_birth, sex, guardian_name, guardian_relationship, guardian_phone,
    guardian_email, address_line1, address_line2, city, postcode, status{extra})
SELECT now(), now(), 1, 'FULL-' || lpad(n::text, 8, '0'),
       (ARRAY['Talvi','Orla','Noor','Ines','Mateo','Kofi','Aarav','Amara'])[1 + n %% 8],
       (ARRAY['Quennard','Ardett','Morrow','Okafor','Lindqvist','Haddad','Nakamura',
              'Pereira','Fenwick','Abara','Thorne'])[1 + (n / 8) %% 11]
         || (n %% 997)::text,
       '', date '2012-01-01' + n %% 5000, 'female', '', '', '', '', '', '', '', '',
       'active'{extra_values}
FROM generate_series(1, %(n)s) AS n
"""
HISTORY_SQL = """
INSERT INTO patients_historicalpatient (
    id, created_at, updated_at, version, mrn, given_name, family_name,
    preferred_name, date_of_birth, sex, guardian_name, guardian_relationship,
    guardian_phone, guardian_email, address_line1, address_line2, city, postcode,
    status, history_date, history_change_reason, history_type{extra})
SELECT id, created_at, updated_at, version, mrn, given_name, family_name,
       preferred_name, date_of_birth, sex, guardian_name, guardian_relationship,
       guardian_phone, guardian_email, address_line1, address_line2, city, postcode,
       status, now(), 'bench', '+'{extra_values}
FROM patients_patient
"""
COPY_TABLE = "bench_full_copy"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fill(size: int) -> None:
    """The million charts and their history, once; later runs find them."""
    from scale_bench import _insert

    call_command("ensure_database", stdout=open(os.devnull, "w"))
    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM patients_patient WHERE mrn LIKE 'FULL-%%'")
        if cursor.fetchone()[0] == size:
            return
        progress(f"filling {size:,} patients and their history (once)")
        with transaction.atomic():
            cursor.execute(
                "TRUNCATE patients_patient, patients_historicalpatient CASCADE"
            )
            _insert(cursor, FILL_SQL, Patient, {"n": size})
            _insert(cursor, HISTORY_SQL, Patient.history.model, {})
            cursor.execute(f"DROP TABLE IF EXISTS {COPY_TABLE}")
            cursor.execute(
                f"CREATE TABLE {COPY_TABLE} (LIKE patients_patient INCLUDING INDEXES "
                "INCLUDING IDENTITY INCLUDING DEFAULTS)"
            )
            cursor.execute(f"INSERT INTO {COPY_TABLE} SELECT * FROM patients_patient")


def copy_table_ready() -> None:
    """The file leaves the table's other columns NULL (as import_bench's COPY);
    new rows take ids after the copied ones."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{COPY_TABLE}', 'id'), "
            f"(SELECT max(id) FROM {COPY_TABLE}))"
        )
        for field in Patient._meta.concrete_fields:
            if field.column not in HEADER and not field.primary_key:
                cursor.execute(
                    f'ALTER TABLE {COPY_TABLE} ALTER "{field.column}" DROP NOT NULL'
                )


def forget_imported() -> None:
    """What the last run imported goes, and VACUUM leaves the tables as filled."""
    with connection.cursor() as cursor:
        for table in ("patients_patient", "patients_historicalpatient", COPY_TABLE):
            cursor.execute(f"DELETE FROM {table} WHERE mrn LIKE 'BEN-%%'")
    connection.ensure_connection()
    with connection.cursor() as cursor:
        for table in ("patients_patient", "patients_historicalpatient", COPY_TABLE):
            cursor.execute(f"VACUUM ANALYZE {table}")


def raw_copy(data: bytes) -> float:
    columns = ", ".join(f'"{name}"' for name in HEADER)
    # An empty text cell is '' (as the import stores it), not NULL.
    texts = ", ".join(
        f'"{field.column}"'
        for field in Patient._meta.concrete_fields
        if field.column in HEADER and field.get_internal_type() == "CharField"
    )
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        with cursor.cursor.copy(
            f"COPY {COPY_TABLE} ({columns}) FROM STDIN "
            f"WITH (FORMAT csv, HEADER true, FORCE_NOT_NULL ({texts}))"
        ) as copy:
            copy.write(data)
    return time.perf_counter() - started


def raw_copy_out() -> float:
    """The export's baseline: PostgreSQL writing the whole table as CSV, read by
    this process (no access check, no formula escaping, no audit)."""
    started = time.perf_counter()
    with connection.cursor() as cursor:
        with cursor.cursor.copy(
            "COPY patients_patient TO STDOUT WITH (FORMAT csv, HEADER true)"
        ) as copy:
            for _ in copy:
                pass
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000, help="charts held")
    parser.add_argument("--rows", type=int, default=333_333, help="rows imported")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()

    # As in the Celery worker that runs imports in production (records.imports.tasks).
    process_tweaks_allow()
    fill(args.size)
    copy_table_ready()
    user = data_manager()
    data = csv_bytes(patient_rows(args.rows))
    rss_start = peak_rss_mb()
    load = os.getloadavg()[0]
    ndas_s = copy_s = float("inf")
    for attempt in range(args.repeat):
        forget_imported()
        progress(f"run {attempt + 1}: importing {args.rows:,} into {args.size:,}")
        job, seconds = ndas_import(user=user, data=data, dry_run=False)
        expect(job.new == args.rows, f"{job.new} new of {args.rows}")
        ndas_s = min(ndas_s, seconds)
        progress(f"run {attempt + 1}: raw COPY of the same rows")
        copy_s = min(copy_s, raw_copy(data))
    forget_imported()
    charts = Patient.objects.count()
    progress(f"exporting the {charts:,} charts as CSV, {args.repeat} x")
    export_s = out_s = float("inf")
    for _ in range(args.repeat):
        export_s = min(export_s, export(user=user, rows=charts)[1])
        out_s = min(out_s, raw_copy_out())
    rss_end = peak_rss_mb()

    rate = args.rows / ndas_s
    print(
        f"\n{args.rows:,} new patients into a table of {args.size:,} (with their "
        f"history), best of {args.repeat}; load average {load:.1f} at the start, "
        f"{os.getloadavg()[0]:.1f} at the end, {os.cpu_count()} cores"
    )
    print("| step | rows/s | seconds |")
    print("|---|---|---|")
    print(
        f"| NDAS import, validated, committed with history | {rate:,.0f} | "
        f"{ndas_s:.1f} |"
    )
    print(
        f"| raw COPY into a table like patients of {args.size:,} rows | "
        f"{args.rows / copy_s:,.0f} | {copy_s:.1f} |"
    )
    print(f"\nNDAS / raw COPY: {ndas_s / copy_s:.2f} x the time")
    met = "met" if rate >= TARGET_ROWS_S else "NOT met"
    print(f"Target >= {TARGET_ROWS_S:,} rows/s: {met}")
    export_rate = charts / export_s
    print(
        f"\n| export of {charts:,} charts as CSV | rows/s | seconds |\n|---|---|---|\n"
        f"| NDAS export (access, escaping, audited) | {export_rate:,.0f} | "
        f"{export_s:.1f} |\n"
        f"| raw COPY TO STDOUT of the table | {charts / out_s:,.0f} | {out_s:.1f} |"
    )
    met = "met" if export_rate >= TARGET_EXPORT_ROWS_S else "NOT met"
    print(f"Target >= {TARGET_EXPORT_ROWS_S:,} rows/s: {met}")
    print(
        f"peak RSS {rss_start:.0f} MB with the file built, {rss_end:.0f} MB at the end"
    )


if __name__ == "__main__":
    main()
