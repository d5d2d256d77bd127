"""The growth figures of the visits recorded before there were any."""

from django.db import migrations

from records.clinical_records import growth, validators

FIELDS = [f"{n}_{k}" for n in growth.MEASUREMENTS for k in ("sds", "centile")]


def compute(apps, schema_editor):
    ClinicalRecord = apps.get_model("clinical_records", "ClinicalRecord")
    records = ClinicalRecord.objects.select_related("patient").order_by("pk")
    batch = []
    for record in records.iterator(chunk_size=500):
        patient = record.patient
        child = growth.GrowthInput(
            sex=patient.sex,
            born=patient.date_of_birth,
            on=record.visit_date,
            reference=patient.growth_reference,
            gestation_weeks=patient.gestational_age_weeks,
            gestation_days=patient.gestational_age_days,
        )
        values = {
            "weight": record.weight_kg,
            "height": record.height_cm,
            "head_circumference": record.head_circumference_cm,
            "bmi": validators.bmi(record.weight_kg, record.height_cm),
        }
        for name, figure in growth.visit_figures(child, values).items():
            setattr(record, f"{name}_sds", figure.sds)
            setattr(record, f"{name}_centile", figure.centile)
        batch.append(record)
        if len(batch) >= 500:
            ClinicalRecord.objects.bulk_update(batch, FIELDS)
            batch = []
    if batch:
        ClinicalRecord.objects.bulk_update(batch, FIELDS)


class Migration(migrations.Migration):

    dependencies = [
        ("clinical_records", "0007_growth_figures"),
        ("patients", "0009_growth_reference"),
    ]

    operations = [migrations.RunPython(compute, migrations.RunPython.noop)]
