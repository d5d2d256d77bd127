"""Imports keep what their report says of how the file was read (the error
file's own column, ignored when that file comes back fixed)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("imports", "0004_import_in_worker"),
    ]

    operations = [
        migrations.AddField(
            model_name="importjob",
            name="notes",
            field=models.JSONField(blank=True, default=list),
        ),
    ]
