"""The demo clinician's worklist shows each of its parts: a draft, a follow-up due,
an overdue one and a growth alert, on charts of their teams."""

import pytest

from records.charts import worklist
from records.demo.charts import DemoChartsResult, demo_charts_ensure
from records.clinical_records.models import ClinicalRecord
from records.patients.models import Assessment, MediaFile
from records.users import roles

pytestmark = pytest.mark.django_db


def test_the_demo_clinician_has_a_worklist(make_user, settings, s3_storage):
    settings.DEBUG = True
    clinician = make_user("clinician", roles=[roles.CLINICIAN])
    admin = make_user("admin", roles=[roles.ADMINISTRATOR])
    seeded = demo_charts_ensure(acting_user=admin, count=6)
    assert seeded == DemoChartsResult(
        patients=6,
        assessments=Assessment.objects.count(),
        visits=ClinicalRecord.objects.count(),
        media=MediaFile.objects.count(),
    )
    work = worklist.worklist(user=clinician)
    assert work.drafts.rows
    assert any(not f.overdue for f in work.follow_ups.rows)
    assert any(f.overdue for f in work.follow_ups.rows)
    kinds = {a.alert.kind for a in work.alerts.rows}
    assert "weight_faltering" in kinds
    # The worklist's charts are the clinician's own (their teams).
    assert {a.patient.pk for a in work.alerts.rows} <= set(
        worklist.repositories.patients_by_team(clinician).values_list("pk", flat=True)
    )
