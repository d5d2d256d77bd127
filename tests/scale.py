"""Charts made in bulk for tests of size (query counts, plans): no history, no
audit, no files in storage, only rows as the lists read them."""

import uuid
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth.models import Permission

from records.clinical_records.models import ClinicalRecord
from records.patients.models import (
    Assessment,
    MediaFile,
    Patient,
    PatientGroupObjectPermission,
)


def charts_bulk_create(
    count: int, *, teams, staff, start: int = 0, records: bool = True
) -> list[Patient]:
    """`count` charts, dealt round the `teams` in turn, each (with `records`) with
    an assessment, a visit and a media file recorded by `staff`."""
    born = date(2020, 1, 1)
    patients = Patient.objects.bulk_create(
        Patient(
            mrn=f"BULK-{n:07d}",
            given_name=("Amara", "Noah", "Isla", "Leo")[n % 4],
            family_name=f"Bulkley{n}",
            date_of_birth=born + timedelta(days=n % 900),
            sex="female",
        )
        for n in range(start, start + count)
    )
    permissions = list(
        Permission.objects.filter(
            content_type__app_label="patients",
            codename__in=("view_patient", "change_patient"),
        )
    )
    PatientGroupObjectPermission.objects.bulk_create(
        PatientGroupObjectPermission(
            content_object=patient,
            group_id=teams[n % len(teams)].group_id,
            permission=permission,
        )
        for n, patient in enumerate(patients)
        for permission in permissions
    )
    if not records:
        return patients
    Assessment.objects.bulk_create(
        Assessment(
            patient=patient,
            instrument="hine",
            performed_on=patient.date_of_birth + timedelta(days=90),
            assessor=staff,
            total_score=Decimal("60"),
            outcome="typical",
        )
        for patient in patients
    )
    ClinicalRecord.objects.bulk_create(
        ClinicalRecord(
            patient=patient,
            visit_date=patient.date_of_birth + timedelta(days=100),
            visit_type="follow_up",
            clinician=staff,
            diagnoses=["F84.0"],
        )
        for patient in patients
    )
    MediaFile.objects.bulk_create(
        MediaFile(
            patient=patient,
            kind="image",
            file=f"media/{uuid.uuid4().hex}.png",
            original_name="scan.png",
            content_type="image/png",
            size_bytes=100,
            sha256="0" * 64,
            uploaded_by=staff,
        )
        for patient in patients
    )
    return patients
