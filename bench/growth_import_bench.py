"""What the growth figures cost a visit import, against the same import without them.

One run, in import_bench's scratch database (ndas_bench: its patients, their visits
and history are emptied first): patients imported as a data manager does, then one
file of visits with weight, height and head circumference (values near each child's
own centile: rcpchgrowth's 50th centile line, scaled per child) imported, validation
only and committed, with the growth figures computed, and with their computation
switched off (the baseline: the import as it was before visits kept figures; every
other check runs). Each import runs --repeat times, the two taking turns, and the
fastest run counts; each starts with empty caches. It also times one measurement's
figures by rcpchgrowth's Measurement and by NDAS's shorter way through rcpchgrowth's
own functions (records/clinical_records/growth.py), which give the same figures.
"""

import argparse
import bisect
import contextlib
import csv
import io
import random
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

# import_bench forces the scratch database and sets Django up.
from import_bench import (  # noqa: E402
    bench_database,
    csv_bytes,
    data_manager,
    expect,
    ndas_import,
    patient_rows,
    progress,
)
from django.contrib.auth.models import Group  # noqa: E402
from django.db import connection  # noqa: E402
from rcpchgrowth.date_calculations import corrected_decimal_age  # noqa: E402

from records.clinical_records import growth  # noqa: E402
from records.clinical_records.models import ClinicalRecord  # noqa: E402
from records.imports.models import Entity  # noqa: E402
from records.patients.models import Patient  # noqa: E402
from records.users.models import User  # noqa: E402
from records.users.roles import CLINICIAN  # noqa: E402

SEED = 20261206
VISITS_PER_PATIENT = 3
CLINICIAN_USERNAME = "bench-clinician"
BASE_HEADER = ["patient_mrn", "clinician_username", "visit_date", "visit_type"]
MEASURED = ["weight_kg", "height_cm", "head_circumference_cm"]
METHODS = {"weight_kg": "weight", "height_cm": "height", "head_circumference_cm": "ofc"}
PLACES = {"weight_kg": 2, "height_cm": 1, "head_circumference_cm": 1}
TODAY = date.today()
# Target: figures cost the import at most this much (rows/s without / with).
TARGET_RATIO = 2.0


def clinician() -> User:
    user, _ = User.objects.get_or_create(
        username=CLINICIAN_USERNAME, defaults={"is_staff": True}
    )
    user.groups.set([Group.objects.get(name=CLINICIAN)])
    return user


def median_line(method: str, sex: str) -> tuple[list[float], list[float]]:
    """The reference's 50th centile (rcpchgrowth's, as the charts draw it)."""
    lines = dict(growth.centile_lines("uk-who", method, sex))
    points = lines[50.0]
    return [age for age, _ in points], [value for _, value in points]


def visit_rows(patients) -> list[list[str]]:
    """Visits after each birth, measurements near each child's own centile."""
    rng = random.Random(SEED)
    lines = {
        (column, sex): median_line(METHODS[column], sex)
        for column in MEASURED
        for sex in growth.SEXES
    }
    rows = []
    for mrn, born, sex, weeks in patients:
        # other and unknown: a girl's values (no figures are kept)
        sex = sex if sex in growth.SEXES else "female"
        own = rng.uniform(0.9, 1.1)  # about -1 to +1 SDS
        # After the due date (every reference covers the child), on different days.
        due = born + timedelta(weeks=max(40 - (weeks or 40), 0))
        days = rng.sample(range(1, (TODAY - due).days + 1), VISITS_PER_PATIENT)
        for on in (due + timedelta(days=d) for d in days):
            age = corrected_decimal_age(born, on, weeks or 40, 0)
            values = []
            for column in MEASURED:
                ages, medians = lines[(column, sex)]
                median = medians[min(bisect.bisect(ages, age), len(ages) - 1)]
                value = median * own * rng.uniform(0.98, 1.02)
                values.append(f"{value:.{PLACES[column]}f}")
            rows.append([mrn, CLINICIAN_USERNAME, on.isoformat(), "follow_up", *values])
    return rows


def visits_csv(rows) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(BASE_HEADER + MEASURED)
    writer.writerows(rows)
    return out.getvalue().encode()


@contextlib.contextmanager
def figures_off():
    """Visits keep no figures: the import as it was before (checks unchanged)."""
    kept = growth.visit_figures
    growth.visit_figures = lambda child, values: {n: growth.Figure() for n in values}
    try:
        yield
    finally:
        growth.visit_figures = kept


def visits_empty() -> None:
    tables = (
        ClinicalRecord._meta.db_table,
        ClinicalRecord.history.model._meta.db_table,
    )
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in tables))


def timed_import(user, data: bytes, *, entity, dry_run: bool) -> float:
    # Every run starts cold: no reference lookup or figure kept from the last.
    growth.reference_lms.cache_clear()
    growth.figure_for.cache_clear()
    _, elapsed = ndas_import(user=user, data=data, dry_run=dry_run, entity=entity)
    return elapsed


def per_measurement(children, ways: dict) -> dict[str, float]:
    """Seconds per figure of each way, over the same measurements (no cache)."""
    seconds = {}
    for name, way in ways.items():
        growth.reference_lms.cache_clear()
        started = time.perf_counter()
        for child, value in children:
            way(child, "weight", value)
        seconds[name] = (time.perf_counter() - started) / len(children)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()

    bench_database()
    visits_empty()
    manager = data_manager()
    clinician()  # the visits name them
    progress(f"importing {args.patients:,} patients")
    timed_import(
        manager,
        csv_bytes(patient_rows(args.patients)),
        entity=Entity.PATIENTS,
        dry_run=False,
    )
    patients = list(
        Patient.objects.values_list(
            "mrn", "date_of_birth", "sex", "gestational_age_weeks"
        )
    )
    rows = visit_rows(patients)
    data = visits_csv(rows)
    ways = {"off": figures_off, "on": contextlib.nullcontext}
    best = {}
    for attempt in range(args.repeat):
        for label, way in ways.items():
            for dry_run in (True, False):
                progress(
                    f"run {attempt + 1}: {len(rows):,} visits, figures {label}, "
                    f"{'validate' if dry_run else 'commit'}"
                )
                with way():
                    elapsed = timed_import(
                        manager, data, entity=Entity.CLINICAL_RECORDS, dry_run=dry_run
                    )
                if not dry_run:
                    expect(ClinicalRecord.objects.count() == len(rows), "visit count")
                    kept = ClinicalRecord.objects.filter(weight_sds__isnull=False)
                    expect(kept.exists() == (label == "on"), f"figures {label}?")
                    visits_empty()
                key = (label, dry_run)
                best[key] = min(best.get(key, elapsed), elapsed)

    children = [
        (
            growth.GrowthInput(
                sex=sex,
                born=born,
                on=date.fromisoformat(row[2]),
                reference="uk-who",
                gestation_weeks=weeks,
            ),
            Decimal(row[4]),
        )
        for row, (_, born, sex, weeks) in zip(
            rows, (p for p in patients for _ in range(VISITS_PER_PATIENT))
        )
        if sex in growth.SEXES
    ][:2_000]
    seconds = per_measurement(
        children,
        {
            "Measurement": growth.measured_figure,
            "shorter way": growth.figure_for.__wrapped__,
        },
    )

    n = len(rows)
    print(
        f"\nGrowth figures in a visit import: {n:,} visits of {len(patients):,} "
        f"patients, weight, height and head circumference (best of {args.repeat})"
    )
    print("| import | figures off (as before) | figures on | ratio |")
    print("|---|---|---|---|")
    for dry_run, label in ((True, "validate only"), (False, "commit, with history")):
        off, on = best[("off", dry_run)], best[("on", dry_run)]
        print(
            f"| {label} | {n / off:,.0f} rows/s | {n / on:,.0f} rows/s | "
            f"{on / off:.2f} x |"
        )
    ratio = best[("on", False)] / best[("off", False)]
    met = "met" if ratio <= TARGET_RATIO else "NOT met"
    print(f"\nTarget: commit with figures within {TARGET_RATIO} x of without: {met}")
    print("\nOne weight's figures (2,000 measurements, caches empty at the start):")
    for name, each in seconds.items():
        print(f"- {name}: {each * 1000:.2f} ms")
    print(
        f"- Measurement / shorter way: "
        f"{seconds['Measurement'] / seconds['shorter way']:.1f} x"
    )


if __name__ == "__main__":
    main()
