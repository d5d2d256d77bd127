"""Abstract base model for the domain's tables."""

from django.conf import settings
from django.db import models


class TimeStampedModel(models.Model):
    """Who created a row and when it was created and last changed."""

    # No indexes on these two: nothing lists records by them, and every index
    # is paid for on each write (a 100k-row import writes each row twice).
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )

    class Meta:
        abstract = True
