"""Server CPU per request of the main pages, against Django's stock admin.
(One script past 400 lines: the stock admin it times against belongs beside it.)

Issue #15's goal: each main page (a list of 50 rows, a search, a chart) costs at most
40 ms of server CPU, so that two cores serve 50 requests a second. The time that
counts is this process's CPU (time.process_time), not the clock: other work on the
machine stretches the clock, not the CPU a request burns. Each page is requested
in-process through Django's test client, with DEBUG off and the web's settings (as
bench/scale_bench.py's timing child), after a warm-up, --runs times; the median CPU is
printed, with the part spent inside the database driver's calls, the SQL's wall
time and the query count.

The baseline, measured in the same run: Django's own admin (django.contrib.admin's
templates, no unfold, no NDAS mixins) listing the same 50 charts of the same
clinician, through the same access gate (patients_visible_to) and the same
middleware, with the list's columns as plain fields; and its change form of the same
chart with the same fields and three read-only tabular inlines of the latest 20
records. It is what Django itself costs for these rows: the ratio says what unfold
and NDAS add on top of it.

    .venv/bin/python bench/request_cpu.py                      # ndas_bench_scale_1000
    .venv/bin/python bench/request_cpu.py --database ndas_r3_1k --runs 30
    .venv/bin/python bench/request_cpu.py --profile "clinician: patient page"
"""

import argparse
import cProfile
import os
import pstats
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

GOAL_MS = 40.0
DEFAULT_DATABASE = "ndas_bench_scale_1000"
MAIN_PAGES = (
    "clinician: patient list",
    "admin: patient list",
    "clinician: search family-name prefix",
    "clinician: search misspelt name",
    "admin: search family-name prefix",
    "clinician: patient page",
    "clinician: full chart summary",
    "clinician: assessments",
    "clinician: visits",
)


def _setup(database: str) -> None:
    os.environ["DATABASE_URL"] = f"postgres:///{database}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ndas.settings")
    os.environ["DEBUG"] = "False"
    os.environ.setdefault("SECRET_KEY", "bench-" + "x" * 50)
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    os.environ["NDAS_WORK"] = "web"
    import django

    django.setup()
    from django.core.management import call_command

    if not (ROOT / "staticfiles" / "staticfiles.json").exists():
        call_command("collectstatic", interactive=False, verbosity=0)
    import ndas.wsgi  # noqa: F401 (as gunicorn loads it: what it loaded, frozen)


# --- the baseline: Django's stock admin -------------------------------------------


def stock_urlconf():
    """A URLconf with NDAS's own and a stock AdminSite ("stock") beside it."""
    import types

    from django.contrib import admin
    from django.urls import include, path

    from records.clinical_records.models import ClinicalRecord
    from records.patients.models import Assessment, MediaFile, Patient
    from records.patients.repositories import patients_visible_to

    site = admin.AdminSite(name="stock")

    def latest(model, fields, order):
        class Latest(admin.TabularInline):
            extra = 0
            max_num = 0
            can_delete = False

            def get_queryset(self, request):
                related = [
                    f.name
                    for f in model._meta.concrete_fields
                    if f.is_relation and f.name in fields
                ]
                return (
                    super()
                    .get_queryset(request)
                    .select_related(*related)
                    .order_by(*order)
                )

            def has_change_permission(self, request, obj=None):
                return False

            def has_add_permission(self, request, obj=None):
                return False

        Latest.model, Latest.fields, Latest.readonly_fields = model, fields, fields
        if model is MediaFile:
            Latest.fk_name = "patient"
        return Latest

    class LatestFormSet(admin.options.BaseInlineFormSet):
        def get_queryset(self):  # the latest 20, read once (as NDAS's tabs)
            if not hasattr(self, "_latest"):
                self._latest = list(super().get_queryset()[:20])
            return self._latest

    class StockPatientAdmin(admin.ModelAdmin):
        list_display = (
            "mrn",
            "family_name",
            "given_name",
            "date_of_birth",
            "sex",
            "status",
        )
        list_display_links = ("mrn", "family_name")
        list_filter = ("status", "sex")
        search_fields = ("mrn", "family_name")
        list_per_page = 50
        show_full_result_count = False
        change_list_template = STOCK + "change_list.html"
        change_form_template = STOCK + "change_form.html"
        fields = (
            "mrn",
            ("given_name", "family_name"),
            "preferred_name",
            "date_of_birth",
            "sex",
            ("gestational_age_weeks", "gestational_age_days"),
            "birth_weight_grams",
            "growth_reference",
            ("guardian_name", "guardian_relationship"),
            ("guardian_phone", "guardian_email"),
            "address_line1",
            "address_line2",
            ("city", "postcode"),
            ("status", "date_of_death"),
        )
        inlines = [
            latest(
                Assessment,
                ("assessor", "total_score", "outcome", "status"),
                ("-performed_on", "-pk"),
            ),
            latest(
                ClinicalRecord,
                ("clinician", "chief_complaint", "status"),
                ("-visit_date", "-pk"),
            ),
            latest(
                MediaFile,
                ("kind", "assessment", "uploaded_at"),
                ("-uploaded_at", "-pk"),
            ),
        ]

        def get_queryset(self, request):
            return patients_visible_to(request.user)

    for inline in StockPatientAdmin.inlines:
        inline.formset = LatestFormSet
    site.register(Patient, StockPatientAdmin)
    module = types.ModuleType("request_cpu_urls")
    module.urlpatterns = [
        path("stock/", site.urls),
        path("", include("ndas.urls")),
    ]
    sys.modules[module.__name__] = module
    return module.__name__


STOCK = "templates/admin/"  # only the second engine below finds these names


def stock_templates() -> list[dict]:
    """NDAS's template engine, then one that finds django.contrib.admin's own
    templates (no unfold) for the names starting with STOCK: the stock admin's
    pages name theirs so, and everything they include or extend ("admin/...")
    is found by that engine in Django's own directory. Both engines at once, so
    that the baselines can be timed between NDAS's pages."""
    import django.contrib.admin
    from django.conf import settings

    ndas = settings.TEMPLATES[0]
    contrib = Path(django.contrib.admin.__file__).parent
    stock = {
        **ndas,
        "NAME": "stock",
        "DIRS": [contrib, contrib / "templates"],
        "APP_DIRS": False,
    }
    return [ndas, stock]


# --- timing -----------------------------------------------------------------------


class SqlTimer:
    """Wall and CPU time inside the database driver's execute calls."""

    def __init__(self):
        self.wall = self.cpu = 0.0
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return execute(sql, params, many, context)
        finally:
            self.wall += time.perf_counter() - wall
            self.cpu += time.process_time() - cpu
            self.count += 1


def clients():
    from django.test import Client

    from records.users.models import User
    from scale_bench import _second_factor_passed

    made = {}

    def client_for(username):
        if username not in made:
            client = Client()
            user = User.objects.get(username=username)
            client.force_login(user)
            _second_factor_passed(client, user)
            made[username] = client
        return made[username]

    return client_for


def targets() -> list[tuple[str, str, str, str | None]]:
    """(name, username, url, search term) of the main pages, then the baselines."""
    from django.urls import reverse

    from records.patients.repositories import patients_visible_to
    from records.users.models import User
    from scale_bench import pages

    chosen = {row[0]: row for row in pages(0)}
    rows = [chosen[name] for name in MAIN_PAGES]
    clinician = User.objects.get(username="bench-clinician")
    chart = patients_visible_to(clinician).order_by("pk").first()
    rows += [
        (
            "baseline: stock admin list",
            "bench-clinician",
            reverse("stock:patients_patient_changelist"),
            None,
        ),
        (
            "baseline: stock admin search",
            "bench-clinician",
            reverse("stock:patients_patient_changelist")
            + "?q="
            + chosen["clinician: search family-name prefix"][3],
            None,
        ),
        (
            "baseline: stock admin chart",
            "bench-clinician",
            reverse("stock:patients_patient_change", args=[chart.pk]),
            None,
        ),
    ]
    return rows


def _resolve(client, url: str, term: str | None) -> str:
    if term is None:
        return url
    # The search box posts; the list keeps the term by token (no name in the URL).
    return client.post(url, {"_search": "1", "q": term}, secure=True)["Location"]


def measure(runs: int, only: str | None = None) -> dict:
    """Each page --runs times, in rounds (every page once a round), so that the
    pages and their baselines share whatever else the machine is doing."""
    from django.db import connection

    client_for = clients()
    pages = []
    for name, username, url, term in targets():
        if only and only not in name and not name.startswith("baseline"):
            continue
        client = client_for(username)
        pages.append((name, client, _resolve(client, url, term)))
    timings = {name: [] for name, _, _ in pages}
    for round_ in range(runs + 2):  # two warm-ups: the caches and the templates
        for name, client, url in pages:
            timer = SqlTimer()
            with connection.execute_wrapper(timer):
                started, clock = time.process_time(), time.perf_counter()
                response = client.get(url, secure=True)
                cpu = (time.process_time() - started) * 1000
                wall = (time.perf_counter() - clock) * 1000
            if response.status_code != 200:
                raise SystemExit(f"{name}: HTTP {response.status_code} at {url}")
            if round_ >= 2:
                timings[name].append(
                    (cpu, wall, timer.cpu * 1000, timer.wall * 1000, timer.count)
                )
    results = {}
    for name, rows in timings.items():
        cpu, wall, sql_cpu, sql_wall, queries = zip(*rows)
        results[name] = {
            "cpu": statistics.median(cpu),
            "cpu_min": min(cpu),
            "wall": statistics.median(wall),
            "sql_cpu": statistics.median(sql_cpu),
            "sql_wall": statistics.median(sql_wall),
            "queries": max(queries),
        }
    return results


def profile(name: str, runs: int, lines: int) -> None:
    client_for = clients()
    for page, username, url, term in targets():
        if page != name:
            continue
        client = client_for(username)
        url = _resolve(client, url, term)
        client.get(url, secure=True)
        profiler = cProfile.Profile(time.process_time)  # CPU: no waits on PostgreSQL
        profiler.enable()
        for _ in range(runs):
            client.get(url, secure=True)
        profiler.disable()
        stats = pstats.Stats(profiler).sort_stats("cumulative")
        stats.print_stats(lines)
        stats.sort_stats("tottime").print_stats(lines)
        return
    raise SystemExit(f"no page named {name!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=DEFAULT_DATABASE)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--profile", metavar="PAGE", help="cProfile one page")
    parser.add_argument("--lines", type=int, default=40)
    parser.add_argument(
        "--only", metavar="WORDS", help="time only the pages whose name holds these"
    )
    args = parser.parse_args()
    if args.database == DEFAULT_DATABASE:  # built (once) by the scale benchmark
        subprocess.run(
            [sys.executable, str(ROOT / "bench" / "scale_bench.py")]
            + ["--child", "1000", "build"],
            check=True,
        )
    _setup(args.database)
    from django.test.utils import override_settings

    with override_settings(ROOT_URLCONF=stock_urlconf(), TEMPLATES=stock_templates()):
        if args.profile:
            profile(args.profile, args.runs, args.lines)
            return
        load = os.getloadavg()[0]
        results = measure(args.runs, args.only)
    base = {
        "list": results["baseline: stock admin list"]["cpu"],
        "search": results["baseline: stock admin search"]["cpu"],
        "chart": results["baseline: stock admin chart"]["cpu"],
    }
    print(
        f"\nServer CPU per request (process_time, median of {args.runs}), DEBUG off, "
        f"database {args.database}, load average {load:.1f} at the start; goal: "
        f"<= {GOAL_MS:.0f} ms per main page"
    )
    print(
        f"{'page':40} {'cpu ms':>7} {'min':>6} {'in db':>6} {'sql wall':>8} "
        f"{'wall':>6} {'q':>3} {'x stock':>7}  goal"
    )
    met = 0
    for name, r in results.items():
        kind = (
            "search"
            if "search" in name
            else "chart" if "page" in name or "chart" in name else "list"
        )
        ratio = r["cpu"] / base[kind]
        ok = r["cpu"] <= GOAL_MS
        if not name.startswith("baseline"):
            met += ok
        print(
            f"{name:40} {r['cpu']:7.1f} {r['cpu_min']:6.1f} {r['sql_cpu']:6.1f} "
            f"{r['sql_wall']:8.1f} {r['wall']:6.1f} {r['queries']:3d} {ratio:7.2f}  "
            f"{'-' if name.startswith('baseline') else 'met' if ok else 'NOT MET'}"
        )
    timed = len(results) - len(base)
    print(f"\n{met} of {timed} main pages within {GOAL_MS:.0f} ms of CPU.")


if __name__ == "__main__":
    main()
