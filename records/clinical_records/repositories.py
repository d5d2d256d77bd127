"""Reads of visit records, limited to the charts the user may see."""

from django.db.models import QuerySet

from records.clinical_records.models import ClinicalRecord
from records.patients.repositories import patients_visible_to


def clinical_records_visible_to(user) -> QuerySet[ClinicalRecord]:
    return ClinicalRecord.objects.filter(
        patient__in=patients_visible_to(user).values("pk")
    )
