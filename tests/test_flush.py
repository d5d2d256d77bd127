"""The teardown of transactional tests (tests/support/flush.py) leaves the database
as Django's own flush leaves it, and hands a test that wrote many rows to that flush."""

import pytest
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection
from django.test import TransactionTestCase
from psycopg import sql

from records.audit.models import AuditEvent
from records.patients.models import Patient
from records.users import roles
from records.users.models import LoginEvent
from tests import factories
from tests.support.flush import MANY_ROWS, FastFlush

pytestmark = pytest.mark.django_db(transaction=True)


class Case(TransactionTestCase):
    """What FastFlush.teardown is given: a transactional test on one database."""

    __test__ = False  # not a test of its own
    databases = {"default"}

    def runTest(self):
        pass


def contents():
    """Every table's row count, the content types, and each group's permissions."""
    tables = connection.introspection.django_table_names(
        only_existing=True, include_views=False
    )
    counts = {}
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(
                sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
            )
            counts[table] = cursor.fetchone()[0]
    groups = {
        group.name: sorted(
            group.permissions.values_list("content_type__app_label", "codename")
        )
        for group in Group.objects.all()
    }
    return counts, sorted(ContentType.objects.values_list("app_label", "model")), groups


@pytest.fixture
def flushed():
    """Django's flush (TRUNCATE, then post_migrate), what it left, and a fast flush
    that has kept those rows (as after the suite's first transactional test)."""
    call_command("flush", verbosity=0, interactive=False)
    fast = FastFlush(original=None)
    fast.kept = fast.capture()
    return contents(), fast


def test_the_fast_flush_leaves_what_djangos_flush_leaves(flushed):
    left, fast = flushed
    counts, _, groups = left
    assert counts["auth_permission"] and counts["django_content_type"]
    assert set(groups) == set(roles.ROLES)
    # A test's writes: a user and a patient (history and audit rows), a role
    # changed, a group added.
    clinician = factories.clinician()
    factories.patient(acting_user=clinician)
    Group.objects.get(name=roles.AUDITOR).permissions.clear()
    Group.objects.create(name="Extra")
    assert AuditEvent.objects.exists()
    assert contents() != left

    assert fast.fast()

    assert contents() == left


def test_many_rows_are_left_to_djangos_flush_whose_rows_are_kept_after(
    flushed, transactional_teardown_fast
):
    _, fast = flushed
    fast.original = transactional_teardown_fast.original
    LoginEvent.objects.bulk_create(
        LoginEvent(username=f"u{n}", kind=LoginEvent.Kind.FAILURE)
        for n in range(MANY_ROWS + 1)
    )
    assert not fast.fast()
    assert LoginEvent.objects.count() == MANY_ROWS + 1

    fast.teardown(Case())  # Django's flush: content types under new ids

    assert not LoginEvent.objects.exists()
    patient_type = ContentType.objects.get_for_model(Patient).pk
    factories.clinician()
    assert fast.fast()
    assert ContentType.objects.get_for_model(Patient).pk == patient_type
