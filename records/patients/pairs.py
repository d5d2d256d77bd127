"""Two charts a clinician has marked as not the same child (twins, say): the
possible-duplicate warning stops for that pair, for everyone."""

from django.conf import settings
from django.db import models

from records.common.models import change_history


class NotSameChild(models.Model):
    """One pair, stored once whichever chart it was marked from: `first` is
    the lower id (a constraint holds it), so (A, B) and (B, A) are one row."""

    first = models.ForeignKey(
        "patients.Patient", on_delete=models.CASCADE, related_name="+"
    )
    second = models.ForeignKey(
        "patients.Patient", on_delete=models.CASCADE, related_name="+"
    )
    marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    marked_at = models.DateTimeField(auto_now_add=True)

    history = change_history()

    class Meta:
        ordering = ["-marked_at", "-pk"]
        verbose_name = "pair marked not the same child"
        verbose_name_plural = "pairs marked not the same child"
        constraints = [
            models.UniqueConstraint(
                fields=["first", "second"], name="not_same_child_pair_key"
            ),
            models.CheckConstraint(
                condition=models.Q(first__lt=models.F("second")),
                name="not_same_child_pair_ordered",
            ),
        ]
        # The unique constraint's index serves lookups by `first`; this one
        # serves those by `second` (the warning looks a chart up on both sides).
        indexes = [models.Index(fields=["second"], name="not_same_child_second_idx")]

    def __str__(self) -> str:
        return f"Not the same child #{self.pk}"
