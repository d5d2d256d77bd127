"""A locked-out user on their own page: since and until when, and Unlock (django-axes'
own reset, audited), instead of deleting access attempts by hand."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from records.common.display import show_datetime
from records.users.lockout import lockout_lift, lockout_status
from records.users.models import User

NOT_LOCKED = "Not locked out"


def lockout_text(status) -> str:
    return (
        f"Locked out since {show_datetime(status.since)} after "
        f"{status.failures} failed sign-ins, until {show_datetime(status.until)}"
    )


def lockout_summary(user) -> str:
    if user is None or user.pk is None:
        return "-"
    status = lockout_status(user.get_username())
    if status is None:
        return NOT_LOCKED
    return format_html(
        '<strong>{}</strong> &middot; <a class="text-primary-600 underline" '
        'href="{}" data-testid="unlock-link">Unlock now</a>',
        lockout_text(status),
        reverse("admin:users_user_unlock", args=[user.pk]),
    )


def unlock_view(request: HttpRequest, user_id: int) -> HttpResponse:
    """Confirm, then unlock: the user may sign in again at once."""
    if not request.user.has_perm("users.change_user"):
        raise PermissionDenied
    target = get_object_or_404(User, pk=user_id)
    if request.method == "POST":
        removed = lockout_lift(actor=request.user, user=target)
        if removed:
            messages.success(request, f"{target} can sign in again.")
        else:
            messages.info(request, f"{target} was not locked out.")
        return redirect("admin:users_user_change", target.pk)
    from django.contrib import admin

    status = lockout_status(target.get_username())
    return TemplateResponse(
        request,
        "admin_ext/user_unlock.html",
        {
            **admin.site.each_context(request),
            "title": f"Unlock {target}",
            "target": target,
            "status_text": lockout_text(status) if status else NOT_LOCKED,
            "locked": status is not None,
            "opts": User._meta,
        },
    )
