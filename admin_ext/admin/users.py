"""Admin for users and roles, on unfold's forms."""

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from simple_history.admin import SimpleHistoryAdmin
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm
from unfold.widgets import UnfoldAdminTextInputWidget

from records.common.services import history_note
from records.users.models import User

admin.site.unregister(Group)


class UserForm(UserChangeForm):
    change_reason = forms.CharField(
        label="Reason for change",
        required=False,
        max_length=200,
        widget=UnfoldAdminTextInputWidget,
        help_text="Kept in the account's history.",
    )


@admin.register(User)
class UserAdmin(SimpleHistoryAdmin, BaseUserAdmin, ModelAdmin):
    form = UserForm
    add_form = UserCreationForm
    change_password_form = AdminPasswordChangeForm
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
    )
    fieldsets = BaseUserAdmin.fieldsets + (
        (_("Last sign-in"), {"fields": ("last_login_ip", "last_login_device")}),
        (_("Change"), {"fields": ("change_reason",)}),
    )
    list_select_related = ()
    show_full_result_count = False

    def has_delete_permission(self, request, obj=None):
        # Deactivate instead: a user's name stays on everything they did
        # (records.common.models.change_history).
        return False

    def save_model(self, request, obj, form, change):
        reason = form.cleaned_data.get("change_reason", "") if change else ""
        history_note(obj, user=request.user, reason=reason or "")
        super().save_model(request, obj, form, change)


@admin.register(Group)
class RoleAdmin(BaseGroupAdmin, ModelAdmin):
    """Read-only: a role's permissions are defined in records/users/roles.py and
    re-applied on every migrate, which would silently undo an edit made here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
