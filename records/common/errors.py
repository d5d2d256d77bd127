"""Errors that services raise for the user to act on; forms show them like any other."""

from django.core.exceptions import ValidationError


class ServiceError(ValidationError):
    """A write that a service refused, with a message the user can act on."""


class StaleEditError(ServiceError):
    """Someone else saved the row after the form that changes it was opened."""


class LockedRecordError(ServiceError):
    """A final record was changed other than by an amendment."""
