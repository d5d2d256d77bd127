"""The second step of a sign-in, enrolment, one's own factors, and an
administrator's reset of another user's factors."""

from base64 import b32encode

import segno
from django.contrib import admin, messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from admin_ext.mfa.forms import CodeForm, ConfirmForm, RenameForm, ResetForm
from records.common.errors import ServiceError
from records.users import mfa
from records.users.models import User

E_WRONG_CODE = "That code is not right. Check it and try again."
E_THROTTLED = "Too many wrong codes in a row: wait a few seconds before the next one."
RECOVERY_FILE = "ndas-recovery-codes.txt"


def _context(request: HttpRequest, **extra) -> dict:
    return {**admin.site.each_context(request), **extra}


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("admin:index")


def _qr_svg(url: str) -> str:
    """The otpauth:// address as an inline SVG QR code, drawn on the server."""
    return segno.make(url, error="m").svg_inline(
        scale=4, dark="#111827", light="#ffffff", border=2
    )


@never_cache
@login_required
def verify(request: HttpRequest) -> HttpResponse:
    """The second step: a code from an authenticator app or a recovery code, or a
    passkey (django-otp-webauthn's ceremony, admin_ext.mfa.webauthn)."""
    if mfa.session_passed(request):
        return redirect(_next_url(request))
    if not mfa.has_factor(request.user):
        return redirect("mfa:enrol")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result = mfa.code_verify(request=request, code=form.cleaned_data["code"])
        if result == mfa.PASSED:
            return redirect(_next_url(request))
        if result == mfa.LOCKED:
            # AxesMiddleware answers with the lockout page; the user is signed out.
            return HttpResponse(status=429)
        form.add_error("code", E_THROTTLED if result == mfa.THROTTLED else E_WRONG_CODE)
    factors = mfa.factors_of(request.user)
    return TemplateResponse(
        request,
        "admin_ext/mfa/verify.html",
        _context(
            request,
            title="Second step",
            form=form,
            has_passkey=bool(factors.passkeys),
            has_app=bool(factors.apps),
            next=request.GET.get("next", ""),
        ),
    )


def _enrol_page(request, *, device, form, template="admin_ext/mfa/enrol.html"):
    return TemplateResponse(
        request,
        template,
        _context(
            request,
            title="Set up an authenticator app",
            form=form,
            qr_svg=_qr_svg(device.config_url),
            secret=b32encode(device.bin_key).decode().rstrip("="),
            first=not mfa.session_passed(request),
        ),
    )


@never_cache
@login_required
def enrol(request: HttpRequest) -> HttpResponse:
    """Add an authenticator app: a QR code and its secret, confirmed by one code.
    On a first sign-in (no factor yet) this is the second step; otherwise it needs
    a session that passed it."""
    if not mfa.session_passed(request) and mfa.has_factor(request.user):
        return redirect("mfa:verify")
    device = mfa.totp_setup(request=request)
    form = ConfirmForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        outcome = mfa.totp_confirm(
            request=request, device=device, code=form.cleaned_data["code"]
        )
        if outcome.result == mfa.LOCKED:
            return HttpResponse(status=429)
        if outcome.result == mfa.PASSED:
            if outcome.recovery_codes:
                return _recovery_codes_page(request, outcome.recovery_codes)
            messages.success(request, "Authenticator app added.")
            return redirect("mfa:manage")
        form.add_error(
            "code", E_THROTTLED if outcome.result == mfa.THROTTLED else E_WRONG_CODE
        )
    return _enrol_page(request, device=device, form=form)


def _recovery_codes_page(request: HttpRequest, codes: list[str]) -> HttpResponse:
    text = (
        "NDAS recovery codes for "
        f"{request.user.get_username()}\n"
        "Each works once, in place of an authenticator app code.\n\n"
        + "\n".join(codes)
        + "\n"
    )
    return TemplateResponse(
        request,
        "admin_ext/mfa/recovery_codes.html",
        _context(
            request,
            title="Your recovery codes",
            codes=codes,
            codes_text=text,
            file_name=RECOVERY_FILE,
        ),
    )


@never_cache
@login_required
def manage(request: HttpRequest) -> HttpResponse:
    """One's own factors: authenticator apps, passkeys, recovery codes."""
    factors = mfa.factors_of(request.user)
    return TemplateResponse(
        request,
        "admin_ext/mfa/manage.html",
        _context(
            request,
            title="Sign-in security",
            factors=factors,
            can_remove=len(factors.apps) + len(factors.passkeys) > 1,
            required=mfa.second_factor_required(request.user),
        ),
    )


@never_cache
@login_required
@require_POST
def recovery_codes_new(request: HttpRequest) -> HttpResponse:
    codes = mfa.recovery_codes_replace(request=request)
    return _recovery_codes_page(request, codes)


def _own(request, kind: str, pk: int):
    try:
        return mfa.own_factor(user=request.user, kind=kind, pk=pk)
    except (LookupError, ObjectDoesNotExist) as exc:
        raise Http404 from exc


@never_cache
@login_required
@require_POST
def rename(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    device = _own(request, kind, pk)
    form = RenameForm(request.POST)
    if form.is_valid():
        mfa.factor_rename(
            user=request.user, device=device, name=form.cleaned_data["name"]
        )
        messages.success(request, "Renamed.")
    else:
        messages.error(request, mfa.E_NAME)
    return redirect("mfa:manage")


@never_cache
@login_required
@require_POST
def remove(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    device = _own(request, kind, pk)
    try:
        mfa.factor_remove(request=request, device=device)
    except ServiceError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{device.name} removed.")
    return redirect("mfa:manage")


@never_cache
@login_required
def reset(request: HttpRequest, user_id: int) -> HttpResponse:
    """An administrator resets another user's factors, with a reason; the user
    enrols again at their next sign-in."""
    if not request.user.has_perm("users.change_user"):
        raise PermissionDenied
    target = get_object_or_404(User, pk=user_id)
    form = ResetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            removed = mfa.factors_reset(
                request=request,
                acting_user=request.user,
                user=target,
                reason=form.cleaned_data["reason"],
            )
        except ServiceError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                f"Second factors of {target.name_with_username} reset"
                f" ({removed} removed); they set one up at their next sign-in.",
            )
            return redirect("admin:users_user_change", target.pk)
    factors = mfa.factors_of(target)
    return TemplateResponse(
        request,
        "admin_ext/mfa/reset.html",
        _context(
            request,
            title=f"Reset second factors of {target}",
            target=target,
            form=form,
            factors=factors,
        ),
    )
