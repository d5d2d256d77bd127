"""Every page staff open daily, at 1,000 charts and at 1,000,000, in one run.
(One script past 400 lines: the build SQL and the page list belong together.)

Each size has its own scratch database (ndas_bench_scale_<size>), built once inside
PostgreSQL with generate_series (no ORM, no COPY round trips: minutes for a
million) and reused by later runs (--rebuild forces a new one):
  N patients with realistic names (a hundred common family and given names, so a
  family name is shared as in life), dealt into three care teams of N/3 (a view
  and a change grant each), 0.3 N assessments, 0.3 N visits, 0.05 N media rows,
  one history row per patient (what an import writes), 10 N audit events over a
  year; a clinician in two of the teams, a data manager, an auditor, an
  administrator.

Each page is requested in-process through Django's test client (DEBUG off, the
web's statement ceiling), once to warm up and then --runs times; the p95 and the
queries are printed per size, with the ratio 1M / 1k (goal: within 2 x and under
150 ms at 1M, the same queries: the count most of a page's requests make; any
count that one of them made besides is printed beside it). Each size is measured
by a process of its own, so the two runs share nothing but the machine.

    .venv/bin/python bench/scale_bench.py                 # 1,000 and 1,000,000
    .venv/bin/python bench/scale_bench.py --sizes 1000,100000 --runs 10
    .venv/bin/python bench/scale_bench.py --only "audit"   # the pages naming it
"""

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GOAL_MS = 150.0
GOAL_RATIO = 2.0

FAMILY = (
    "Smith Jones Taylor Brown Williams Wilson Johnson Davies Patel Robinson Wright "
    "Thompson Evans Walker White Roberts Green Hall Wood Jackson Clarke Khan Lewis "
    "Harris Martin Cooper Hill Ward Morris Moore Clark Lee King Baker Harrison "
    "Morgan Allen James Scott Phillips Watson Davis Parker Price Bennett Young "
    "Griffiths Mitchell Kelly Cook Carter Richardson Bailey Collins Bell Shaw Murphy "
    "Miller Cox Richards Khan Marshall Anderson Simpson Ellis Adams Singh Begum "
    "Wilkinson Foster Chapman Powell Webb Rogers Gray Mason Ali Hunt Hussain "
    "Campbell Matthews Owen Palmer Holmes Mills Barnes Knight Lloyd Butler Russell "
    "Barker Fisher Stevens Jenkins Murray Dixon Harvey Graham Pearson"
).split()
GIVEN = (
    "Olivia Amelia Isla Ava Mia Ivy Lily Isabella Rosie Sophia Grace Freya Willow "
    "Florence Emily Ella Poppy Evie Elsie Charlotte Evelyn Sienna Sofia Daisy Phoebe "
    "Sophie Alice Harper Matilda Ruby Noah Oliver George Arthur Muhammad Leo Harry "
    "Oscar Archie Henry Theodore Freddie Jack Charlie Theo Alfie Jacob Thomas Finley "
    "Arlo William Lucas Roman Tommy Isaac Teddy Alexander Luca Edward James Joshua "
    "Albie Elijah Max Mohammed Reuben Mason Sebastian Rory Jude Louie Benjamin "
    "Ezra Adam Aria Maya Zara Amara Nova Layla Esme Eliza Hallie Mila Aurora Ada "
    "Iris Maeve Orla Niamh Aoife Ffion Cerys Seren Eilidh Isaac Otis Dylan"
).split()


# --- building a size ----------------------------------------------------------------


def _array(words) -> str:
    return "ARRAY[" + ",".join(f"'{w}'" for w in words) + "]"


PATIENTS_SQL = f"""
INSERT INTO patients_patient (
    created_at, updated_at, version, mrn, given_name, family_name, preferred_name,
    date_of_birth, sex, guardian_name, guardian_relationship, guardian_phone,
    guardian_email, address_line1, address_line2, city, postcode, status{{extra}})
SELECT now(), now(), 1, 'NDAS-' || lpad(n::text, 8, '0'),
       ({_array(GIVEN)})[1 + abs(hashint4(n)) %% {len(GIVEN)}],
       ({_array(FAMILY)})[1 + abs(hashint4(-n)) %% {len(FAMILY)}],
       '', date '2012-01-01' + (abs(hashint4(n * 7)) %% 5000), 'female', '', '',
       '', '', '', '', '', '',
       CASE WHEN n %% 20 = 0 THEN 'archived' ELSE 'active' END{{extra_values}}
FROM generate_series(1, %(n)s) AS n
"""

# Charts are dealt to the teams by a hash of their id, not by id modulo 3: the
# assessments and visits above are spread over charts by id, and a modulo would put
# every visit on one team's charts (a team whose records all lie beyond a list's
# first pages for a clinician outside it).
GRANTS_SQL = """
INSERT INTO patients_patientgroupobjectpermission
    (content_object_id, group_id, permission_id)
SELECT p.id, (%(groups)s::int[])[1 + abs(hashint4(p.id::int)) %% 3], perm.id
FROM patients_patient p, auth_permission perm
WHERE perm.id = ANY(%(perms)s)
"""

ASSESSMENTS_SQL = """
INSERT INTO patients_assessment (
    created_at, updated_at, version, instrument, performed_on, outcome, findings,
    recommendations, status, assessor_id, patient_id, total_score,
    chronological_age_days{extra})
SELECT now(), now(), 1, (ARRAY['hine','bayley4','asq3','mchat_rf'])[1 + i %% 4],
       p.date_of_birth + 90 + i %% 300, 'typical', '', '',
       CASE WHEN i %% 3 = 0 THEN 'draft' ELSE 'final' END, %(staff)s, p.id, 60,
       90 + i %% 300{extra_values}
FROM generate_series(1, %(n)s) AS i
JOIN patients_patient p ON p.id = 1 + (i * 3) %% %(patients)s
"""

VISITS_SQL = """
INSERT INTO clinical_records_clinicalrecord (
    created_at, updated_at, version, visit_date, visit_type, chief_complaint,
    clinical_history, examination, diagnoses, assessment_and_plan, status,
    clinician_id, patient_id, weight_kg, height_cm{extra})
SELECT now(), now(), 1, p.date_of_birth + 100 + i %% 900, 'follow_up', '', '', '',
       ARRAY['F84.0']::varchar(8)[], '',
       CASE WHEN i %% 3 = 0 THEN 'draft' ELSE 'final' END, %(staff)s, p.id,
       9.5, 75.0{extra_values}
FROM generate_series(1, %(n)s) AS i
JOIN patients_patient p ON p.id = 1 + (i * 3 + 1) %% %(patients)s
"""

MEDIA_SQL = """
INSERT INTO patients_mediafile (
    kind, file, original_name, content_type, size_bytes, sha256, description,
    uploaded_at, patient_id, uploaded_by_id{extra})
SELECT 'image', 'media/' || md5(i::text) || '.png', 'scan.png', 'image/png', 100,
       md5(i::text) || md5(i::text), '', now(),
       1 + (abs(hashint4(i * 3)) %% %(patients)s), %(staff)s{extra_values}
FROM generate_series(1, %(n)s) AS i
"""

HISTORY_SQL = """
INSERT INTO patients_historicalpatient (
    id, created_at, updated_at, version, mrn, given_name, family_name,
    preferred_name, date_of_birth, sex, guardian_name, guardian_relationship,
    guardian_phone, guardian_email, address_line1, address_line2, city, postcode,
    status, history_date, history_change_reason, history_type, created_by_id,
    history_user_id{extra})
SELECT id, created_at, updated_at, version, mrn, given_name, family_name,
       preferred_name, date_of_birth, sex, guardian_name, guardian_relationship,
       guardian_phone, guardian_email, address_line1, address_line2, city, postcode,
       status, created_at, 'import #1: bench', '+', NULL, %(staff)s{extra_values}
FROM patients_patient
"""

AUDIT_SQL = """
INSERT INTO audit_auditevent (
    at, actor_id, actor_username, ip, request_id, action, object_type, object_id,
    patient_id, summary, details, prev_hash, hash)
SELECT now() - interval '365 days' * ((%(n)s - i)::float8 / %(n)s), %(staff)s,
       'bench-clinician', '192.0.2.10'::inet, md5(i::text),
       (ARRAY['view','view','view','update','create','download'])[1 + i %% 6],
       'patients.patient', (1 + abs(hashint8(i)) %% %(patients)s)::text,
       1 + abs(hashint8(i)) %% %(patients)s, 'Bench event', '{}'::jsonb,
       md5((i - 1)::text) || md5(i::text), md5(i::text) || md5((i + 1)::text)
FROM generate_series(1, %(n)s) AS i
"""


def _extra_columns(model, listed: str) -> tuple[str, str]:
    """Columns of `model` that the SQL's column list (`listed`) leaves out and the
    database cannot fill itself (NOT NULL, no default): each with its field's
    default, so that a column added later does not break the benchmark."""
    from django.db import connection
    from psycopg import sql

    named = {
        name.replace("{extra}", "").strip()
        for name in listed.replace("\n", " ").split(",")
    }
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
            "AND is_nullable = 'NO' AND column_default IS NULL",
            [model._meta.db_table],
        )
        required = {row[0] for row in cursor.fetchall()} - named
    fields = [
        field
        for field in model._meta.concrete_fields
        if field.column in required and not field.primary_key
    ]
    columns = "".join(f", {field.column}" for field in fields)
    values = "".join(
        ", " + sql.Literal(field.get_default()).as_string(connection.connection)
        for field in fields
    )
    return columns, values


def _insert(cursor, statement: str, model, params: dict) -> None:
    listed = statement.split("(", 1)[1].split(")", 1)[0]
    extra, extra_values = _extra_columns(model, listed)
    cursor.execute(statement.format(extra=extra, extra_values=extra_values), params)


def build(size: int, rebuild: bool) -> None:
    from django.contrib.auth.models import Group, Permission
    from django.core.management import call_command
    from django.db import connection, transaction

    from records.clinical_records.models import ClinicalRecord
    from records.patients.models import Assessment, MediaFile, Patient
    from records.users.models import CareTeam, User

    call_command("ensure_database", stdout=open(os.devnull, "w"))
    call_command("migrate", verbosity=0)
    # At least: the load benchmark (bench/load.py) adds charts as staff would.
    if Patient.objects.count() >= size and not rebuild:
        _progress(f"{size:,} charts already built (--rebuild forces it)")
        _full_chart()
        _jobs()
        return
    started = time.perf_counter()
    staff = _users()
    groups = [
        CareTeam.objects.get_or_create(
            name=name, group=Group.objects.get_or_create(name=name)[0]
        )[0].group_id
        for name in ("Neonatal follow-up", "Autism assessment", "General paediatrics")
    ]
    clinician = User.objects.get(username="bench-clinician")
    clinician.groups.add(*groups[:2])
    perms = list(
        Permission.objects.filter(
            content_type__app_label="patients",
            codename__in=("view_patient", "change_patient"),
        ).values_list("pk", flat=True)
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER USER")
        cursor.execute(
            "TRUNCATE patients_patient, patients_historicalpatient, "
            "patients_patientgroupobjectpermission, patients_assessment, "
            "clinical_records_clinicalrecord, patients_mediafile, audit_auditevent "
            "RESTART IDENTITY CASCADE"
        )
        cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER USER")
        steps = (
            ("patients", PATIENTS_SQL, Patient, size),
            ("assessments", ASSESSMENTS_SQL, Assessment, size * 3 // 10),
            ("visits", VISITS_SQL, ClinicalRecord, size * 3 // 10),
            ("media", MEDIA_SQL, MediaFile, size // 20),
            ("history", HISTORY_SQL, Patient.history.model, size),
        )
        for name, statement, model, n in steps:
            _progress(f"{n:,} {name}")
            _insert(
                cursor, statement, model, {"n": n, "patients": size, "staff": staff}
            )
        _progress(f"{size * 2:,} grants")
        cursor.execute(GRANTS_SQL, {"groups": groups, "perms": perms})
        _progress(f"{size * 10:,} audit events")
        cursor.execute(AUDIT_SQL, {"n": size * 10, "patients": size, "staff": staff})
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    _full_chart()
    _jobs()
    _progress(f"built in {time.perf_counter() - started:.0f} s")


FULL_VISITS, FULL_ASSESSMENTS = 100, 50


def _full_chart() -> None:
    """The clinician's first chart gets 100 visits with measurements (growth
    figures computed) and 50 assessments, through the services as staff record
    them: the summary is timed on a chart as full as a long-followed child's."""
    from datetime import date, timedelta
    from decimal import Decimal

    from records.clinical_records import growth
    from records.clinical_records.services import clinical_record_create
    from records.patients.repositories import patients_visible_to
    from records.patients.services import assessment_create
    from records.users.models import User

    clinician = User.objects.get(username="bench-clinician")
    chart = patients_visible_to(clinician).order_by("pk").first()
    if chart.clinical_records.count() >= FULL_VISITS:
        return
    _progress(f"a chart of {FULL_VISITS} visits and {FULL_ASSESSMENTS} assessments")
    born, today = chart.date_of_birth, date.today()
    span = (today - born).days
    medians = {
        method: dict(growth.centile_lines(chart.growth_reference, method, chart.sex))[
            50.0
        ]
        for method in ("weight", "height")
    }

    def median(method: str, on: date) -> Decimal:
        age = (on - born).days / 365.25
        points = medians[method]
        value = min(points, key=lambda point: abs(point[0] - age))[1]
        return Decimal(f"{value:.1f}")

    for n in range(FULL_VISITS):
        on = born + timedelta(days=1 + n * (span - 2) // FULL_VISITS)
        clinical_record_create(
            acting_user=clinician,
            data={
                "patient": chart,
                "visit_date": on,
                "visit_type": "follow_up",
                "clinician": clinician,
                "diagnoses": ["F84.0"],
                "weight_kg": median("weight", on),
                "height_cm": median("height", on),
            },
        )
    for n in range(FULL_ASSESSMENTS):
        assessment_create(
            acting_user=clinician,
            data={
                "patient": chart,
                "instrument": ("hine", "bayley4", "asq3")[n % 3],
                "performed_on": born + timedelta(days=2 + n * (span - 3) // 50),
                "assessor": clinician,
                "total_score": Decimal(50 + n % 20),
                "outcome": "typical",
            },
        )


# The data manager's imports and exports: as many at every size, past a page of
# their lists (100 rows), so that the lists compare like for like (the million
# charts' database also holds what bench/load.py imported and exported).
BENCH_JOBS = 120


def _jobs() -> None:
    """The data manager's BENCH_JOBS imports and exports, each known by its
    file's fingerprint: added to a database built without them, never twice."""
    from records.imports.models import Entity, ExportJob, ImportJob, ImportMode
    from records.users.models import User

    manager = User.objects.get(username="bench-manager")
    entities = list(Entity)

    def seed(model, kind: str, make) -> int:
        """The BENCH_JOBS jobs of `model` the database lacks, made by `make(n)`
        and known by their fingerprints; how many were added."""
        wanted = {
            hashlib.sha256(f"scale bench {kind} {n}".encode()).hexdigest(): n
            for n in range(BENCH_JOBS)
        }
        held = set(
            model.objects.filter(sha256__in=wanted).values_list("sha256", flat=True)
        )
        model.objects.bulk_create(
            make(n, sha256=sha) for sha, n in wanted.items() if sha not in held
        )
        return BENCH_JOBS - len(held)

    added = seed(
        ImportJob,
        "import",
        lambda n, **key: ImportJob(
            user=manager,
            entity=entities[n % len(entities)],
            file_name=f"clinic-{n:03d}.csv",
            size_bytes=2_000 + n,
            mode=ImportMode.CREATE_OR_UPDATE,
            reason="Scale bench import",
            status=ImportJob.Status.COMMITTED,
            rows=10,
            new=10,
            duration_ms=20,
            **key,
        ),
    )
    added += seed(
        ExportJob,
        "export",
        lambda n, **key: ExportJob(
            user=manager,
            entity=entities[n % len(entities)],
            file_format="csv",
            columns=["mrn", "given_name", "family_name"],
            row_count=200 + n,
            status=ExportJob.Status.COMPLETED,
            **key,
        ),
    )
    if added:
        _progress(f"{added} imports and exports of the data manager")


def _users() -> int:
    from django.contrib.auth.models import Group

    from records.users import roles
    from records.users.models import User

    for username, role in (
        ("bench-clinician", roles.CLINICIAN),
        ("bench-manager", roles.DATA_MANAGER),
        ("bench-auditor", roles.AUDITOR),
        ("bench-admin", roles.ADMINISTRATOR),
    ):
        user, _ = User.objects.get_or_create(username=username, is_staff=True)
        user.groups.add(Group.objects.get(name=role))
    return User.objects.get(username="bench-clinician").pk


# --- timing a size ------------------------------------------------------------------

# The lists' deep page: the last full page of the clinician's list at 1,000
# charts (656 of them visible, 50 a page), so that it shows a full page for both
# roles at every size and the sizes compare like for like (page 20 was past the
# clinician's last page at 1,000). measure() refuses a deep page that is not full.
DEEP_PAGE = 13


def pages(size: int) -> list[tuple[str, str, str, dict | None]]:
    """(name, username, url, search term or None) of each page timed."""
    from django.urls import reverse

    from records.patients.models import Patient
    from records.patients.repositories import patients_visible_to
    from records.users.models import User

    clinician = User.objects.get(username="bench-clinician")
    chart = patients_visible_to(clinician).order_by("pk").first()
    patients = reverse("admin:patients_patient_changelist")
    one = Patient.objects.get(pk=chart.pk)
    rows = []
    for who in ("bench-clinician", "bench-admin"):
        role = "clinician" if who == "bench-clinician" else "admin"
        rows += [
            (f"{role}: patient list", who, patients, None),
            (
                f"{role}: patient list, page {DEEP_PAGE}",
                who,
                f"{patients}?p={DEEP_PAGE}",
                None,
            ),
            (f"{role}: list by date of birth", who, f"{patients}?o=2", None),
            (f"{role}: list by name, reversed", who, f"{patients}?o=-1", None),
            (
                f"{role}: list, archived only",
                who,
                f"{patients}?status__exact=archived",
                None,
            ),
            (f"{role}: search exact MRN", who, patients, one.mrn),
            (
                f"{role}: search date of birth",
                who,
                patients,
                f"{one.date_of_birth:%d/%m/%Y}",
            ),
            (f"{role}: search family-name prefix", who, patients, one.family_name[:4]),
            (
                f"{role}: search misspelt name",
                who,
                patients,
                one.family_name[:-1] + "x",
            ),
        ]
    rows += [
        (
            "clinician: patient page",
            "bench-clinician",
            reverse("admin:patients_patient_change", args=[chart.pk]),
            None,
        ),
        (
            "clinician: full chart summary",
            "bench-clinician",
            reverse("admin:patients_patient_summary", args=[chart.pk]),
            None,
        ),
        (
            "clinician: assessments",
            "bench-clinician",
            reverse("admin:patients_assessment_changelist"),
            None,
        ),
        (
            "clinician: visits",
            "bench-clinician",
            reverse("admin:clinical_records_clinicalrecord_changelist"),
            None,
        ),
        (
            "clinician: media",
            "bench-clinician",
            reverse("admin:patients_mediafile_changelist"),
            None,
        ),
        ("clinician: dashboard", "bench-clinician", reverse("admin:index"), None),
        (
            "data manager: imports",
            "bench-manager",
            reverse("admin:imports_importjob_changelist"),
            None,
        ),
        (
            "data manager: exports",
            "bench-manager",
            reverse("admin:imports_exportjob_changelist"),
            None,
        ),
        ("data manager: dashboard", "bench-manager", reverse("admin:index"), None),
        ("admin: dashboard", "bench-admin", reverse("admin:index"), None),
        (
            "auditor: audit trail",
            "bench-auditor",
            reverse("admin:audit_auditevent_changelist"),
            None,
        ),
        (
            "auditor: audit trail, views only",
            "bench-auditor",
            reverse("admin:audit_auditevent_changelist") + "?action__exact=view",
            None,
        ),
        (
            "auditor: chart's audit report",
            "bench-auditor",
            reverse("admin:audit_auditevent_patient_report", args=[chart.pk]),
            None,
        ),
        ("auditor: dashboard", "bench-auditor", reverse("admin:index"), None),
    ]
    return rows


def _second_factor_passed(client, user) -> None:
    """The session passed the second step too, as after a sign-in with an
    authenticator app (django_otp.login keeps the device in the session)."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device, _ = TOTPDevice.objects.get_or_create(
        user=user, name="Bench app", defaults={"confirmed": True}
    )
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


def _trail_head_alike() -> None:
    """The same 50 newest audit events in both databases before the trail is timed.

    The trail names the records on its page reading each kind of record (visits,
    assessments, media) in one query, so its count follows the kinds among its 50
    newest events, not the table's size; and those differ between the two
    databases (the load benchmark saves visits and assessments into the
    million-chart one). Here the bench clinician opens the long chart and one of
    each of its records, in turn, 50 times: one kind of each on the first page."""
    from records.audit.models import Action
    from records.audit.services import audit_object
    from records.patients.repositories import patients_visible_to
    from records.users.models import User

    clinician = User.objects.get(username="bench-clinician")
    chart = patients_visible_to(clinician).order_by("pk").first()
    opened = [chart] + [
        related.order_by("pk").first()
        for related in (
            chart.clinical_records,
            chart.assessments,
            chart.media_files,
        )
    ]
    opened = [record for record in opened if record is not None]
    for n in range(50):
        record = opened[n % len(opened)]
        audit_object(
            action=Action.VIEW,
            actor=clinician,
            obj=record,
            summary=f"view {record._meta.verbose_name} #{record.pk}",
        )


def measure(size: int, runs: int, only: str = "") -> dict:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from records.users.models import User

    clients = {}
    results = {}
    for name, username, url, term in pages(size):
        if only and only not in name:
            continue
        if username not in clients:
            client = Client()
            user = User.objects.get(username=username)
            client.force_login(user)
            _second_factor_passed(client, user)
            client.get(url, secure=True)  # the first request records its start
            clients[username] = client
        client = clients[username]
        if name == "auditor: audit trail":
            _trail_head_alike()
        if term is not None:  # the search box posts; the list keeps it by token
            url = client.post(url, {"_search": "1", "q": term}, secure=True)["Location"]
        times, counts = [], []
        for _ in range(runs + 1):
            connection.queries_log.clear()  # its 9,000 entries never fill up
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = client.get(url, secure=True)
                times.append((time.perf_counter() - started) * 1000)
            counts.append(len(queries))
            if response.status_code != 200:
                raise SystemExit(f"{name}: HTTP {response.status_code} at {url}")
        if f"p={DEEP_PAGE}" in url:
            shown = response.context["cl"]
            if len(shown.result_list) != shown.list_per_page:
                raise SystemExit(f"{name}: not a full page at {size:,} charts")
        times, counts = sorted(times[1:]), counts[1:]
        usual = statistics.mode(counts)
        results[name] = {
            "p95": times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))],
            "median": statistics.median(times),
            # What the page's requests make, not what its last one made; a count
            # one of them made besides is printed beside it.
            "queries": usual,
            "other_counts": sorted(set(counts) - {usual}),
        }
    return results


# --- the run -----------------------------------------------------------------------


def _progress(message: str) -> None:
    print(f"  .. {message}", file=sys.stderr, flush=True)


def child(size: int, phase: str, rebuild: bool, runs: int, only: str) -> None:
    os.environ["DATABASE_URL"] = f"postgres:///ndas_bench_scale_{size}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ndas.settings")
    os.environ["DEBUG"] = "False"
    os.environ.setdefault("SECRET_KEY", "bench-" + "x" * 50)
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    os.environ["NDAS_WORK"] = "command" if phase == "build" else "web"
    import django

    django.setup()
    if phase == "build":
        build(size, rebuild)
    else:
        from django.core.management import call_command
        from django.test.utils import setup_test_environment

        if not (ROOT / "staticfiles" / "staticfiles.json").exists():
            call_command("collectstatic", interactive=False, verbosity=0)
        setup_test_environment()  # testserver host, the locmem mail
        import ndas.wsgi  # noqa: F401 (as gunicorn loads it: what it loaded, frozen)

        print(json.dumps(measure(size, runs, only)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,1000000")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument(
        "--only", default="", metavar="WORDS", help="time only pages naming these"
    )
    parser.add_argument(
        "--child", nargs=2, metavar=("SIZE", "PHASE"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        child(int(args.child[0]), args.child[1], args.rebuild, args.runs, args.only)
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    measured = {}
    for size in sizes:
        for phase in ("build", "time"):
            _progress(f"{size:,} charts: {phase}")
            command = [sys.executable, __file__, "--child", str(size), phase]
            command += ["--runs", str(args.runs), "--only", args.only] + (
                ["--rebuild"] if args.rebuild else []
            )
            out = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True)
            if phase == "time":
                measured[size] = json.loads(out.stdout)
    small, large = sizes[0], sizes[-1]
    print(
        f"\nIn-process p95 of {args.runs} requests (ms), {small:,} and {large:,} "
        f"charts; goal at {large:,}: <= {GOAL_MS:.0f} ms and <= {GOAL_RATIO:.0f} x the "
        f"{small:,} figure, the same queries"
    )
    print(
        f"{'page':44} {'p95 small':>9} {'p95 large':>9} {'ratio':>6} "
        f"{'queries':>9}  goal"
    )
    met = 0
    for name, a in measured[small].items():
        b = measured[large][name]
        ratio = b["p95"] / a["p95"]
        ok = (
            b["p95"] <= GOAL_MS and ratio <= GOAL_RATIO and a["queries"] == b["queries"]
        )
        met += ok
        queries = f"{a['queries']}/{b['queries']}"
        print(
            f"{name:44} {a['p95']:9.1f} {b['p95']:9.1f} {ratio:6.2f} {queries:>9}  "
            f"{'met' if ok else 'NOT MET'}{_now_and_then(a, b)}"
        )
    print(f"\n{met} of {len(measured[small])} pages meet the goal.")


def _now_and_then(small: dict, large: dict) -> str:
    """The counts a page's requests made now and then, besides their usual one."""
    said = [
        f"{size}: {', '.join(map(str, result.get('other_counts', [])))}"
        for size, result in (("small", small), ("large", large))
        if result.get("other_counts")
    ]
    return f"  (now and then {'; '.join(said)})" if said else ""


if __name__ == "__main__":
    main()
