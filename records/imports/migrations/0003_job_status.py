"""Exports get a status (started, completed, interrupted) in place of a flag, and
imports a running status: a job cut off, or still working, is never taken for a
finished one."""

from django.db import migrations, models


def completed_to_status(apps, schema_editor):
    ExportJob = apps.get_model("imports", "ExportJob")
    ExportJob.objects.filter(completed=True).update(status="completed")
    # An export never completed before this migration was cut off mid-stream.
    ExportJob.objects.filter(completed=False).update(status="interrupted")


def status_to_completed(apps, schema_editor):
    ExportJob = apps.get_model("imports", "ExportJob")
    ExportJob.objects.filter(status="completed").update(completed=True)


class Migration(migrations.Migration):

    dependencies = [
        ("imports", "0002_import_expired"),
    ]

    operations = [
        migrations.AddField(
            model_name="exportjob",
            name="status",
            field=models.CharField(
                choices=[
                    ("started", "Started"),
                    ("completed", "Completed"),
                    ("interrupted", "Interrupted"),
                ],
                default="started",
                max_length=11,
            ),
        ),
        migrations.RunPython(completed_to_status, status_to_completed),
        migrations.RemoveField(model_name="exportjob", name="completed"),
        migrations.AlterField(
            model_name="importjob",
            name="status",
            field=models.CharField(
                choices=[
                    ("running", "Running"),
                    ("validated", "Validated, not committed"),
                    ("invalid", "Has errors"),
                    ("committed", "Committed"),
                    ("failed", "Failed"),
                    ("expired", "Expired, not committed"),
                ],
                max_length=10,
            ),
        ),
    ]
