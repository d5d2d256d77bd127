"""A user's second factors added (an authenticator app, a passkey, recovery
codes), renamed, removed and reset, each with its event."""

from dataclasses import dataclass

from django.db import transaction
from django.http import HttpRequest
from django_otp import DEVICE_ID_SESSION_KEY, devices_for_user
from django_otp import login as otp_login
from django_otp import verify_token
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from records.audit.models import Action
from records.common.errors import ServiceError
from records.users.lockout import failures_reset
from records.users.mfa_models import RecoveryCodeDevice
from records.users.models import LoginEvent, User
from records.users.services import user_sessions_end

from records.users.mfa.passing import (
    LOCKED,
    PASSED,
    THROTTLED,
    _event,
    _factor_label,
    _lock_out,
    _locked,
    factors_of,
    second_factor_failed,
    session_passed,
)

E_LAST_FACTOR = (
    "This is your only authenticator app or passkey: add another before removing it."
)
E_REASON = "Give a reason for the reset."
E_OWN_RESET = "Reset your own factors on your sign-in security page."
E_NAME = "Give the factor a name of at most 64 characters."

RECOVERY_CODE_COUNT = 10


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
