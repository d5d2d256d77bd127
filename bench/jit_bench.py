"""Does PostgreSQL's JIT help any NDAS query? The web's reads with JIT on and off.

One run, in its own scratch database (ndas_bench_jit, created and migrated here):
300,000 patients made inside PostgreSQL with generate_series, in three care teams
of 100,000 (view and change grants), and a clinician in two of them. Generation is
skipped when the rows are there; --rebuild forces it.

Timed, as the median of several runs after one warm-up, on one connection whose
`jit` is switched by SET (PostgreSQL's default thresholds otherwise):
  the clinician's patient list (first page of 50, as the admin orders it),
  the clinician's search for a family-name prefix, an administrator's misspelt
  name, an exact MRN, and a date of birth.
The baseline is each query with JIT off; the ratio is JIT on / JIT off (above 1:
JIT costs time). NDAS's connections turn it off (ndas/settings.py) unless a
figure here says otherwise.
"""

import argparse
import io
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
BENCH_DATABASE = "ndas_bench_jit"
# Forced, not defaulted: this script empties tables.
os.environ["DATABASE_URL"] = f"postgres:///{BENCH_DATABASE}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ndas.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("DEBUG", "False")
os.environ["NDAS_WORK"] = "command"  # no web ceiling while generating

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import Group, Permission  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from records.clinical_records.repositories import patients_for_admin  # noqa: E402
from records.patients.models import Patient  # noqa: E402
from records.patients.repositories import patient_search  # noqa: E402
from records.users import roles  # noqa: E402
from records.users.models import CareTeam, User  # noqa: E402

PATIENTS = 300_000
TEAMS = ("Bench team A", "Bench team B", "Bench team C")
RUNS = 5

PATIENT_INSERT = """
INSERT INTO patients_patient (
    created_at, updated_at, version, mrn, given_name, family_name, preferred_name,
    date_of_birth, sex, guardian_name, guardian_relationship, guardian_phone,
    guardian_email, address_line1, address_line2, city, postcode, status)
SELECT now(), now(), 1, 'B' || lpad(n::text, 7, '0'),
       (ARRAY['Amara','Noah','Isla','Leo','Maya','Arlo','Zara','Theo'])[1 + n %% 8],
       (ARRAY['Smith','Jones','Taylor','Brown','Williams','Wilson','Johnson',
              'Davies','Patel','Robinson','Wright','Thompson','Evans','Walker',
              'White','Roberts','Green','Hall','Wood','Jackson'])[1 + n %% 20]
         || (n %% 997)::text,
       '', date '2010-01-01' + (n %% 5000), 'female', '', '', '', '', '', '', '',
       '', 'active'
FROM generate_series(1, %(n)s) AS n
"""

GRANT_INSERT = """
INSERT INTO patients_patientgroupobjectpermission
    (content_object_id, group_id, permission_id)
SELECT p.id, %(group)s, perm.id
FROM patients_patient p, auth_permission perm
WHERE p.id %% 3 = %(slot)s AND perm.id = ANY(%(perms)s)
"""


def progress(message: str) -> None:
    print(f"  .. {message}", file=sys.stderr, flush=True)


def generate(rebuild: bool) -> None:
    if Patient.objects.count() == PATIENTS and not rebuild:
        progress("data already present (--rebuild forces it)")
        return
    perms = list(
        Permission.objects.filter(
            content_type__app_label="patients",
            codename__in=("view_patient", "change_patient"),
        ).values_list("pk", flat=True)
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE patients_patientgroupobjectpermission, patients_patient "
            "RESTART IDENTITY CASCADE"
        )
        progress(f"generating {PATIENTS:,} patients")
        cursor.execute(PATIENT_INSERT, {"n": PATIENTS})
        for slot, name in enumerate(TEAMS):
            group, _ = Group.objects.get_or_create(name=name)
            CareTeam.objects.get_or_create(name=name, group=group)
            cursor.execute(
                GRANT_INSERT, {"group": group.pk, "slot": slot, "perms": perms}
            )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def clinician() -> User:
    user, _ = User.objects.get_or_create(username="bench-clinician")
    user.groups.set(
        [Group.objects.get(name=roles.CLINICIAN)]
        + list(Group.objects.filter(name__in=TEAMS[:2]))
    )
    return User.objects.get(pk=user.pk)


def administrator() -> User:
    user, _ = User.objects.get_or_create(username="bench-admin")
    user.groups.set([Group.objects.get(name=roles.ADMINISTRATOR)])
    return User.objects.get(pk=user.pk)


def median_ms(fetch) -> float:
    fetch()
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        fetch()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def jit(on: bool) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"SET jit = {'on' if on else 'off'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    progress(f"database {BENCH_DATABASE}: migrating")
    call_command("ensure_database", stdout=io.StringIO())
    call_command("migrate", verbosity=0)
    generate(args.rebuild)
    doctor, admin = clinician(), administrator()
    queries = {
        "clinician's list, first 50": lambda: list(
            patients_for_admin(doctor).order_by("-pk")[:50]
        ),
        "clinician searches 'Smi'": lambda: list(
            patient_search(user=doctor, query="Smi")[:50]
        ),
        "admin searches 'Tayler12' (misspelt)": lambda: list(
            patient_search(user=admin, query="Tayler12")[:50]
        ),
        "admin searches an exact MRN": lambda: list(
            patient_search(user=admin, query="B0123456")[:50]
        ),
        "admin searches a date of birth": lambda: list(
            patient_search(user=admin, query="2015-03-04")[:50]
        ),
    }
    print(f"\nJIT on / JIT off, {PATIENTS:,} patients, median of {RUNS} runs")
    print(f"{'query':40} {'JIT off ms':>11} {'JIT on ms':>10} {'on/off':>7}")
    for name, fetch in queries.items():
        jit(False)
        off = median_ms(fetch)
        jit(True)
        on = median_ms(fetch)
        print(f"{name:40} {off:11.1f} {on:10.1f} {on / off:7.2f}")
    jit(False)


if __name__ == "__main__":
    main()
