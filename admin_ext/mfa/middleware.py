"""Until the second factor passes, a session that passed the password reaches only
that step, sign-out and the passkey ceremony (the health checks are answered
before sessions, static files by WhiteNoise)."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse

from records.users import mfa

OPEN_URL_NAMES = (
    "mfa:verify",
    "mfa:enrol",
    "admin:login",
    "admin:logout",
    "otp_webauthn:credential-authentication-begin",
    "otp_webauthn:credential-authentication-complete",
    "otp_webauthn:js-i18n-catalog",
)
E_SECOND_FACTOR = "Finish signing in: your second factor is needed."


def _wants_json(request: HttpRequest) -> bool:
    return (
        request.headers.get("x-requested-with") == "XMLHttpRequest"
        or "application/json" in request.headers.get("accept", "")
        or request.content_type == "application/json"
    )


class SecondFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self._open_paths = None

    def open_paths(self) -> frozenset[str]:
        if self._open_paths is None:
            self._open_paths = frozenset(reverse(name) for name in OPEN_URL_NAMES)
        return self._open_paths

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and not mfa.session_passed(request)
            and request.path not in self.open_paths()
            and not request.path.startswith(settings.STATIC_URL)
            and mfa.second_factor_due(user)
        ):
            return self.refuse(request)
        return self.get_response(request)

    @staticmethod
    def refuse(request: HttpRequest) -> HttpResponse:
        if _wants_json(request):
            return JsonResponse(
                {
                    "status": "error",
                    "error_code": "second_factor_required",
                    "message": E_SECOND_FACTOR,
                },
                status=403,
            )
        if request.method not in ("GET", "HEAD"):
            return HttpResponse(E_SECOND_FACTOR, status=403, content_type="text/plain")
        target = "mfa:verify" if mfa.has_factor(request.user) else "mfa:enrol"
        return redirect(target)
