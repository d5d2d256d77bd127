from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import ngettext

from records.users import mfa


def counted(n: int, one: str, many: str) -> str:
    """'1 passkey', '0 passkeys': the count and the noun agreeing with it."""
    return f"{n} {ngettext(one, many, n)}"


def second_factor_summary(user) -> str:
    """'1 authenticator app, 0 passkeys, 9 recovery codes' and the link to
    reset them (which only those who may change users may follow)."""
    if user is None or user.pk is None:
        return "-"
    factors = mfa.factors_of(user)
    parts = [
        counted(len(factors.apps), "authenticator app", "authenticator apps"),
        counted(len(factors.passkeys), "passkey", "passkeys"),
        counted(factors.recovery_left, "recovery code", "recovery codes"),
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
