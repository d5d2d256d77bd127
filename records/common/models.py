"""Abstract base model for the domain's tables, and their change history."""

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from simple_history.models import HistoricalRecords

# The longest clinical note (findings, history, plan, a reason) NDAS keeps: some
# twenty pages of text. Every text goes to the database bounded.
NOTE_MAX_CHARS = 20_000


class BoundedTextField(models.TextField):
    """A TextField whose length is checked wherever the model is validated
    (forms, services, imports); Django's keeps max_length to the form alone."""

    def __init__(self, *args, max_length: int = NOTE_MAX_CHARS, **kwargs):
        super().__init__(*args, max_length=max_length, **kwargs)
        self.default_validators = [
            *self.default_validators,
            MaxLengthValidator(max_length),
        ]


def change_history(**options) -> HistoricalRecords:
    """simple-history's HistoricalRecords, as every model here keeps it.

    The user who made a change is named by id with no foreign key constraint,
    as the audit trail names its actors: PostgreSQL would otherwise look that
    user up again for every history row written (an import of 100,000 rows
    writes 100,000 of them). simple-history copies a model's own foreign keys
    into its history the same way. Users are deactivated, never deleted (the
    admin offers none and records.users.receivers refuses any), so every id
    names someone and no history row loses its user.
    """
    return HistoricalRecords(user_db_constraint=False, **options)


class TimeStampedModel(models.Model):
    """Who created a row and when it was created and last changed."""

    # No indexes on these two: nothing lists records by them, and every index
    # is paid for on each write (a 100k-row import writes each row twice).
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Authorship, kept as the audit trail keeps its actors: no constraint (no
    # check per row written) and nothing rewritten if a user were deleted
    # (see change_history).
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        db_index=False,
    )

    class Meta:
        abstract = True


class ScheduledRun(models.Model):
    """One run of a scheduled job (records.common.schedule): administrators see
    on their dashboard the jobs whose last run failed."""

    task = models.CharField(max_length=100)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    # None while running.
    succeeded = models.BooleanField(null=True)
    message = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        indexes = [models.Index(fields=["task", "-started_at"])]

    def __str__(self) -> str:
        return f"{self.task} at {self.started_at:%Y-%m-%d %H:%M}"
