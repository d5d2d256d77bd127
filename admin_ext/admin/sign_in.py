"""The sign-in form in the clinic's words: one message for a wrong username or
password (it never says which, nor whether the username exists), and a warning
when few attempts are left before django-axes blocks the sign-in."""

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import ValidationError
from unfold.forms import AuthenticationForm

E_SIGN_IN = "The username or password is not right. Check both and try again."
WARN_WITHIN = 2  # attempts left at which the warning starts


def minutes_blocked() -> int:
    return round(get_cool_off().total_seconds() / 60)


def attempts_left_text(left: int) -> str:
    attempts = "attempt" if left == 1 else "attempts"
    return (
        f"{left} {attempts} left before sign-in is blocked for "
        f"{minutes_blocked()} minutes."
    )


class SignInForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": E_SIGN_IN,
    }

    def get_invalid_login_error(self):
        message = E_SIGN_IN
        request = self.request
        username = self.cleaned_data.get("username") or ""
        if request is not None and username:
            # Counted by axes already (authenticate sent user_login_failed), for
            # known and unknown usernames alike.
            failures = AxesProxyHandler.get_failures(request, {"username": username})
            left = settings.AXES_FAILURE_LIMIT - failures
            if 0 < left <= WARN_WITHIN:
                message = f"{E_SIGN_IN} {attempts_left_text(left)}"
        return ValidationError(message, code="invalid_login")


admin.site.login_form = SignInForm
