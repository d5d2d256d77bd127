"""Admin for users and roles, on unfold's forms."""

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

from records.users.models import User

admin.site.unregister(Group)


@admin.register(User)
class UserAdmin(BaseUserAdmin, ModelAdmin):
    form = UserChangeForm
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
    )
    list_select_related = ()
    show_full_result_count = False


@admin.register(Group)
class RoleAdmin(BaseGroupAdmin, ModelAdmin):
    pass
