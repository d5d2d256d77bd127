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

from records.users.mfa.enrolment import (  # noqa: F401
    E_LAST_FACTOR,
    E_NAME,
    E_OWN_RESET,
    E_REASON,
    RECOVERY_CODE_COUNT,
    TOTP_SETUP_SESSION_KEY,
    Enrolment,
    factor_remove,
    factor_rename,
    factors_reset,
    own_factor,
    passkey_added,
    recovery_codes_replace,
    totp_confirm,
    totp_setup,
)
from records.users.mfa.passing import (  # noqa: F401
    FAILED,
    LOCKED,
    PASSED,
    THROTTLED,
    Factors,
    TOTPDevice,
    WebAuthnCredential,
    code_verify,
    factors_of,
    has_factor,
    passkey_may_try,
    second_factor_due,
    second_factor_failed,
    second_factor_passed,
    second_factor_required,
    session_passed,
)
