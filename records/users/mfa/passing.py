"""The second factor of a sign-in: authenticator apps (django-otp's TOTP devices),
passkeys and security keys (django-otp-webauthn's credentials) and single-use
recovery codes (records.users.mfa_models), and the events each step writes.

A session has passed the second factor when django-otp's `otp_device_id` is in it
(django_otp.login), so it ends with the session: sign-out, the idle and absolute
timeouts, a password change elsewhere, a deactivation. Nothing remembers a device.

Wrong codes count with wrong passwords: each is a failed sign-in for django-axes
(the same handler, the same limits, the same lockout page), besides django-otp's
own throttling of each device.
"""

from dataclasses import dataclass

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth import logout
from django.db import transaction
from django.http import HttpRequest
from django_otp import DEVICE_ID_SESSION_KEY, devices_for_user
from django_otp import login as otp_login
from django_otp import verify_token
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from records.audit.models import Action
from records.audit.services import audit_record
from records.common.errors import ServiceError
from records.common.net import client_ip
from records.users.lockout import failures_reset
from records.users.mfa_models import RecoveryCodeDevice
from records.users.models import LoginEvent, User
from records.users.services import login_event_record, user_sessions_end

PASSED = "passed"
FAILED = "failed"
THROTTLED = "throttled"
LOCKED = "locked"

E_LAST_FACTOR = (
    "This is your only authenticator app or passkey: add another before removing it."
)
E_REASON = "Give a reason for the reset."
E_OWN_RESET = "Reset your own factors on your sign-in security page."
E_NAME = "Give the factor a name of at most 64 characters."

RECOVERY_CODE_COUNT = 10


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


# --- enrolment -------------------------------------------------------------------

TOTP_SETUP_SESSION_KEY = "_ndas_totp_setup"


def totp_setup(*, request: HttpRequest) -> TOTPDevice:
    """The authenticator app being added in this session (unconfirmed until a code
    from it is given), made now if there is none."""
    user = request.user
    pk = request.session.get(TOTP_SETUP_SESSION_KEY)
    device = TOTPDevice.objects.filter(pk=pk, user=user, confirmed=False).first()
    if device is None:
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        count = TOTPDevice.objects.filter(user=user).count()
        device = TOTPDevice.objects.create(
            user=user,
            name="Authenticator app" + (f" {count + 1}" if count else ""),
            confirmed=False,
        )
        request.session[TOTP_SETUP_SESSION_KEY] = device.pk
    return device


@dataclass(frozen=True)
class Enrolment:
    result: str
    recovery_codes: list[str]


def totp_confirm(*, request: HttpRequest, device: TOTPDevice, code: str) -> Enrolment:
    """Confirm an authenticator app by one code from it. The first factor of a
    user also gets ten recovery codes (returned to be shown once) and passes the
    second step of this sign-in."""
    user = request.user
    code = "".join((code or "").split())[:16]
    if _locked(request, user):
        _lock_out(request, user)
        return Enrolment(LOCKED, [])
    if not device.verify_is_allowed()[0]:
        return Enrolment(THROTTLED, [])
    with transaction.atomic():
        verified = verify_token(user, device.persistent_id, code)
        if verified is None:
            failed = True
        else:
            failed = False
            verified.confirmed = True
            verified.save(update_fields=["confirmed"])
    if failed:
        result = second_factor_failed(
            request=request, user=user, factor="authenticator app"
        )
        return Enrolment(result, [])
    request.session.pop(TOTP_SETUP_SESSION_KEY, None)
    codes = []
    if not RecoveryCodeDevice.objects.filter(user=user).exists():
        codes = recovery_codes_replace(request=request, announce=False)
    _event(
        request=request,
        kind=LoginEvent.Kind.MFA_ENROLLED,
        action=Action.MFA_ENROLLED,
        user=user,
        summary=f"Authenticator app added: {user.get_username()} ({verified.name})",
        details={"factor": "authenticator app", "device": verified.persistent_id},
    )
    if not session_passed(request):
        otp_login(request, verified)
        request.session.cycle_key()
        failures_reset(request=request, user=user)
    return Enrolment(PASSED, codes)


def passkey_added(*, request: HttpRequest, device: WebAuthnCredential) -> None:
    user = request.user
    _event(
        request=request,
        kind=LoginEvent.Kind.MFA_ENROLLED,
        action=Action.MFA_ENROLLED,
        user=user,
        summary=f"Passkey added: {user.get_username()} ({device.name})",
        details={"factor": "passkey", "device": device.persistent_id},
    )


def recovery_codes_replace(*, request: HttpRequest, announce: bool = True) -> list[str]:
    """Ten new recovery codes, replacing those left; shown once, kept hashed."""
    user = request.user
    device, _ = RecoveryCodeDevice.objects.get_or_create(
        user=user, defaults={"name": "Recovery codes", "confirmed": True}
    )
    codes = device.codes_replace(RECOVERY_CODE_COUNT)
    if announce:
        _event(
            request=request,
            kind=LoginEvent.Kind.MFA_ENROLLED,
            action=Action.MFA_ENROLLED,
            user=user,
            summary=f"New recovery codes: {user.get_username()}",
            details={"factor": "recovery code", "device": device.persistent_id},
        )
    return codes


# --- managing them ---------------------------------------------------------------


def own_factor(*, user: User, kind: str, pk) -> TOTPDevice | WebAuthnCredential:
    model = {"app": TOTPDevice, "passkey": WebAuthnCredential}.get(kind)
    if model is None:
        raise LookupError(kind)
    return model.objects.get(user=user, pk=pk, confirmed=True)


def factor_rename(*, user: User, device, name: str) -> None:
    name = (name or "").strip()
    if not name or len(name) > 64:
        raise ServiceError({"name": E_NAME})
    device.name = name
    device.save(update_fields=["name"])


@transaction.atomic
def factor_remove(*, request: HttpRequest, device) -> None:
    """Remove one's own authenticator app or passkey while another remains. If
    this session passed with it, it stays passed (the user has proved themselves),
    now under the factor left."""
    user = request.user
    factors = factors_of(user)
    remaining = [
        d
        for d in [*factors.apps, *factors.passkeys]
        if not (type(d) is type(device) and d.pk == device.pk)
    ]
    if not remaining:
        raise ServiceError(E_LAST_FACTOR)
    persistent_id = device.persistent_id
    label = _factor_label(device)
    name = device.name
    device.delete()
    if request.session.get(DEVICE_ID_SESSION_KEY) == persistent_id:
        otp_login(request, remaining[0])
    _event(
        request=request,
        kind=LoginEvent.Kind.MFA_REMOVED,
        action=Action.MFA_REMOVED,
        user=user,
        summary=f"{label.capitalize()} removed: {user.get_username()} ({name})",
        details={"factor": label, "device": persistent_id},
    )


def factors_reset(
    *, request: HttpRequest, acting_user: User, user: User, reason: str
) -> int:
    """An administrator's reset of another user's factors (lost phone, lost
    key): every app, passkey and recovery code goes, the user's sessions end, and
    the next sign-in enrols anew. Returns how many factors went."""
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError({"reason": E_REASON})
    if acting_user.pk == user.pk:
        raise ServiceError(E_OWN_RESET)
    with transaction.atomic():
        removed = 0
        for device in list(devices_for_user(user, confirmed=None)):
            device.delete()
            removed += 1
        _event(
            request=request,
            kind=LoginEvent.Kind.MFA_RESET,
            action=Action.MFA_RESET,
            user=user,
            actor=acting_user,
            summary=(
                f"Second factors of {user.get_username()} reset by "
                f"{acting_user.get_username()}: {reason}"
            ),
            details={"removed": removed},
        )
    user_sessions_end(user=user)
    return removed
