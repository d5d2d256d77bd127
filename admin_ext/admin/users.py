"""Admin for users and roles, on unfold's forms."""

from axes.helpers import get_lockout_response
from django import forms
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.contrib.auth.views import PasswordChangeView
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from simple_history.admin import SimpleHistoryAdmin
from unfold.forms import (
    AdminOwnPasswordChangeForm,
    AdminPasswordChangeForm,
    UserChangeForm,
    UserCreationForm,
)
from unfold.widgets import UnfoldAdminTextInputWidget

from admin_ext.admin.history import ReadOnlyHistoryMixin
from admin_ext.admin.search import BoundedSearchMixin
from admin_ext.mfa.summary import second_factor_summary
from records.common.services import history_note
from records.users.lockout import password_confirm
from records.users import services
from records.users.models import User

admin.site.unregister(Group)


class OwnPasswordChangeForm(AdminOwnPasswordChangeForm):
    """Changing one's own password: a wrong current password is a failed sign-in
    (records.users.lockout.password_confirm)."""

    def __init__(self, user, *args, request, **kwargs):
        super().__init__(user, *args, **kwargs)
        self.request = request

    def clean_old_password(self):
        old_password = self.cleaned_data["old_password"]
        if not password_confirm(
            request=self.request, user=self.user, password=old_password
        ):
            raise ValidationError(
                self.error_messages["password_incorrect"], code="password_incorrect"
            )
        return old_password


class OwnPasswordChangeView(PasswordChangeView):
    form_class = OwnPasswordChangeForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}

    def form_valid(self, form):
        response = super().form_valid(form)
        services.user_password_changed_audit(actor=form.user, user=form.user)
        return response

    def form_invalid(self, form):
        # Locked, and so signed out: the lockout page, not the form of a user gone.
        if getattr(self.request, "axes_locked_out", False):
            return get_lockout_response(
                self.request, None, getattr(self.request, "axes_credentials", None)
            )
        return super().form_invalid(form)


def own_password_change(request, extra_context=None):
    """The site's /admin/password_change/, as unfold's, with the form above: unfold
    names its form in the view itself, so the site's view is replaced."""
    site = admin.site
    defaults = {
        "success_url": reverse(f"{site.name}:password_change_done"),
        "extra_context": {**site.each_context(request), **(extra_context or {})},
    }
    if site.password_change_template is not None:
        defaults["template_name"] = site.password_change_template
    request.current_app = site.name
    return OwnPasswordChangeView.as_view(**defaults)(request)


# Before the site's URLs are built (ndas.urls), which wrap this attribute.
admin.site.password_change = own_password_change


class UserForm(UserChangeForm):
    change_reason = forms.CharField(
        label="Reason for change",
        required=False,
        max_length=200,
        widget=UnfoldAdminTextInputWidget,
        help_text="Kept in the account's history.",
    )


@admin.register(User)
class UserAdmin(
    ReadOnlyHistoryMixin,
    BoundedSearchMixin,
    SimpleHistoryAdmin,
    BaseUserAdmin,
    ModelAdmin,
):
    form = UserForm
    add_form = UserCreationForm
    change_password_form = AdminPasswordChangeForm

    def user_change_password(self, request, id, form_url=""):
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:  # saved
            services.user_password_changed_audit(
                actor=request.user, user=User.objects.get(pk=id)
            )
        return response

    list_display = (
        "username",
        "email",
        "first_name",
        "last_name",
        "is_active",
        "last_login",
    )
    list_filter = ("is_active", "is_staff", "groups")
    readonly_fields = (
        "last_login",
        "last_login_ip",
        "last_login_device",
        "date_joined",
        "second_factor",
    )
    fieldsets = BaseUserAdmin.fieldsets + (
        (
            _("Last sign-in"),
            {"fields": ("last_login_ip", "last_login_device", "second_factor")},
        ),
        (_("Change"), {"fields": ("change_reason",)}),
    )
    list_select_related = ()
    show_full_result_count = False

    @admin.display(description="Second factor")
    def second_factor(self, obj):
        """The user's factors, and the link to reset them (admin_ext.mfa)."""
        return second_factor_summary(obj)

    def has_delete_permission(self, request, obj=None):
        # Deactivate instead: a user's name stays on everything they did
        # (records.common.models.change_history).
        return False

    def save_model(self, request, obj, form, change):
        reason = form.cleaned_data.get("change_reason", "") if change else ""
        history_note(obj, user=request.user, reason=reason or "")
        super().save_model(request, obj, form, change)


@admin.register(Group)
class RoleAdmin(BoundedSearchMixin, BaseGroupAdmin, ModelAdmin):
    """Read-only: a role's permissions are defined in records/users/roles.py and
    re-applied on every migrate, which would silently undo an edit made here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
