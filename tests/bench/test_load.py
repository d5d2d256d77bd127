"""bench/load.py's own parts: who the simulated staff are, what they do, the forms
they read and post, and the sessions they are given (locust itself never runs here)."""

import email
import re
from datetime import date, timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.contrib.auth.models import Group
from django.test import Client

from bench.load import (
    AUDITOR,
    CLINICIAN,
    MANAGER,
    ROLE_SHARES,
    TASKS,
    Phase,
    apportion,
    merged,
    parse_range,
    percentile,
    schedule,
    signed_in_session,
    staff_users,
    task_table,
)
from bench.load_browser import (
    form_errors,
    form_fields,
    form_options,
    import_file,
    multipart,
    typical_growth,
)
from records.users import roles
from records.users.models import User
from tests import factories


def test_think_times_are_read_as_low_and_high_seconds():
    assert parse_range("0.5,2") == (0.5, 2.0)
    assert parse_range("5-15") == (5.0, 15.0)
    for wrong in ("2,1", "-1,2", "1,601", "1"):
        with pytest.raises(ValueError):
            parse_range(wrong)


@pytest.mark.parametrize(
    "users, expected",
    [
        (50, {CLINICIAN: 45, MANAGER: 3, AUDITOR: 2}),
        (200, {CLINICIAN: 180, MANAGER: 12, AUDITOR: 8}),
        (3, {CLINICIAN: 1, MANAGER: 1, AUDITOR: 1}),
        (7, {CLINICIAN: 5, MANAGER: 1, AUDITOR: 1}),
        (1, {CLINICIAN: 1, MANAGER: 0, AUDITOR: 0}),
    ],
)
def test_people_are_dealt_roles_by_their_shares(users, expected):
    assert apportion(users) == expected


def test_one_role_does_its_own_tasks_and_the_single_person_the_whole_mix():
    clinician = task_table([CLINICIAN])
    assert {(role, name) for role, name, _ in clinician} == {
        (CLINICIAN, name) for name in TASKS[CLINICIAN]
    }
    everyone = task_table(ROLE_SHARES)
    by_role = {role: 0.0 for role in ROLE_SHARES}
    for role, _, weight in everyone:
        by_role[role] += weight
    # Each role's tasks weigh what that role's share of staff does.
    assert by_role == pytest.approx(ROLE_SHARES)


PAGE = """
<form id="search"><input name="q" value="x"></form>
<form id="record_form" method="post">
  <input type="hidden" name="csrfmiddlewaretoken" value="tok">
  <input name="visit_date" value="">
  <input type="checkbox" name="make_final">
  <input type="checkbox" name="columns" value="mrn" checked>
  <input type="checkbox" name="columns" value="sex" checked>
  <input type="radio" name="file_format" value="csv" checked>
  <input type="radio" name="file_format" value="xlsx">
  <input type="file" name="upload">
  <input type="submit" name="_save" value="Save">
  <input name="locked" value="1" disabled>
  <select name="visit_type"><option value="">Select value</option>
    <option value="follow_up">Follow-up</option></select>
  <select name="clinician"><option value="1">A</option>
    <option value="2" selected>B</option></select>
  <textarea name="examination">
Well child.</textarea>
</form>
"""


def test_a_form_is_read_as_a_browser_posts_it():
    assert form_fields(PAGE, form_id="record_form") == {
        "csrfmiddlewaretoken": ["tok"],
        "visit_date": [""],
        "columns": ["mrn", "sex"],
        "file_format": ["csv"],
        "visit_type": [""],
        "clinician": ["2"],
        "examination": ["Well child."],
    }
    assert form_fields(PAGE, having="q") == {"q": ["x"]}
    assert form_fields(PAGE, having="file_format")["file_format"] == ["csv"]
    with pytest.raises(LookupError):
        form_fields(PAGE, form_id="missing")
    assert form_options(PAGE, "visit_type") == ["follow_up"]


def test_an_upload_is_encoded_as_multipart_form_data():
    body, kind = multipart(
        {"reason": "Load", "mode": "create_only"}, "file", "a.csv", b"x,y\n"
    )
    message = email.message_from_bytes(f"Content-Type: {kind}\r\n\r\n".encode() + body)
    parts = {
        part.get_param("name", header="content-disposition"): part
        for part in message.get_payload()
    }
    assert parts["reason"].get_payload() == "Load"
    assert parts["mode"].get_payload() == "create_only"
    assert parts["file"].get_filename() == "a.csv"
    assert parts["file"].get_payload(decode=True) == b"x,y\n"


def test_a_managers_import_file_keeps_to_their_own_ten_charts():
    first, later = import_file(3, 1).decode(), import_file(3, 2).decode()
    rows = first.splitlines()[1:]
    mrns = [row.split(",")[0] for row in rows]
    assert len(rows) == 10 and len(set(mrns)) == 10
    assert all(re.fullmatch(settings.PATIENT_MRN_PATTERN, mrn) for mrn in mrns)
    assert [row.split(",")[0] for row in later.splitlines()[1:]] == mrns
    assert first != later  # the next import changes them: rows updated
    assert import_file(4, 1).splitlines()[1] != import_file(3, 1).splitlines()[1]


@pytest.fixture
def bench_staff(db):
    team = factories.team("Bench team")
    for role, name in (
        (roles.CLINICIAN, "bench-clinician"),
        (roles.DATA_MANAGER, "bench-manager"),
        (roles.AUDITOR, "bench-auditor"),
    ):
        user = User.objects.create(username=name, is_staff=True)
        user.groups.add(Group.objects.get(name=role))
    User.objects.get(username="bench-clinician").groups.add(team.group)
    return team


def test_more_clinicians_join_the_bench_clinicians_teams(bench_staff):
    made = staff_users({CLINICIAN: 3, MANAGER: 2, AUDITOR: 1})
    assert [u.username for u in made[CLINICIAN]] == [
        "bench-clinician",
        "bench-clinician-2",
        "bench-clinician-3",
    ]
    assert [u.username for u in made[MANAGER]] == ["bench-manager", "bench-manager-2"]
    third = User.objects.get(username="bench-clinician-3")
    assert set(third.groups.values_list("name", flat=True)) == {
        roles.CLINICIAN,
        "Bench team",
    }
    manager = User.objects.get(username="bench-manager-2")
    assert list(manager.groups.values_list("name", flat=True)) == [roles.DATA_MANAGER]
    # Made once: a second run reuses them.
    again = staff_users({CLINICIAN: 3, MANAGER: 1, AUDITOR: 1})
    assert [u.pk for u in again[CLINICIAN]] == [u.pk for u in made[CLINICIAN]]


def test_a_bench_session_is_signed_in_past_the_second_step(bench_staff):
    clinician = staff_users({CLINICIAN: 2, MANAGER: 1, AUDITOR: 1})[CLINICIAN][1]
    cookies = signed_in_session(clinician)
    assert set(cookies) == {settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME}
    browser = Client()
    for name, value in cookies.items():
        browser.cookies[name] = value
    page = browser.get("/admin/", secure=True)
    assert page.status_code == 200
    assert page.wsgi_request.user == clinician
    stranger = Client().get("/admin/", secure=True)
    assert stranger.status_code == 302


def test_a_visits_measurements_follow_the_childs_age():
    born = date(2020, 1, 1)
    assert typical_growth(born, born) == ("3.4", "50.0")
    ages = [born + timedelta(days=days) for days in range(0, 365 * 25, 90)]
    weights = [float(typical_growth(born, on)[0]) for on in ages]
    heights = [float(typical_growth(born, on)[1]) for on in ages]
    assert weights == sorted(weights) and heights == sorted(heights)
    assert typical_growth(born, date(2045, 1, 1)) == ("65.0", "175.0")


def test_a_save_that_did_not_save_says_why():
    page = (
        '<form><ul class="errorlist nonfield"><li>A visit of this type is '
        "already recorded on <b>3 May 2020</b>.</li></ul>"
        '<ul class="errorlist" id="id_weight_kg_error"><li>Too heavy.</li></ul></form>'
    )
    said = form_errors(page)
    assert said == (
        ": A visit of this type is already recorded on 3 May 2020 .; Too heavy."
    )
    assert form_errors("<form></form>") == ""
    note = (
        '<div class="errornote bg-red-100" role="alert" data-testid="form-errors">'
        "<p>Please correct the error below.</p><ul><li><a>Performed on</a>: "
        "Already recorded.</li></ul></div>"
    )
    assert form_errors(note) == (
        ": Please correct the error below. Performed on : Already recorded."
    )


def test_the_charts_sampled_know_the_days_that_hold_a_record(bench_staff):
    from bench.load import days_taken

    clinician = User.objects.get(username="bench-clinician")
    chart = factories.patient(acting_user=clinician, care_teams=[bench_staff])
    visit = factories.visit(acting_user=clinician, patient=chart)
    assessment = factories.assessment(acting_user=clinician, patient=chart)
    other = factories.patient(acting_user=clinician, care_teams=[bench_staff])
    assert days_taken(clinician, [chart.pk, other.pk]) == {
        chart.pk: sorted(
            {visit.visit_date.isoformat(), assessment.performed_on.isoformat()}
        ),
        other.pk: [],
    }


def test_a_percentile_of_a_histogram_is_locusts():
    """locust's rule (calculate_response_time_percentile), worked by hand: from
    the slowest down, the first time at which at most p of the requests remain."""
    times = {"10": 90, "50": 5, "200": 5}  # JSON's keys: strings
    assert percentile(times, 100, 0.5) == 10
    assert percentile(times, 100, 0.94) == 50
    assert percentile(times, 100, 0.95) == 200  # the slowest 5 % reach 200
    assert percentile({}, 0, 0.95) == 0


def _window(p95_times: dict, requests: int, web_cpu: float, errors=()) -> dict:
    return {
        "requests": requests,
        "failures": len(errors),
        "web_cpu_s": web_cpu,
        "db_cpu_s": 0.5,
        "locust_cpu_s": 0.25,
        "wall_s": 20.0,
        "times": p95_times,
        "p50": 0,
        "p95": 0,
        "by_name": {"list": {"count": requests, "failures": 0, "times": p95_times}},
        "errors": [(message, 1) for message in errors],
    }


def test_windows_of_a_phase_are_pooled_as_one_measurement():
    """A quick window and a slow one: the pooled p95 is read from all their
    requests, not averaged from the two p95s."""
    quick = _window({"20": 95, "40": 5}, 100, 2.0)
    slow = _window({"30": 50, "300": 50}, 100, 3.0, errors=["list: 500"])
    pooled = merged([quick, slow])
    assert pooled["requests"] == 200 and pooled["failures"] == 1
    assert pooled["web_cpu_s"] == 5.0 and pooled["wall_s"] == 40.0
    assert pooled["p50"] == 30 and pooled["p95"] == 300
    assert pooled["by_name"]["list"]["count"] == 200
    assert pooled["by_name"]["list"]["p95"] == 300
    assert pooled["errors"] == [("list: 500", 1)]
    assert merged([quick]) is quick  # one window: as measured


def test_the_single_person_and_the_fifty_take_turns():
    a = Phase("a", "one", 1, (0.0, 0.0), 15.0)
    b = Phase("b", "fifty", 50, (0.5, 2.0), 10.0)
    c = Phase("c", "day", 200, (5.0, 15.0), 25.0)
    turns = [(p.key, window) for p, window, _ in schedule([a, b, c], 60, 3)]
    assert turns == [("a", 20), ("b", 20)] * 3 + [("c", 60)]
    assert [(p.key, w) for p, w, _ in schedule([a, b, c], 60, 1)] == [
        ("a", 60),
        ("b", 60),
        ("c", 60),
    ]
    assert [p.key for p, _, _ in schedule([c], 60, 3)] == ["c"]


@pytest.mark.django_db(transaction=True)
def test_the_tables_runs_churn_are_vacuumed_before_a_run(make_user):
    from bench.load import CHURNED, vacuum_churned

    user = make_user("churn")
    for _ in range(3):  # sessions made and deleted, as a run does
        client = Client()
        client.force_login(user)
        client.logout()
    assert vacuum_churned() == list(CHURNED)
    assert "django_session" in CHURNED
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n_dead_tup, vacuum_count FROM pg_stat_user_tables "
            "WHERE relname = 'django_session'"
        )
        dead, vacuums = cursor.fetchone()
    assert dead == 0 and vacuums >= 1
