"""The audit stream: one row per audited act, append-only, each row hashing the last."""

from django.conf import settings
from django.db import models


class Action(models.TextChoices):
    VIEW = "view", "Viewed"
    CREATE = "create", "Created"
    UPDATE = "update", "Updated"
    ARCHIVE = "archive", "Archived"
    DELETE = "delete", "Deleted"
    AMEND = "amend", "Amended"
    EXPORT = "export", "Exported"
    IMPORT = "import", "Imported"
    DOWNLOAD = "download", "Downloaded"
    LOGIN = "login", "Signed in"
    LOGIN_FAILURE = "login_failure", "Failed sign-in"
    LOCKOUT = "lockout", "Locked out"
    LOGOUT = "logout", "Signed out"
    GRANT = "grant", "Granted access"
    REVOKE = "revoke", "Revoked access"
    BREAK_GLASS = "break_glass", "Emergency access"
    AUDIT_EXPORT = "audit_export", "Exported the audit trail"
    RESTORE = "restore", "Restored from backup"
    MFA_PASSED = "mfa_passed", "Passed the second factor"
    MFA_FAILURE = "mfa_failure", "Failed the second factor"
    RECOVERY_CODE = "recovery_code", "Used a recovery code"
    MFA_ENROLLED = "mfa_enrolled", "Added a second factor"
    MFA_REMOVED = "mfa_removed", "Removed a second factor"
    MFA_RESET = "mfa_reset", "Reset second factors"


class AuditEvent(models.Model):
    """Written only by `records.audit.services.audit_record`; never changed.

    The database refuses UPDATE, DELETE and the TRUNCATE of a non-empty table (see
    migration 0002). `hash` covers every other column, `prev_hash` is the previous
    row's `hash`: `manage.py verify_audit` finds any row altered, removed or added.
    Nothing here is a foreign key the database enforces, so that deleting a user or
    a patient never has to touch (and so never could rewrite) this table.
    """

    at = models.DateTimeField("time (UTC)", db_index=True)
    # No database constraint, no ON DELETE: a deleted user's events keep their id.
    # No index of its own either: the (actor, at) index below serves actor lookups.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    actor_username = models.CharField(max_length=150, blank=True)
    ip = models.GenericIPAddressField("IP", null=True, blank=True)
    request_id = models.CharField(max_length=128, blank=True)
    action = models.CharField(max_length=20, choices=Action.choices)
    # The model acted on, as "<app_label>.<model_name>", e.g. "patients.patient".
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    # Deliberately not a foreign key: deleting a chart must leave its audit trail.
    # Indexed by the (patient_id, at) index below.
    patient_id = models.BigIntegerField("patient id", null=True, blank=True)
    summary = models.CharField(max_length=300, blank=True)
    # Ids, counts and filters only: never clinical values or names.
    details = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField("previous hash", max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = "audit event"
        indexes = [
            models.Index(fields=["patient_id", "at"], name="audit_patient_at_idx"),
            models.Index(fields=["actor", "at"], name="audit_actor_at_idx"),
            # The console filters and reports by the username kept on each event.
            models.Index(fields=["actor_username", "at"], name="audit_username_at_idx"),
            models.Index(fields=["action", "at"], name="audit_action_at_idx"),
            # The charts a user opened lately (the clinician's worklist): their
            # own chart openings, newest first, read from the index alone.
            models.Index(
                fields=["actor", "at"],
                condition=models.Q(action=Action.VIEW, patient_id__isnull=False),
                include=["patient_id"],
                name="audit_actor_views_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Audit event #{self.pk} ({self.action})"
