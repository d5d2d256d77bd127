"""Reads of visit records, limited to the charts the user may see."""

from django.db.models import QuerySet

from records.clinical_records.models import ClinicalRecord
from records.patients.repositories import records_visible_to


def clinical_records_visible_to(user) -> QuerySet[ClinicalRecord]:
    return records_visible_to(ClinicalRecord, user)
