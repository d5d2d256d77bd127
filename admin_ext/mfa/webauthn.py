"""django-otp-webauthn's ceremony views, as the second step allows them: a passkey
is a second factor only (a password first), is added only by a session that passed
the second factor, and each refusal counts as a failed sign-in."""

from django.http import JsonResponse
from django_otp_webauthn import exceptions
from django_otp_webauthn.views import (
    BeginCredentialAuthenticationView,
    BeginCredentialRegistrationView,
    CompleteCredentialAuthenticationView,
    CompleteCredentialRegistrationView,
)

from records.users import mfa

E_NOT_PASSED = "Pass the second step of signing in before adding a passkey."


class NotSignedIn(exceptions.OTPWebAuthnApiError):
    status_code = 403
    code = "not_signed_in"
    default_detail = "Sign in with your password first."


class LockedOut(exceptions.OTPWebAuthnApiError):
    status_code = 429
    code = "locked_out"
    default_detail = "Too many failed sign-ins: try again later."


class PassedOnly:
    """Registration: the user must have passed the second factor in this session
    (django-otp-webauthn lets a user with no factor register one unverified)."""

    def check_can_register(self):
        if not mfa.session_passed(self.request):
            raise exceptions.NotVerified(detail=E_NOT_PASSED)


class BeginRegistration(PassedOnly, BeginCredentialRegistrationView):
    pass


class CompleteRegistration(PassedOnly, CompleteCredentialRegistrationView):
    def post(self, *args, **kwargs):
        response = super().post(*args, **kwargs)
        device_id = self._device_id(response)
        if device_id is not None:
            device = mfa.WebAuthnCredential.objects.get(pk=device_id)
            mfa.passkey_added(request=self.request, device=device)
        return response

    @staticmethod
    def _device_id(response):
        import json

        if response.status_code != 200:
            return None
        return json.loads(response.content).get("id")


class SignedInOnly:
    """Authentication: after the password only, and not while locked out."""

    def check_can_authenticate(self):
        user = self.get_user()
        if user is None or not user.is_active:
            raise NotSignedIn()
        if not mfa.passkey_may_try(request=self.request):
            raise LockedOut()


class BeginAuthentication(SignedInOnly, BeginCredentialAuthenticationView):
    pass


class CompleteAuthentication(SignedInOnly, CompleteCredentialAuthenticationView):
    def post(self, *args, **kwargs):
        user = self.request.user
        try:
            return super().post(*args, **kwargs)
        except exceptions.OTPWebAuthnApiError as exc:
            # A passkey refused (wrong key, a replayed or forged answer).
            result = mfa.second_factor_failed(
                request=self.request, user=user, factor="passkey"
            )
            status = 429 if result == mfa.LOCKED else exc.status_code
            return JsonResponse({"detail": str(exc), "code": exc.code}, status=status)

    def complete_auth(self, device):
        if device.user_id != self.request.user.pk:
            raise exceptions.CredentialNotFound()
        mfa.second_factor_passed(request=self.request, device=device)
