"""Visit services: the record lifecycle (draft, final, amended, deleted) and BMI."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from records.clinical_records import services as visit_services
from records.clinical_records.models import ClinicalRecord
from records.common.errors import LockedRecordError
from tests import factories

pytestmark = pytest.mark.django_db
TODAY = date.today()


def test_visit_lifecycle_and_bmi(doctor, boss, patient):
    visit = factories.visit(
        acting_user=doctor,
        patient=patient,
        visit_date=TODAY - timedelta(days=1),
        weight_kg=Decimal("9.5"),
        height_cm=Decimal("75.0"),
    )
    assert visit.bmi == Decimal("16.9")
    visit_services.clinical_record_update(
        acting_user=doctor, record=visit, data={"weight_kg": Decimal("10.0")}
    )
    assert ClinicalRecord.objects.get(pk=visit.pk).bmi == Decimal("17.8")
    visit_services.clinical_record_finalize(acting_user=doctor, record=visit)
    with pytest.raises(LockedRecordError):
        visit_services.clinical_record_update(
            acting_user=doctor, record=visit, data={"examination": "x"}
        )
    visit_services.clinical_record_amend(
        acting_user=doctor,
        record=visit,
        data={"diagnoses": ["F84.0", "R62.0"]},
        reason="Added growth concern",
    )
    assert ClinicalRecord.objects.get(pk=visit.pk).diagnoses == ["F84.0", "R62.0"]
    visit_services.clinical_record_delete(acting_user=boss, record=visit, reason="Dup")
    assert not ClinicalRecord.objects.filter(pk=visit.pk).exists()
