"""Partial indexes for the clinician's worklist (records/charts/worklist.py): their
drafts and follow-ups by clinician, and measured visits by date (growth alerts).
Built CONCURRENTLY: a clinic's visit table keeps taking writes while they build."""

from django.conf import settings
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("clinical_records", "0008_growth_figures_computed"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="clinicalrecord",
            index=models.Index(
                condition=models.Q(("status", "draft")),
                fields=["clinician", "visit_date", "id"],
                name="visit_draft_clinician_idx",
            ),
        ),
        AddIndexConcurrently(
            model_name="clinicalrecord",
            index=models.Index(
                condition=models.Q(("follow_up_date__isnull", False)),
                fields=["clinician", "follow_up_date"],
                name="visit_follow_up_idx",
            ),
        ),
        AddIndexConcurrently(
            model_name="clinicalrecord",
            index=models.Index(
                condition=models.Q(
                    ("weight_sds__isnull", False),
                    ("head_circumference_sds__isnull", False),
                    _connector="OR",
                ),
                fields=["visit_date", "id"],
                name="visit_measured_date_idx",
            ),
        ),
    ]
