"""The charts a user opened lately (the clinician's worklist): a partial index of
chart openings by actor and time, holding the patient id, so that the newest are
read from the index alone. Built CONCURRENTLY: the trail keeps taking events (ten
million of them take minutes to index)."""

from django.conf import settings
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("audit", "0007_second_factor_actions"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="auditevent",
            index=models.Index(
                condition=models.Q(("action", "view"), ("patient_id__isnull", False)),
                fields=["actor", "at"],
                include=("patient_id",),
                name="audit_actor_views_idx",
            ),
        ),
    ]
