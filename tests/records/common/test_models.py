"""Authorship (created_by, history_user) is named by id, with no constraint: the
database does not look the user up for each row an import writes."""

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.db.models import ProtectedError

from records.common.models import TimeStampedModel
from records.users.models import User
from records.users.receivers import E_USER_DELETE
from tests import factories

pytestmark = pytest.mark.django_db


def _authorship_columns() -> set[tuple[str, str]]:
    columns = set()
    for model in apps.get_models():
        if issubclass(model, TimeStampedModel):
            columns.add((model._meta.db_table, "created_by_id"))
        history = getattr(model, "history", None)
        if history is not None and hasattr(history, "model"):
            columns.add((history.model._meta.db_table, "history_user_id"))
    return columns


def test_no_authorship_column_has_a_foreign_key_constraint():
    columns = _authorship_columns()
    # Patients, assessments and visits, and the history of everything kept.
    assert ("patients_patient", "created_by_id") in columns
    assert ("patients_historicalpatient", "history_user_id") in columns
    assert ("users_historicaluser", "history_user_id") in columns
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT conrelid::regclass::text, attname
            FROM pg_constraint
            JOIN pg_attribute ON attrelid = conrelid AND attnum = ANY(conkey)
            WHERE contype = 'f'
            """)
        constrained = set(cursor.fetchall())
    assert columns & constrained == set()
    # The clinical references keep theirs: an assessment's assessor, say.
    assert ("patients_assessment", "assessor_id") in constrained


def test_authorship_still_names_the_user_and_follows_to_them():
    clinician = factories.clinician()
    patient = factories.patient(acting_user=clinician)

    assert patient.created_by == clinician
    assert patient.history.get().history_user == clinician


def test_a_user_is_never_deleted_so_history_keeps_their_name():
    clinician = factories.clinician()
    patient = factories.patient(acting_user=clinician)

    # Each in a savepoint: the refusal dooms the transaction it is raised in.
    with pytest.raises(ProtectedError, match=E_USER_DELETE), transaction.atomic():
        clinician.delete()
    with pytest.raises(ProtectedError, match=E_USER_DELETE), transaction.atomic():
        User.objects.filter(pk=clinician.pk).delete()

    assert User.objects.filter(pk=clinician.pk).exists()
    assert patient.history.get().history_user_id == clinician.pk
