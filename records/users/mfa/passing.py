"""Passing the second factor: who must pass it, each try (an authenticator
app's code, a recovery code, a passkey) and the events each step writes."""

from dataclasses import dataclass

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest
from django_otp import login as otp_login
from django_otp import verify_token
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from records.audit.models import Action
from records.audit.services import audit_record
from records.common.net import client_ip
from records.users.lockout import failures_reset
from records.users.mfa_models import RecoveryCodeDevice
from records.users.models import LoginEvent, User
from records.users.services import login_event_record

PASSED = "passed"
FAILED = "failed"
THROTTLED = "throttled"
LOCKED = "locked"

# --- who must pass it ------------------------------------------------------------


def second_factor_required(user: User) -> bool:
    """Superusers, and holders of a role of MFA_REQUIRED_ROLES, must have one."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return user.groups.filter(name__in=settings.MFA_REQUIRED_ROLES).exists()


def has_factor(user: User) -> bool:
    """An authenticator app or passkey, confirmed (recovery codes alone are not)."""
    return (
        TOTPDevice.objects.filter(user=user, confirmed=True).exists()
        or WebAuthnCredential.objects.filter(user=user, confirmed=True).exists()
    )


def second_factor_due(user: User) -> bool:
    """Must this user pass a second factor after the password? Those who must have
    one, and anyone who has added one."""
    if not user.is_authenticated:
        return False
    return second_factor_required(user) or has_factor(user)


def session_passed(request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_authenticated and getattr(user, "otp_device", None))


@dataclass(frozen=True)
class Factors:
    apps: list
    passkeys: list
    recovery: RecoveryCodeDevice | None

    @property
    def recovery_left(self) -> int:
        return self.recovery.codes.count() if self.recovery else 0


def factors_of(user: User) -> Factors:
    return Factors(
        apps=list(TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk")),
        passkeys=list(
            WebAuthnCredential.objects.filter(user=user, confirmed=True).order_by("pk")
        ),
        recovery=RecoveryCodeDevice.objects.filter(user=user).first(),
    )


# --- events ------------------------------------------------------------------------


def _event(
    *,
    request: HttpRequest | None,
    kind: str,
    action: Action,
    user: User,
    actor: User | None = None,
    summary: str,
    details: dict | None = None,
) -> LoginEvent:
    ip = client_ip(request) if request is not None else None
    agent = request.META.get("HTTP_USER_AGENT", "") if request is not None else ""
    event = login_event_record(
        kind=kind, username=user.get_username(), user=user, ip=ip, user_agent=agent
    )
    actor = actor or user
    audit_record(
        action=action,
        actor=actor,
        ip=ip,
        object_type="users.loginevent",
        object_id=event.pk,
        summary=summary,
        details={"user_id": user.pk, **(details or {})},
    )
    return event


def _factor_label(device) -> str:
    if isinstance(device, TOTPDevice):
        return "authenticator app"
    if isinstance(device, WebAuthnCredential):
        return "passkey"
    return "recovery code"


# --- passing it ------------------------------------------------------------------


def _credentials(user: User) -> dict:
    return {settings.AXES_USERNAME_FORM_FIELD: user.get_username()}


def _locked(request: HttpRequest, user: User) -> bool:
    return AxesProxyHandler.is_locked(request, _credentials(user))


def _lock_out(request: HttpRequest, user: User) -> None:
    """As for a password: the lockout event, sign-out, then AxesMiddleware's
    lockout page."""
    request.axes_locked_out = True
    AxesProxyHandler.user_login_failed(
        sender=__name__, credentials=_credentials(user), request=request
    )
    logout(request)


def second_factor_failed(*, request: HttpRequest, user: User, factor: str) -> str:
    """A wrong code or a refused passkey: a sign-in event, an audit event and one
    failure for django-axes, which may lock the user out (and then signs them
    out). Returns FAILED or LOCKED."""
    _event(
        request=request,
        kind=LoginEvent.Kind.MFA_FAILURE,
        action=Action.MFA_FAILURE,
        user=user,
        summary=f"Second factor failed ({factor}): {user.get_username()}",
        details={"factor": factor},
    )
    AxesProxyHandler.user_login_failed(
        sender=__name__, credentials=_credentials(user), request=request
    )
    if getattr(request, "axes_locked_out", False):
        logout(request)
        return LOCKED
    return FAILED


def second_factor_passed(*, request: HttpRequest, device) -> None:
    """Mark the session as having passed (django-otp), under a new session key,
    and forget the failed sign-ins as a completed sign-in does."""
    user = request.user
    otp_login(request, device)
    request.session.cycle_key()
    failures_reset(request=request, user=user)
    recovery = isinstance(device, RecoveryCodeDevice)
    label = _factor_label(device)
    if recovery:
        summary = (
            f"Recovery code used: {user.get_username()} "
            f"({device.codes.count()} left)"
        )
    else:
        summary = f"Second factor passed ({label}): {user.get_username()}"
    _event(
        request=request,
        kind=(
            LoginEvent.Kind.RECOVERY_CODE if recovery else LoginEvent.Kind.MFA_SUCCESS
        ),
        action=Action.RECOVERY_CODE if recovery else Action.MFA_PASSED,
        user=user,
        summary=summary,
        details={"factor": label, "device": device.persistent_id},
    )


def code_verify(*, request: HttpRequest, code: str) -> str:
    """Check a code typed on the second step: six digits against the user's
    authenticator apps (each code once: django-otp keeps the last time step used),
    anything else against their recovery codes. Returns PASSED, FAILED (counted),
    THROTTLED (django-otp's back-off after failures: nothing checked, nothing
    counted) or LOCKED."""
    user = request.user
    code = "".join((code or "").split())[:64]
    if _locked(request, user):
        _lock_out(request, user)
        return LOCKED
    if code.isdigit() and len(code) == 6:
        devices = list(TOTPDevice.objects.filter(user=user, confirmed=True))
        factor = "authenticator app"
    else:
        devices = list(RecoveryCodeDevice.objects.filter(user=user))
        factor = "recovery code"
    open_devices = [d for d in devices if d.verify_is_allowed()[0]]
    if devices and not open_devices:
        return THROTTLED
    for device in open_devices:
        verified = verify_token(user, device.persistent_id, code)
        if verified is not None:
            second_factor_passed(request=request, device=verified)
            return PASSED
    return second_factor_failed(request=request, user=user, factor=factor)


def passkey_may_try(*, request: HttpRequest) -> bool:
    """False (and the user locked out and signed out) when the lockout holds."""
    user = request.user
    if _locked(request, user):
        _lock_out(request, user)
        return False
    return True
