"""A list costs the same queries at 5 charts and at 500, and the clinician's list
never reads the whole grant table: the page's cost must not grow with the table."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from records.clinical_records.repositories import patients_for_admin
from records.patients.models import Patient
from records.users import roles
from tests import factories
from tests.helpers import whole_counts
from tests.factories import charts_bulk_create

pytestmark = pytest.mark.django_db

LISTS = (
    "patients_patient",
    "patients_assessment",
    "clinical_records_clinicalrecord",
    "patients_mediafile",
    "patients_breakglassgrant",
    "audit_auditevent",
    "users_loginevent",
    "imports_importjob",
    "imports_exportjob",
    "users_user",
)


def _queries(client, url) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        status = client.get(url).status_code
    return status, len(queries)


@pytest.mark.parametrize("role", [roles.CLINICIAN, roles.ADMINISTRATOR])
def test_every_list_costs_the_same_queries_at_5_and_500_charts(make_user, role):
    user = make_user(f"user-{role[:4].lower()}", roles=[role])
    staff = factories.clinician("bulk-staff")
    teams = [factories.team("Ours", user, staff), factories.team("Theirs", staff)]
    charts_bulk_create(5, teams=teams, staff=staff)
    client = Client()
    client.force_login(user)
    urls = {name: reverse(f"admin:{name}_changelist") for name in LISTS}
    for url in urls.values():
        client.get(url)  # a session's first requests record its start
    few = {name: _queries(client, url) for name, url in urls.items()}
    assert few["patients_patient"][0] == 200
    charts_bulk_create(495, teams=teams, staff=staff, start=5)
    assert Patient.objects.count() == 500
    many = {name: _queries(client, url) for name, url in urls.items()}
    assert many == few


CHART_LISTS = LISTS[:4]


@pytest.mark.parametrize("role", [roles.CLINICIAN, roles.ADMINISTRATOR])
def test_no_chart_list_counts_its_table(make_user, role):
    """A list's size is read with LIMIT or estimated (admin_ext/admin/counts.py):
    a COUNT of 300,000 visits with the access check was most of a page's time."""
    user = make_user(f"counter-{role[:4].lower()}", roles=[role])
    staff = factories.clinician("count-staff")
    charts_bulk_create(5, teams=[factories.team("Ours", user, staff)], staff=staff)
    client = Client()
    client.force_login(user)
    for name in CHART_LISTS:
        url = reverse(f"admin:{name}_changelist")
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        assert whole_counts(q["sql"] for q in queries) == [], name


GRANTS = "patients_patientgroupobjectpermission"


def _grant_rows_read(queryset) -> int:
    """Rows the query's plan actually read from the grant table (EXPLAIN ANALYZE),
    and whether any node scanned it whole."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
        (plan,) = cursor.fetchone()[0]
    rows, nodes = 0, [plan["Plan"]]
    while nodes:
        node = nodes.pop()
        nodes += node.get("Plans", [])
        if node.get("Relation Name") == GRANTS:
            assert node["Node Type"] != "Seq Scan", "the grant table read whole"
            rows += node["Actual Rows"] * node["Actual Loops"]
            rows += node.get("Rows Removed by Filter", 0)
    return rows


def test_the_clinicians_list_never_reads_the_grant_table_whole(make_user):
    """Three teams of 8,000 charts and one of 20: a clinician in two of the big
    ones walks the list's index and tests each chart's grant by index; one in the
    small team starts from its grants. Each reads a page's worth of grants, not
    the 32,000 grants of their teams."""
    staff = factories.clinician("bulk-staff")
    wide = make_user("wide", roles=[roles.CLINICIAN])
    narrow = make_user("narrow", roles=[roles.CLINICIAN])
    big = [factories.team(f"Big {n}", staff) for n in range(3)]
    small = factories.team("Small", narrow)
    for team in big[:2]:
        wide.groups.add(team.group)
    charts_bulk_create(24_000, teams=big, staff=staff, records=False)
    charts_bulk_create(20, teams=[small], staff=staff, records=False, start=24_000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE patients_patient")
        cursor.execute(f"ANALYZE {GRANTS}")
    for user, shown in ((wide, 50), (narrow, 20)):
        page = patients_for_admin(user).order_by(*Patient._meta.ordering)[:50]
        assert len(list(page)) == shown
        assert _grant_rows_read(page) < 1_000
