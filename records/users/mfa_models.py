"""Recovery codes, a django-otp device of our own: django-otp's static device keeps
its codes as plain text, these are kept as salted SHA-256 digests (each code is 50
random bits, used once)."""

import hashlib
import hmac
import secrets

from django.db import models, transaction
from django_otp.models import Device, ThrottlingMixin, TimestampMixin

RECOVERY_CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i
RECOVERY_CODE_LENGTH = 10


def _salt() -> str:
    return secrets.token_hex(16)


def recovery_code_normalise(code: str) -> str:
    """What was typed, as stored codes are digested: lower case, no spaces or dashes."""
    return "".join(ch for ch in (code or "").lower() if ch not in " -\t")[:64]


class RecoveryCodeDevice(TimestampMixin, ThrottlingMixin, Device):
    """A user's set of single-use recovery codes (one device per user)."""

    salt = models.CharField(max_length=32, default=_salt, editable=False)

    class Meta(Device.Meta):
        verbose_name = "recovery codes"
        verbose_name_plural = "recovery codes"

    def digest(self, code: str) -> str:
        return hmac.new(
            self.salt.encode(), recovery_code_normalise(code).encode(), hashlib.sha256
        ).hexdigest()

    def codes_replace(self, count: int = 10) -> list[str]:
        """New codes in place of any left; returns them (shown once, never kept)."""
        codes = [
            "".join(
                secrets.choice(RECOVERY_CODE_ALPHABET)
                for _ in range(RECOVERY_CODE_LENGTH)
            )
            for _ in range(count)
        ]
        with transaction.atomic():
            self.codes.all().delete()
            RecoveryCode.objects.bulk_create(
                RecoveryCode(device=self, digest=self.digest(code)) for code in codes
            )
        return [f"{code[:5]}-{code[5:]}" for code in codes]

    def get_throttle_factor(self) -> int:
        from django.conf import settings

        return getattr(settings, "OTP_STATIC_THROTTLE_FACTOR", 1)

    def verify_token(self, token) -> bool:
        allowed, _ = self.verify_is_allowed()
        if not allowed:
            return False
        match = self.codes.filter(digest=self.digest(str(token))).first()
        if match is None:
            self.throttle_increment()
            return False
        match.delete()
        self.throttle_reset(commit=False)
        self.set_last_used_timestamp(commit=False)
        self.save()
        return True


class RecoveryCode(models.Model):
    device = models.ForeignKey(
        RecoveryCodeDevice, related_name="codes", on_delete=models.CASCADE
    )
    digest = models.CharField(max_length=64)

    class Meta:
        indexes = [models.Index(fields=["device", "digest"], name="recovery_code_idx")]
