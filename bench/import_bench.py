"""What importing and exporting patients costs, against raw COPY of the same rows.
(One script past 400 lines: one run of six steps, each with its baseline.)

One run, one synthetic CSV of patients (deterministic, every row valid): the NDAS
import validating only, committing new rows with history, and re-importing with 10 %
of rows changed; django-import-export's default resource on a sample of the rows;
the same rows COPYed as text into a scratch table: without indexes, shaped and
indexed like the patients table (the baseline: no validation, no history), and
into tables like patients and its history (what storing each row with its history
costs, no validation); the CSV export; the process's peak memory.

The quick steps run --repeat times (3) and the fastest run counts, the commit and
its baseline taking turns: on a shared machine a run is now and then much slower
for reasons of its own, and the best of a few is what the work costs.

It runs in its own scratch database (ndas_bench, created and migrated here) and
empties its patients and their history: the development data is never touched.
"""

import argparse
import csv
import io
import os
import random
import resource
import sys
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
# Another benchmark may name its own scratch database (ndas_bench_<name>).
BENCH_DATABASE = os.environ.get("BENCH_DATABASE", "ndas_bench")
if not BENCH_DATABASE.startswith("ndas_bench"):
    raise SystemExit("import_bench: BENCH_DATABASE must start with ndas_bench")
# Forced, not defaulted: this script truncates tables, so it never follows a
# DATABASE_URL that points at real data.
os.environ["DATABASE_URL"] = f"postgres:///{BENCH_DATABASE}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ndas.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")  # measure the work, not the terminal
# DEBUG keeps every SQL statement for the debug page; production runs without it.
os.environ.setdefault("DEBUG", "False")

import django  # noqa: E402

django.setup()

import tablib  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, models, transaction  # noqa: E402
from import_export import resources  # noqa: E402

from records.imports.exports import export_csv  # noqa: E402
from records.imports.models import Entity, ExportJob, ImportJob  # noqa: E402
from records.imports.services import import_file  # noqa: E402
from records.patients.models import Patient  # noqa: E402
from records.users.models import User  # noqa: E402
from records.users.roles import DATA_MANAGER  # noqa: E402

SEED = 20260101
BENCH_USERNAME = "bench-data-manager"
BENCH_LOCK = 73_190_422  # pg advisory lock key: one run of this script at a time
CHANGED_FRACTION = 10  # one row in ten is changed for the re-import

# The targets, stated for 100,000 rows.
TARGET_COMMIT_ROWS_S = 20_000
TARGET_COPY_RATIO = 2.5  # commit at most this many times slower than raw COPY
TARGET_IE_RATIO = 50  # commit at least this many times faster than import-export
TARGET_REIMPORT_S = 5.0
TARGET_PEAK_RSS_MB = 300
TARGET_EXPORT_ROWS_S = 100_000
TARGET_ROWS = 100_000

HEADER = [
    "mrn",
    "given_name",
    "family_name",
    "date_of_birth",
    "sex",
    "gestational_age_weeks",
    "birth_weight_grams",
    "guardian_name",
    "guardian_phone",
    "city",
    "postcode",
]
GIVEN_NAMES = (
    "Talvi Orla Noor Ines Mateo Kofi Aarav Zoë Siân Björn Amara Leilani Ravi "
    "Elif Tomás Yuki Fintan Maren Idris Nadia Oskar Priya Soren Wren"
).split()
FAMILY_NAMES = (
    "Quennard Ardett Morrow Okafor Lindqvist Haddad Nakamura Ó'Brien Pereira "
    "Kowalczyk Fenwick Abara Thorne Vasquez Delacroix Mbeki Halloran Sato"
).split()
CITIES = (
    "Quellhaven",
    "Morrowby",
    "Fenwick Cross",
    "Harrowgate Vale",
    "Saltmere",
    "Ketterby",
    "Oakhollow",
    "Brindlemouth",
)
# Cities no original row has: a moved patient's row always differs.
MOVED_TO = ("Elsmere", "Brackenford", "Tollingham")
SEXES = ("female", "male") * 9 + ("other", "unknown")
POSTCODE_AREAS = ("QX", "KV", "ZT", "WQ")
POSTCODE_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
FIRST_BIRTH = date(2018, 1, 1)
BIRTH_DAYS = (date(2025, 12, 31) - FIRST_BIRTH).days


class PatientResource(resources.ModelResource):
    """django-import-export's defaults, keyed on the MRN as the file is."""

    class Meta:
        model = Patient
        import_id_fields = ["mrn"]


def expect(condition: bool, message: str) -> None:
    """A wrong result makes the timings meaningless: stop (not an assert: -O)."""
    if not condition:
        raise SystemExit(f"import_bench: {message}")


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def patient_rows(count: int, *, changed: range | None = None) -> Iterator[list[str]]:
    """Valid patient rows, the same for a count whatever else the run does.

    Rows in `changed` get a city no original row has. Each row draws the same
    random numbers either way, so the rest of the file is byte for byte the same.
    """
    rng = random.Random(SEED)
    for index in range(count):
        family = rng.choice(FAMILY_NAMES)
        born = FIRST_BIRTH + timedelta(days=rng.randrange(BIRTH_DAYS))
        birth_known = rng.random() < 0.85  # gestation and weight, or neither
        weeks = rng.randint(23, 42)
        grams = rng.randint(450, 4800)
        guardian = f"{rng.choice(GIVEN_NAMES)} {family}" if rng.random() < 0.9 else ""
        # Ofcom's drama range (020 7946 0000-0999): valid, and nobody's number.
        # Only 1,000 exist, so a per-value cache in the import would flatter it.
        phone = f"+442079460{rng.randrange(1000):03d}" if rng.random() < 0.75 else ""
        city = rng.choice(CITIES)
        if changed is not None and index in changed:
            city = MOVED_TO[index % len(MOVED_TO)]
        postcode = (
            f"{rng.choice(POSTCODE_AREAS)}{rng.randint(1, 29)} {rng.randint(1, 9)}"
            f"{rng.choice(POSTCODE_LETTERS)}{rng.choice(POSTCODE_LETTERS)}"
        )
        yield [
            f"BEN-{index + 1:07d}",
            rng.choice(GIVEN_NAMES),
            family,
            born.isoformat(),
            rng.choice(SEXES),
            str(weeks) if birth_known else "",
            str(grams) if birth_known else "",
            guardian,
            phone,
            city,
            postcode,
        ]


def csv_bytes(rows: Iterator[list[str]]) -> bytes:
    """The rows as a CSV file (bytes), written without a text copy of it all."""
    out = io.BytesIO()
    text = io.TextIOWrapper(out, encoding="utf-8", newline="")
    writer = csv.writer(text)
    writer.writerow(HEADER)
    writer.writerows(rows)
    text.flush()
    return out.getvalue()


def bench_database() -> int:
    """Create (if missing) and migrate the scratch database; empty its patients.

    Returns how many other sessions are connected to it: their work skews the
    timings, and a TRUNCATE waits for their transactions.
    """
    expect(
        connection.settings_dict["NAME"] == BENCH_DATABASE,
        f"refusing to run outside the {BENCH_DATABASE} database",
    )
    call_command("ensure_database", stdout=io.StringIO())
    with connection.cursor() as cursor:
        # Two runs at once would empty each other's tables: the second one waits.
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [BENCH_LOCK])
        if not cursor.fetchone()[0]:
            progress("another import_bench run holds the database: waiting")
            cursor.execute("SELECT pg_advisory_lock(%s)", [BENCH_LOCK])
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        others = cursor.fetchone()[0]
    if others:
        progress(f"warning: {others} other session(s) on {BENCH_DATABASE}")
    call_command("migrate", verbosity=0)
    patients_empty()
    return others


def patients_empty() -> None:
    """TRUNCATE: patients, what hangs off them (CASCADE), and their history."""
    tables = (Patient._meta.db_table, Patient.history.model._meta.db_table)
    quoted = ", ".join(f'"{table}"' for table in tables)
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {quoted} CASCADE")


def data_manager() -> User:
    user, _ = User.objects.get_or_create(username=BENCH_USERNAME)
    user.groups.set([Group.objects.get(name=DATA_MANAGER)])
    return User.objects.get(pk=user.pk)  # a fresh permission cache


def ndas_import(
    *, user: User, data: bytes, dry_run: bool, entity: str = Entity.PATIENTS
) -> tuple[ImportJob, float]:
    started = time.perf_counter()
    job = import_file(
        acting_user=user,
        entity=entity,
        file_name="bench.csv",
        data=data,
        reason="benchmark",
        no_care_team=True,  # new patients in no team: only staff who see all
        dry_run=dry_run,
    )
    elapsed = time.perf_counter() - started
    wanted = ImportJob.Status.VALIDATED if dry_run else ImportJob.Status.COMMITTED
    expect(
        job.status == wanted,
        f"import #{job.pk} is {job.status}, not {wanted}: {job.errors[:5]}",
    )
    return job, elapsed


def import_export_sample(text: str, rows: int) -> float:
    """django-import-export, default options, into an empty table: new rows."""
    started = time.perf_counter()
    dataset = tablib.Dataset().load(text, format="csv")
    result = PatientResource().import_data(dataset, dry_run=False)
    elapsed = time.perf_counter() - started
    expect(
        not result.has_errors() and not result.has_validation_errors(),
        "django-import-export reported errors",
    )
    expect(result.totals["new"] == rows, f"import-export totals: {result.totals}")
    expect(Patient.objects.count() == rows, "import-export: wrong patient count")
    # No HistoryRequestMiddleware here: simple-history's post_save signal writes.
    expect(Patient.history.count() == rows, "import-export: wrong history count")
    return elapsed


def raw_copy(data: bytes, rows: int, *, like: tuple[type[models.Model], ...]) -> float:
    """COPY of the file's text into scratch tables: the time to store the rows
    with no validation, committed.

    With `like` empty: one table of the file's columns, no index: the floor of
    what writing these bytes costs. Otherwise one table shaped and indexed like
    each model's table, with generated ids (what storing a row there costs), all
    in one transaction; the file leaves their other columns NULL. Regular
    (WAL-logged) tables, like the real ones: a TEMP table skips the WAL and would
    be a different kind of write.
    """
    columns = ", ".join(f'"{name}"' for name in HEADER)
    # An empty text cell is '' (as the import stores it), not NULL.
    texts = ", ".join(
        f'"{field.column}"'
        for field in Patient._meta.concrete_fields
        if field.column in HEADER and isinstance(field, models.CharField)
    )
    tables = [f"bench_copy_{n}" for n in range(max(len(like), 1))]
    with connection.cursor() as cursor:
        if not like:
            cursor.execute(
                f"CREATE TABLE {tables[0]} AS "
                f'SELECT {columns} FROM "{Patient._meta.db_table}" WITH NO DATA'
            )
        for table, model in zip(tables, like):
            cursor.execute(
                f'CREATE TABLE {table} (LIKE "{model._meta.db_table}" '
                "INCLUDING INDEXES INCLUDING IDENTITY)"
            )
            for field in model._meta.concrete_fields:
                if field.column not in HEADER and not field.primary_key:
                    cursor.execute(
                        f'ALTER TABLE {table} ALTER "{field.column}" DROP NOT NULL'
                    )
    # Timed like the import: until the rows are committed (the commit waits for
    # the WAL to reach the disk), and no further.
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        for table in tables:
            with cursor.cursor.copy(
                f"COPY {table} ({columns}) FROM STDIN "
                f"WITH (FORMAT csv, HEADER true, FORCE_NOT_NULL ({texts}))"
            ) as copy:
                copy.write(data)
    elapsed = time.perf_counter() - started
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT count(*) FROM {table}")
            expect(cursor.fetchone()[0] == rows, "COPY: wrong row count")
            cursor.execute(f"DROP TABLE {table}")
    return elapsed


def export(*, user: User, rows: int) -> tuple[int, float]:
    started = time.perf_counter()
    size = sum(len(chunk) for chunk in export_csv(user=user, entity=Entity.PATIENTS))
    elapsed = time.perf_counter() - started
    job = ExportJob.objects.filter(user=user).latest("pk")
    expect(job.completed and job.row_count == rows, "export: wrong row count")
    return size, elapsed


def verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rows", type=int, default=TARGET_ROWS, help="patients in the file"
    )
    parser.add_argument(
        "--sample", type=int, default=10_000, help="rows for django-import-export"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="runs of steps 1, 2, 5 and 6, of which the fastest counts",
    )
    args = parser.parse_args()
    rows, sample, repeat = args.rows, min(args.sample, args.rows), args.repeat
    changed = rows // CHANGED_FRACTION
    expect(rows >= CHANGED_FRACTION and sample > 0, "give --rows >= 10, --sample > 0")
    expect(repeat >= 1, "give --repeat >= 1")

    progress(f"database {BENCH_DATABASE}: migrating, emptying patients")
    load_start = os.getloadavg()[0]
    others = bench_database()
    user = data_manager()
    data = csv_bytes(patient_rows(rows))
    changed_data = csv_bytes(patient_rows(rows, changed=range(0, rows, 10)[:changed]))
    rss_generated = peak_rss_mb()

    progress(f"1/6 validating {rows:,} rows (dry run), {repeat} x")
    validate_s = float("inf")
    for _ in range(repeat):
        job, seconds = ndas_import(user=user, data=data, dry_run=True)
        expect(job.rows == rows and job.new == rows, f"dry run counted {job.rows}")
        validate_s = min(validate_s, seconds)
    expect(Patient.objects.count() == 0, "the dry run wrote patients")
    rss_before_commit = peak_rss_mb()

    # The commit and its baseline (5b) take turns: a machine that slows down for
    # a while slows both.
    progress(f"2/6 importing {rows:,} new rows, and 5b, {repeat} x in turn")
    commit_s = copy_s = float("inf")
    for _ in range(repeat):
        patients_empty()
        job, seconds = ndas_import(user=user, data=data, dry_run=False)
        commit_s = min(commit_s, seconds)
        expect(job.new == rows, f"commit: {job.new} new of {rows}")
        copy_s = min(copy_s, raw_copy(data, rows, like=(Patient,)))
    expect(Patient.objects.count() == rows, "commit: wrong patient count")
    expect(Patient.history.count() == rows, "commit: wrong history count")

    progress(f"3/6 re-importing with {changed:,} rows changed")
    job, reimport_s = ndas_import(user=user, data=changed_data, dry_run=False)
    del changed_data
    expect(
        (job.new, job.changed, job.unchanged) == (0, changed, rows - changed),
        f"re-import: {job.new} new, {job.changed} changed, {job.unchanged} same",
    )
    expect(Patient.objects.count() == rows, "re-import: wrong patient count")
    expect(
        Patient.history.count() == rows + changed
        and Patient.history.filter(history_type="~").count() == changed,
        f"re-import: not exactly {changed:,} new history rows",
    )
    rss_imports = peak_rss_mb()

    # The export runs here, out of order: it needs the rows that step 4 removes.
    progress(f"6/6 exporting {rows:,} rows as CSV, {repeat} x")
    export_s = float("inf")
    for _ in range(repeat):
        export_bytes, seconds = export(user=user, rows=rows)
        export_s = min(export_s, seconds)

    progress(f"4/6 django-import-export, a sample of {sample:,} rows")
    patients_empty()
    sample_text = csv_bytes(patient_rows(sample)).decode()
    ie_s = import_export_sample(sample_text, sample)
    patients_empty()

    progress(f"5/6 raw COPY of {rows:,} rows (5a, 5c), {repeat} x")
    bare_copy_s = min(raw_copy(data, rows, like=()) for _ in range(repeat))
    history_copy_s = min(
        raw_copy(data, rows, like=(Patient, Patient.history.model))
        for _ in range(repeat)
    )
    rss_end = peak_rss_mb()

    commit_rate = rows / commit_s
    copy_rate = rows / copy_s
    ie_rate = sample / ie_s
    export_rate = rows / export_s
    copy_ratio = copy_rate / commit_rate
    ie_ratio = commit_rate / ie_rate

    print(
        f"patients: {rows:,} rows x {len(HEADER)} columns "
        f"({len(data) / 1e6:.1f} MB CSV), database {BENCH_DATABASE}"
    )
    print(
        f"load average (1 min) {load_start:.2f} at the start, "
        f"{os.getloadavg()[0]:.2f} at the end, on {os.cpu_count()} cores"
    )
    if others:
        print(f"warning: {others} other session(s) were using {BENCH_DATABASE}")
    if rows != TARGET_ROWS:
        print(f"(the targets are stated for {TARGET_ROWS:,} rows)")
    if repeat > 1:
        print(f"steps 1, 2, 5 and 6: the fastest of {repeat} runs; 3 and 4: one run")
    print()
    print(f"{'step':<58}{'rows/s':>10}{'seconds':>10}")
    for label, count, seconds in (
        ("1. NDAS import, validate only (dry run)", rows, validate_s),
        (f"2. NDAS import, commit {rows:,} new (+ history)", rows, commit_s),
        (f"3. NDAS re-import, {changed:,} of {rows:,} changed", rows, reimport_s),
        (
            f"4. django-import-export default, a sample of {sample:,} rows",
            sample,
            ie_s,
        ),
        ("5a. raw COPY into a scratch table, no index", rows, bare_copy_s),
        ("5b. raw COPY into a table like patients (indexed)", rows, copy_s),
        (
            "5c. raw COPY into tables like patients and its history",
            rows,
            history_copy_s,
        ),
        (
            f"6. CSV export (export_csv), {export_bytes / 1e6:.1f} MB",
            rows,
            export_s,
        ),
    ):
        print(f"{label:<58}{count / seconds:>10,.0f}{seconds:>10.2f}")
    print()
    print("peak RSS (ru_maxrss)")
    print(f"  after setup and generating both CSVs: {rss_generated:7.0f} MB")
    print(f"  before step 2 (after the dry run):    {rss_before_commit:7.0f} MB")
    print(f"  after the NDAS import steps (1-3):    {rss_imports:7.0f} MB")
    print(
        f"  added by the import steps:            {rss_imports - rss_generated:7.0f} MB"
    )
    print(f"  at the end (export, 4 and 5 too):     {rss_end:7.0f} MB")
    print()
    print(f"{'against the issue':<38}{'measured':>16}   {'target':<22}")
    for label, measured, target, met in (
        (
            "commit rows/s",
            f"{commit_rate:,.0f}",
            f">= {TARGET_COMMIT_ROWS_S:,}",
            commit_rate >= TARGET_COMMIT_ROWS_S,
        ),
        (
            "commit vs raw COPY (5b)",
            f"{copy_ratio:.2f} x slower",
            f"<= {TARGET_COPY_RATIO} x slower",
            copy_ratio <= TARGET_COPY_RATIO,
        ),
        (
            "commit vs django-import-export",
            f"{ie_ratio:,.1f} x faster",
            f">= {TARGET_IE_RATIO} x faster",
            ie_ratio >= TARGET_IE_RATIO,
        ),
        (
            f"re-import, {100 // CHANGED_FRACTION} % changed",
            f"{reimport_s:.2f} s",
            f"< {TARGET_REIMPORT_S:g} s",
            reimport_s < TARGET_REIMPORT_S,
        ),
        (
            "peak RSS, import steps",
            f"{rss_imports:,.0f} MB",
            f"< {TARGET_PEAK_RSS_MB} MB",
            rss_imports < TARGET_PEAK_RSS_MB,
        ),
        (
            "export rows/s",
            f"{export_rate:,.0f}",
            f">= {TARGET_EXPORT_ROWS_S:,}",
            export_rate >= TARGET_EXPORT_ROWS_S,
        ),
    ):
        print(f"{label:<38}{measured:>16}   {target:<22}{verdict(met)}")
    print(
        f"{'(no target) commit vs raw COPY (5c)':<38}"
        f"{commit_s / history_copy_s:>9.2f} x slower   "
        "storing each row twice, as the import must (row and history)"
    )


if __name__ == "__main__":
    main()
