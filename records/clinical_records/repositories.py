"""Reads of visit records, limited to the charts the user may see, and the reads of a
chart that take its visits along (the whole chart, the changelist's latest visit)."""

from django.db.models import OuterRef, Prefetch, QuerySet, Subquery

from records.clinical_records.models import ClinicalRecord
from records.patients.models import Assessment, MediaFile, Patient
from records.patients.repositories import patients_visible_to, records_visible_to


def clinical_records_visible_to(user) -> QuerySet[ClinicalRecord]:
    return records_visible_to(ClinicalRecord, user)


def patient_chart(*, user, pk) -> Patient:
    """A chart with its assessments, visits and media loaded in a fixed few queries."""
    return (
        patients_visible_to(user)
        .prefetch_related(
            Prefetch(
                "assessments",
                queryset=Assessment.objects.select_related("assessor"),
            ),
            Prefetch(
                "clinical_records",
                queryset=ClinicalRecord.objects.select_related("clinician"),
            ),
            Prefetch(
                "media_files",
                queryset=MediaFile.objects.select_related("assessment"),
            ),
        )
        .get(pk=pk)
    )


def patients_for_admin(user) -> QuerySet[Patient]:
    """The changelist's rows: each with the date of its latest visit."""
    latest_visit = (
        ClinicalRecord.objects.filter(patient=OuterRef("pk"))
        .order_by("-visit_date")
        .values("visit_date")[:1]
    )
    return patients_visible_to(user).annotate(last_visit=Subquery(latest_visit))
