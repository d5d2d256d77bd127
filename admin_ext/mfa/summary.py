from django.urls import reverse
from django.utils.html import format_html

from records.users import mfa


def second_factor_summary(user) -> str:
    """'1 authenticator app(s), 0 passkey(s), 9 recovery code(s)' and the link to
    reset them (which only those who may change users may follow)."""
    if user is None or user.pk is None:
        return "-"
    factors = mfa.factors_of(user)
    parts = [
        f"{len(factors.apps)} authenticator app(s)",
        f"{len(factors.passkeys)} passkey(s)",
        f"{factors.recovery_left} recovery code(s)",
    ]
    text = ", ".join(parts)
    if not (factors.apps or factors.passkeys or factors.recovery):
        return text
    return format_html(
        '{} &middot; <a class="text-primary-600 underline" href="{}">'
        "Reset second factors</a>",
        text,
        reverse("mfa:reset", args=[user.pk]),
    )
