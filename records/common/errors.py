"""Errors shared by the domain's services."""

from django.core.exceptions import ValidationError


class ServiceError(ValidationError):
    """A write that a service refused; carries a message the user can act on."""


class StaleEditError(ServiceError):
    """Someone else saved the object after the form was opened."""
