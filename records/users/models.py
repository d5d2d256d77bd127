"""Users, care teams and the sign-in events recorded about them."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser, Group
from django.db import models

from records.common.models import change_history


class User(AbstractUser):
    last_login_ip = models.GenericIPAddressField(
        "last sign-in IP", null=True, blank=True
    )
    last_login_device = models.CharField(
        "last sign-in device", max_length=200, blank=True
    )

    # Password hashes stay out of history; sign-in facts change on every login and are
    # recorded as login events instead. Group membership (roles and care teams) is
    # kept, so that who could open a chart on a past date can be answered.
    history = change_history(
        excluded_fields=[
            "password",
            "last_login",
            "last_login_ip",
            "last_login_device",
        ],
        m2m_fields=["groups"],
    )

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        ordering = ["username"]

    def __str__(self) -> str:
        """Staff are named by their full name (the username for an account that
        has none): in history, lists and the chart's records."""
        return self.get_full_name() or self.username

    @property
    def name_with_username(self) -> str:
        """Where a name must tell two people apart (pickers, the audit trail):
        Ada Lovelace (alovelace)."""
        full = self.get_full_name()
        return f"{full} ({self.username})" if full else self.username


class CareTeam(models.Model):
    """The people caring for a set of children; its members are its group's members."""

    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=300, blank=True)
    group = models.OneToOneField(
        Group, on_delete=models.PROTECT, related_name="care_team", editable=False
    )

    history = change_history()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class LoginEvent(models.Model):
    """One sign-in, failed sign-in, lockout or sign-out, or a step of the second
    factor; written, never changed."""

    class Kind(models.TextChoices):
        SUCCESS = "success", "Signed in"
        FAILURE = "failure", "Failed sign-in"
        LOCKOUT = "lockout", "Locked out"
        LOGOUT = "logout", "Signed out"
        # The second step of a sign-in, and the factors it is taken with.
        MFA_SUCCESS = "mfa_pass", "Second factor passed"
        MFA_FAILURE = "mfa_fail", "Second factor failed"
        RECOVERY_CODE = "recovery", "Recovery code used"
        MFA_ENROLLED = "mfa_enrol", "Second factor added"
        MFA_REMOVED = "mfa_remove", "Second factor removed"
        MFA_RESET = "mfa_reset", "Second factors reset"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    username = models.CharField("attempted username", max_length=150)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="login_events",
    )
    at = models.DateTimeField("time (UTC)", auto_now_add=True, db_index=True)
    ip = models.GenericIPAddressField("IP", null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    device_type = models.CharField(max_length=20, blank=True)
    browser = models.CharField(max_length=100, blank=True)
    os = models.CharField("OS", max_length=100, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["username", "at"], name="login_event_user_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.username}"


# Recovery codes (a django-otp device kept hashed): records/users/mfa_models.py.
from records.users.mfa_models import RecoveryCode, RecoveryCodeDevice  # noqa: E402,F401
