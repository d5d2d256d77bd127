"""The log of every import and export: who, what, when, how big, and the outcome."""

from django.conf import settings
from django.db import models


class Entity(models.TextChoices):
    PATIENTS = "patients", "Patients"
    ASSESSMENTS = "assessments", "Assessments"
    CLINICAL_RECORDS = "clinical_records", "Visit records"


class ImportMode(models.TextChoices):
    CREATE_OR_UPDATE = "create_or_update", "Create or update"
    CREATE_ONLY = "create_only", "Create only"
    UPDATE_ONLY = "update_only", "Update only"


class ImportJob(models.Model):
    class Status(models.TextChoices):
        # Being read, checked or written; a job killed meanwhile stays so until
        # expire_imports marks it failed.
        RUNNING = "running", "Running"
        VALIDATED = "validated", "Validated, not committed"
        INVALID = "invalid", "Has errors"
        COMMITTED = "committed", "Committed"
        FAILED = "failed", "Failed"
        # The upload waited longer than imports are kept for a commit.
        EXPIRED = "expired", "Expired, not committed"
        # A large file, handed to a worker (records.imports.tasks): waiting for
        # one to check it, or, validated, to commit it.
        QUEUED = "queued", "Waiting to be checked"
        TO_COMMIT = "to_commit", "Waiting to be committed"
        # Its user stopped it before it was committed: nothing was written.
        CANCELLED = "cancelled", "Cancelled, not committed"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    entity = models.CharField(max_length=20, choices=Entity.choices)
    file_name = models.CharField(max_length=200)
    size_bytes = models.BigIntegerField()
    sha256 = models.CharField("SHA-256", max_length=64, db_index=True)
    # Where the upload waits between preview and commit (a generated key).
    stored_as = models.CharField(max_length=255, blank=True)
    mode = models.CharField(max_length=20, choices=ImportMode.choices)
    blank_keeps_value = models.BooleanField(
        "blank cells do not overwrite", default=True
    )
    reason = models.CharField("reason for change", max_length=200)
    care_team = models.ForeignKey(
        "users.CareTeam",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="New patients are placed in this team.",
    )
    status = models.CharField(max_length=10, choices=Status.choices)
    rows = models.PositiveIntegerField(default=0)
    new = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    invalid = models.PositiveIntegerField(default=0)
    duration_ms = models.PositiveIntegerField(default=0)
    # [{"row": 3, "column": "mrn", "value": "x", "message": "..."}, ...] (capped)
    errors = models.JSONField(default=list, blank=True)
    # The first changes: [{"row": 2, "key": "NDA-1", "action": "new"|"changed",
    # "changes": [[field, old, new], ...]}]
    preview = models.JSONField(default=list, blank=True)
    # What the report says of how the file was read, not errors (no cell values):
    # ["The column “errors” ... was ignored ...", ...]
    notes = models.JSONField(default=list, blank=True)
    # A large file's checking and commit run in a worker, which says how far it
    # got (records.imports.progress): rows done of about `expected_rows`, since
    # `progress_started_at`, last told at `progress_at`.
    in_worker = models.BooleanField(default=False)
    committing = models.BooleanField(default=False)
    expected_rows = models.PositiveIntegerField(default=0)
    progress_rows = models.PositiveIntegerField(default=0)
    progress_started_at = models.DateTimeField(null=True, blank=True)
    progress_at = models.DateTimeField(null=True, blank=True)
    # Asked while a worker runs it: the worker stops between two chunks.
    cancel_requested = models.BooleanField(default=False)
    same_file_as = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="An earlier import of an identical file.",
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "import"
        verbose_name_plural = "imports"
        permissions = [
            ("import_records", "Can import spreadsheets"),
            ("export_records", "Can export spreadsheets"),
        ]

    def __str__(self) -> str:
        return f"Import #{self.pk} ({self.get_entity_display()})"


class ExportJob(models.Model):
    class Status(models.TextChoices):
        STARTED = "started", "Started"
        COMPLETED = "completed", "Completed"
        # The stream ended early (the client went away, or an error): row_count
        # is what had been handed to the server by then.
        INTERRUPTED = "interrupted", "Interrupted"
        # A large export, built by a worker (records.imports.export_jobs).
        QUEUED = "queued", "Waiting to be built"
        RUNNING = "running", "Being built"
        FAILED = "failed", "Failed"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    entity = models.CharField(max_length=20, choices=Entity.choices)
    file_format = models.CharField("format", max_length=4)
    columns = models.JSONField(default=list)
    filters = models.JSONField(default=dict, blank=True)
    row_count = models.PositiveIntegerField(default=0)
    sha256 = models.CharField("SHA-256", max_length=64, blank=True)
    status = models.CharField(
        max_length=11, choices=Status.choices, default=Status.STARTED
    )
    # A large export's file, built by a worker: its key in private storage
    # (exports/<random>.<format>, nothing of a patient), blank once deleted.
    file_key = models.CharField(max_length=255, blank=True, editable=False)
    size_bytes = models.BigIntegerField("size (bytes)", default=0)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Why a large export failed, in plain words.
    message = models.CharField(max_length=300, blank=True)
    # The list's query the worker runs again (a pickled django.db Query, from this
    # database alone; the rows are narrowed to the user's visible ones again).
    query = models.BinaryField(null=True, editable=False)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = "export"
        verbose_name_plural = "exports"

    def __str__(self) -> str:
        return f"Export #{self.pk} ({self.get_entity_display()})"

    @property
    def completed(self) -> bool:
        return self.status == self.Status.COMPLETED
