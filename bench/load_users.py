"""The simulated staff of bench/load.py: locust users working through the admin as
a browser does, run headless for one phase; prints the phase's stats as JSON.

Run by bench/load.py (`load_users.py <spec.json>`), in a process of its own:
locust patches the standard library for gevent as it is imported.
"""

import locust  # noqa: F401  first: gevent's monkey patching

import itertools  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import sys  # noqa: E402
from datetime import date, datetime, timedelta  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402
from locust import FastHttpUser, between, constant, task  # noqa: E402
from locust.env import Environment  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.load import (  # noqa: E402
    AUDITOR,
    CLINICIAN,
    MANAGER,
    ROLE_SHARES,
    apportion,
    pick,
    task_table,
)
from bench.load_browser import (  # noqa: E402
    form_errors,
    form_fields,
    form_options,
    import_file,
    multipart,
    typical_growth,
)

SPEC: dict = {}
DESKS: list[dict] = []
NEXT_DESK = itertools.count()
FORM = "application/x-www-form-urlencoded"


def desks(phase: dict, sessions: dict) -> list[dict]:
    """Who each simulated person is: {role: (index, cookies)}. The single person
    of a one-user phase holds a session of every role and does the whole mix."""
    if phase["users"] == 1:
        return [{role: (0, sessions[role][0]) for role in ROLE_SHARES}]
    people = [
        {role: (n, sessions[role][n])}
        for role, count in apportion(phase["users"]).items()
        for n in range(count)
    ]
    random.Random(phase["users"]).shuffle(people)  # roles mixed as they start
    return people


class Staff(FastHttpUser):
    wait_time = constant(0)

    def on_start(self):
        desk = DESKS[next(NEXT_DESK) % len(DESKS)]
        self.index = {role: n for role, (n, _) in desk.items()}
        self.cookies = {
            role: "; ".join(f"{name}={value}" for name, value in cookies.items())
            for role, (_, cookies) in desk.items()
        }
        csrf_name = SPEC["cookie_names"][1]
        self.csrf = {role: cookies[csrf_name] for role, (_, cookies) in desk.items()}
        self.table = task_table(desk)
        self.rng = random.Random(id(self))
        # Each import changes the guardian's name: its rows are updated, not
        # merely found unchanged (a different number in every phase and run).
        self.imports = itertools.count(random.randrange(10**6))

    @task
    def act(self):
        role, name = pick(self.table, self.rng)
        try:
            ACTIONS[role][name](self, role)
        except Exception as error:  # a page not as expected: an error, counted
            self.environment.events.request.fire(
                request_type="TASK",
                name=f"{role}: {name}",
                response_time=0,
                response_length=0,
                exception=error,
                context={},
            )

    # --- requests ---------------------------------------------------------------------

    def call(self, role, method, url, name, *, data=None, expect=200, kind=FORM):
        """One request as the signed-in browser sends it (over HTTPS, as the proxy
        tells gunicorn); an error unless it answers `expect`, and a redirect to
        the sign-in page or the second step always is one."""
        origin = "https://" + SPEC["host"].split("://", 1)[1]
        headers = {
            "X-Forwarded-Proto": "https",
            "Cookie": self.cookies[role],
            "User-Agent": "ndas-load-bench",
        }
        if method == "POST":
            headers.update(
                {"Origin": origin, "Referer": origin + url, "Content-Type": kind}
            )
        with self.client.request(
            method,
            url,
            name=f"{role}: {name}",
            data=data,
            headers=headers,
            catch_response=True,
            allow_redirects=False,
        ) as response:
            status = response.status_code
            location = (response.headers or {}).get("Location", "") or ""
            if status != expect:
                where = f" to {location.split('?')[0]}" if location else ""
                said = form_errors(response.text) if status == 200 else ""
                response.failure(f"HTTP {status}{where}, not {expect}{said}")
                return None
            if location.startswith(SPEC["urls"]["login"]) or "/mfa/" in location:
                response.failure(f"redirected to sign in: {location.split('?')[0]}")
                return None
            response.success()
            return response

    def get(self, role, url, name):
        return self.call(role, "GET", url, name)

    def post(self, role, url, name, fields, expect=302):
        body = "&".join(
            f"{quote(key)}={quote(value)}"
            for key, values in fields.items()
            for value in (values if isinstance(values, list) else [values])
        )
        return self.call(role, "POST", url, name, data=body, expect=expect)

    def chart(self):
        return self.rng.choice(SPEC["charts"])

    def think(self):
        """The person reads the page before the next click of the same task (a
        form filled, a report read): the phase's think time, as between tasks.
        A redirect the browser follows by itself is not a click."""
        self.wait()

    def search(self, role, term, name, url=None):
        """The list's search box: the term posted, the list opened by its token."""
        url = url or SPEC["urls"]["patients"]
        fields = {"csrfmiddlewaretoken": self.csrf[role], "_search": "1", "q": term}
        posted = self.post(role, url, "search (posted)", fields)
        if posted is None:
            return None
        location = posted.headers["Location"]
        if "s=" not in location:
            raise AssertionError("the search kept no token")
        page = self.get(role, location, name)
        return location if page is not None else None

    def save(self, role, add_url, form_id, name, values):
        """A new record through its add form: the page read, its fields posted
        back with the ones a clinician fills (`values(day, weight, height)`), Save. The
        day is drawn from the child's life: a chart has one visit of a type,
        and one assessment of an instrument, a day."""
        chart = self.chart()
        born = datetime.strptime(chart["date_of_birth"], "%d/%m/%Y").date()
        first = born + timedelta(days=30)
        span = max(0, (date.today() - first).days)
        taken = chart.setdefault("taken_days", set(chart.get("taken", ())))
        for _ in range(20):  # a day with no record yet (the chart's, this run's)
            on = first + timedelta(days=self.rng.randint(0, span))
            if on.isoformat() not in taken:
                break
        taken.add(on.isoformat())
        day = f"{on:%d/%m/%Y}"
        url = f"{add_url}?patient={chart['pk']}"
        page = self.get(role, url, f"{name} form")
        if page is None:
            return
        fields = form_fields(page.text, form_id=form_id)
        fields.update(
            {k: [v] for k, v in values(day, *typical_growth(born, on)).items()}
        )
        fields.update({"patient": [str(chart["pk"])], "_save": ["Save"]})
        self.think()
        saved = self.post(role, url, f"save {name}", fields)
        if saved is not None and "/summary/" not in saved.headers["Location"]:
            raise AssertionError("the saved record did not lead to its chart")


def quote(text: str) -> str:
    from urllib.parse import quote_plus

    return quote_plus(str(text))


# --- what each role does --------------------------------------------------------------


def clinician_actions():
    urls = SPEC["urls"]
    return {
        "patient list": lambda u, r: u.get(r, urls["patients"], "patient list"),
        "list page 2": lambda u, r: u.get(r, urls["patients"] + "?p=2", "list page 2"),
        "search MRN": lambda u, r: u.search(r, u.chart()["mrn"], "search MRN"),
        "search name prefix": lambda u, r: u.search(
            r, u.chart()["family_name"][:4], "search name prefix"
        ),
        "search date of birth": lambda u, r: u.search(
            r, u.chart()["date_of_birth"], "search date of birth"
        ),
        "open chart": open_chart,
        "chart details": chart_details,
        "assessments": lambda u, r: u.get(r, urls["assessments"], "assessments"),
        "visits": lambda u, r: u.get(r, urls["visits"], "visits"),
        "save visit": lambda u, r: u.save(
            r,
            urls["visit_add"],
            "clinicalrecord_form",
            "visit",
            lambda day, weight, height: {
                "visit_date": day,
                "visit_type": "follow_up",
                "chief_complaint": "Load bench review",
                "weight_kg": weight,
                "height_cm": height,
            },
        ),
        "save assessment": lambda u, r: u.save(
            r,
            urls["assessment_add"],
            "assessment_form",
            "assessment",
            lambda day, weight, height: {
                "instrument": "asq3",
                "performed_on": day,
                "total_score": "55",
                "outcome": "typical",
            },
        ),
    }


def open_chart(user, role):
    """What the list's row opens: the chart's summary."""
    pk = user.chart()["pk"]
    user.get(role, SPEC["urls"]["summary"].format(pk=pk), "chart summary")


def chart_details(user, role):
    """The patient's own page (the summary's Edit): demographics, latest records."""
    pk = user.chart()["pk"]
    user.get(role, SPEC["urls"]["chart"].format(pk=pk), "chart")


def patient_import(user, role):
    """Upload a small patient file, read its report, commit it, read it again."""
    urls = SPEC["urls"]
    page = user.get(role, urls["import_upload"], "import page")
    if page is None:
        return
    teams = [v for v in form_options(page.text, "care_team") if v.isdigit()]
    fields = {
        "csrfmiddlewaretoken": user.csrf[role],
        "entity": "patients",
        "mode": "create_or_update",
        "blank_keeps_value": "on",
        "reason": "Load bench import",
        "care_team": teams[0],
    }
    content = import_file(user.index[role] + 1, next(user.imports))
    body, kind = multipart(fields, "file", "load-bench.csv", content)
    user.think()
    upload = user.call(
        role,
        "POST",
        urls["import_upload"],
        "import upload",
        data=body,
        expect=302,
        kind=kind,
    )
    if upload is None:
        return
    report = upload.headers["Location"]
    if "/report/" not in report:
        raise AssertionError("the upload did not lead to its report")
    if user.get(role, report, "import report") is None:
        return
    commit = report.replace("/report/", "/commit/")
    fields = {"csrfmiddlewaretoken": user.csrf[role]}
    user.think()
    if user.post(role, commit, "import commit", fields) is None:
        return
    after = user.get(role, report, "import report")
    if after is not None and 'data-testid="status">Committed<' not in after.text:
        raise AssertionError("the import's report does not say Committed")


def patient_export(user, role):
    """The patient list searched by a date of birth, exported as CSV."""
    urls = SPEC["urls"]
    listed = user.search(role, user.chart()["date_of_birth"], "search date of birth")
    if listed is None:
        return
    url = urls["patient_export"] + "?" + listed.split("?", 1)[1]
    user.think()
    page = user.get(role, url, "export form")
    if page is None:
        return
    fields = form_fields(page.text, having="file_format")
    fields["csrfmiddlewaretoken"] = [user.csrf[role]]
    user.think()
    exported = user.post(role, url, "export CSV", fields, expect=200)
    if exported is not None and not exported.headers["Content-Type"].startswith(
        "text/csv"
    ):
        raise AssertionError("the export sent no CSV")


def manager_actions():
    urls = SPEC["urls"]
    return {
        "imports": lambda u, r: u.get(r, urls["imports"], "imports"),
        "exports": lambda u, r: u.get(r, urls["exports"], "exports"),
        "patient list": lambda u, r: u.get(r, urls["patients"], "patient list"),
        "import": patient_import,
        "export": patient_export,
    }


def auditor_actions():
    urls = SPEC["urls"]
    return {
        "audit trail": lambda u, r: u.get(r, urls["audit"], "audit trail"),
        "audit trail, views": lambda u, r: u.get(
            r, urls["audit"] + "?action__exact=view", "audit trail, views"
        ),
        "chart audit report": lambda u, r: u.get(
            r, urls["audit_report"].format(pk=u.chart()["pk"]), "chart audit report"
        ),
    }


ACTIONS: dict = {}


def main() -> None:
    SPEC.update(json.loads(Path(sys.argv[1]).read_text()))
    ACTIONS.update(
        {
            CLINICIAN: clinician_actions(),
            MANAGER: manager_actions(),
            AUDITOR: auditor_actions(),
        }
    )
    phase = SPEC["phase"]
    DESKS.extend(desks(phase, SPEC["sessions"]))
    low, high = phase["think"]
    Staff.host = SPEC["host"]
    Staff.wait_time = between(low, high) if high > 0 else constant(0)
    env = Environment(user_classes=[Staff])
    runner = env.create_local_runner()
    users = phase["users"]
    runner.start(users, spawn_rate=max(1.0, users / max(1.0, phase["ramp_s"] / 2)))
    gevent.sleep(phase["ramp_s"])
    env.stats.reset_all()
    print("MEASURING", flush=True)
    gevent.sleep(SPEC["duration"])
    runner.stop()
    print("DONE", flush=True)
    total = env.stats.total
    by_name = {
        entry.name: {
            "count": entry.num_requests,
            "failures": entry.num_failures,
            "p50": entry.get_response_time_percentile(0.5),
            "p95": entry.get_response_time_percentile(0.95),
            "times": entry.response_times,  # ms (rounded as locust does): count
        }
        for entry in env.stats.entries.values()
        if entry.num_requests
    }
    errors = sorted(
        (
            (f"{error.name}: {error.error}", error.occurrences)
            for error in env.stats.errors.values()
        ),
        key=lambda pair: -pair[1],
    )
    print(
        json.dumps(
            {
                "requests": total.num_requests,
                "failures": total.num_failures,
                "p50": total.get_response_time_percentile(0.5) or 0,
                "p95": total.get_response_time_percentile(0.95) or 0,
                "times": total.response_times,
                "by_name": by_name,
                "errors": errors,
            }
        ),
        flush=True,
    )
    runner.quit()


if __name__ == "__main__":
    main()
