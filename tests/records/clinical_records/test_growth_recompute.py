"""manage.py growth_recompute fills the figures of visits that have none."""

import io

import pytest
from django.core.management import call_command

from records.clinical_records.management.commands.growth_recompute import FIELDS
from records.clinical_records.models import ClinicalRecord
from tests import factories

pytestmark = pytest.mark.django_db


def test_visits_without_figures_get_them_as_a_save_would(make_user):
    doctor = factories.clinician()
    patient = factories.patient(acting_user=doctor)
    visits = [factories.visit(acting_user=doctor, patient=patient) for _ in range(3)]
    saved = {v.pk: [getattr(v, f) for f in FIELDS] for v in visits}
    assert all(any(values) for values in saved.values())
    ClinicalRecord.objects.update(**{field: None for field in FIELDS})
    out = io.StringIO()
    call_command("growth_recompute", "--batch", "2", stdout=out)
    assert "computed for 3 visits" in out.getvalue()
    for visit in ClinicalRecord.objects.all():
        assert [getattr(visit, f) for f in FIELDS] == saved[visit.pk]
    out = io.StringIO()
    call_command("growth_recompute", stdout=out)  # nothing left: nothing done
    assert "computed for 0 visits" in out.getvalue()
