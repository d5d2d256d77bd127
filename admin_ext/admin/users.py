"""Admin for users and roles, on unfold's forms."""

from axes.helpers import get_lockout_response
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.contrib.auth.views import PasswordChangeView
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from simple_history.admin import SimpleHistoryAdmin
from unfold.forms import AdminOwnPasswordChangeForm, AdminPasswordChangeForm

from admin_ext.admin import sign_in, user_lockout  # noqa: F401 (sign_in: the form)
from admin_ext.admin.history import ReadOnlyHistoryMixin
from admin_ext.admin.shared import ReadOnlyAdminMixin
from admin_ext.admin.search import BoundedSearchMixin
from admin_ext.admin.user_forms import UserAddForm, UserForm
from admin_ext.mfa.summary import second_factor_summary
from records.common.services import history_note
from records.users.lockout import password_confirm
from records.users import roles, services
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


class RoleFilter(admin.SimpleListFilter):
    title = "role"
    parameter_name = "role"

    def lookups(self, request, model_admin):
        return [(name, name) for name in roles.ROLES]

    def queryset(self, request, queryset):
        if self.value() in roles.ROLES:
            return queryset.filter(groups__name=self.value())
        return queryset


@admin.register(User)
class UserAdmin(
    ReadOnlyHistoryMixin,
    BoundedSearchMixin,
    SimpleHistoryAdmin,
    BaseUserAdmin,
    ModelAdmin,
):
    form = UserForm
    add_form = UserAddForm
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
    list_filter = ("is_active", RoleFilter)
    readonly_fields = (
        "password_link",
        "sign_in_lockout",
        "last_login",
        "last_login_ip",
        "last_login_device",
        "date_joined",
        "second_factor",
    )
    fieldsets = (
        (
            None,
            {"fields": ("first_name", "last_name", "username", "email", "is_active")},
        ),
        (_("Role and care teams"), {"fields": ("role", "care_teams")}),
        (
            _("Sign-in"),
            {
                "fields": (
                    "password_link",
                    "sign_in_lockout",
                    "second_factor",
                    "last_login",
                    "last_login_ip",
                    "last_login_device",
                    "date_joined",
                )
            },
        ),
        (_("Change"), {"fields": ("change_reason",)}),
    )
    add_fieldsets = ((None, {"fields": ("username", "password1", "password2")}),)
    list_select_related = ()
    show_full_result_count = False

    @admin.display(description="Password")
    def password_link(self, obj):
        if obj is None or obj.pk is None:
            return "-"
        return format_html(
            '<a class="text-primary-600 underline" href="{}">Set a new password</a>',
            reverse("admin:auth_user_password_change", args=[obj.pk]),
        )

    @admin.display(description="Sign-in lockout")
    def sign_in_lockout(self, obj):
        """Locked out or not; since and until when, and the Unlock link."""
        return user_lockout.lockout_summary(obj)

    @admin.display(description="Second factor")
    def second_factor(self, obj):
        """The user's factors, and the link to reset them (admin_ext.mfa)."""
        return second_factor_summary(obj)

    def get_urls(self):
        return [
            path(
                "<int:user_id>/unlock/",
                self.admin_site.admin_view(user_lockout.unlock_view),
                name="users_user_unlock",
            ),
            *super().get_urls(),
        ]

    def has_delete_permission(self, request, obj=None):
        # Deactivate instead: a user's name stays on everything they did
        # (records.common.models.change_history).
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # Save, or save and keep editing: "add another" belongs to the list.
        extra_context = {**(extra_context or {}), "show_save_and_add_another": False}
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        reason = form.cleaned_data.get("change_reason", "") if change else ""
        history_note(obj, user=request.user, reason=reason or "")
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if isinstance(form, UserForm):
            # Each group joined or left is an audit event
            # (records.users.receivers.on_groups_changed).
            form.instance.groups.set(form.groups_wanted())


@admin.register(Group)
class RoleAdmin(ReadOnlyAdminMixin, BoundedSearchMixin, BaseGroupAdmin, ModelAdmin):
    """The roles alone (care teams are groups too, with their own page), each with
    what it allows in plain words. Read-only: a role's permissions are defined in
    records/users/roles.py and re-applied on every migrate, which would silently
    undo an edit made here."""

    list_display = ("name", "allows_in_brief", "people")
    fields = ("name", "allows", "people")
    readonly_fields = ("name", "allows", "people")

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .filter(name__in=roles.ROLES)
            .annotate(people=Count("user", distinct=True))
        )

    @admin.display(description="What it allows")
    def allows(self, obj):
        return format_html(
            '<ul class="list-disc ml-4">{}</ul>',
            format_html_join("", "<li>{}</li>", ((line,) for line in _summary(obj))),
        )

    @admin.display(description="What it allows")
    def allows_in_brief(self, obj):
        return _summary(obj)[0]

    @admin.display(description="People", ordering="people")
    def people(self, obj):
        return getattr(obj, "people", None) or obj.user_set.count()

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(
            request, {**(extra_context or {}), "title": "Roles"}
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        group = self.get_object(request, object_id)
        title = f"Role: {group.name}" if group else "Role"
        return super().change_view(
            request, object_id, form_url, {**(extra_context or {}), "title": title}
        )


def _summary(group) -> tuple[str, ...]:
    return roles.ROLE_SUMMARIES.get(group.name, ("",))
