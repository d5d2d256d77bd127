"""The NDAS user: Django's user plus where and on what device they last signed in."""

from django.contrib.auth.models import AbstractUser
from django.db import models
from simple_history.models import HistoricalRecords


class User(AbstractUser):
    last_login_ip = models.GenericIPAddressField(
        "last sign-in IP", null=True, blank=True
    )
    last_login_device = models.CharField(
        "last sign-in device", max_length=200, blank=True
    )

    # Password hashes stay out of history; sign-in facts change on every login and are
    # recorded as login events instead.
    history = HistoricalRecords(
        excluded_fields=["password", "last_login", "last_login_ip", "last_login_device"]
    )

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        ordering = ["username"]
