"""Admin for access: care teams, emergency-access review, sign-in events, lockouts."""

from axes import admin as axes_admin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django import forms
from django.contrib import admin
from django.contrib.auth.models import Group
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import ngettext
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import FieldTextFilter
from unfold.decorators import display
from unfold.widgets import UnfoldAdminSelect2MultipleWidget

from admin_ext.admin.break_glass_review import review_note, review_page
from admin_ext.admin.date_filters import LocalDateTimeRangeFilter
from admin_ext.admin.shared import ReadOnlyAdminMixin, reason_field
from admin_ext.admin.search import BoundedSearchMixin, SessionSearchMixin
from admin_ext.admin.sign_in_display import KindFilter, SignInDisplayMixin
from records.common.display import show_datetime, show_time
from records.patients import services as patient_services
from records.patients.models import BreakGlassGrant
from records.users import services
from records.users.models import CareTeam, LoginEvent, User


class CareTeamForm(forms.ModelForm):
    members = forms.ModelMultipleChoiceField(
        queryset=User.objects.filter(is_active=True),
        required=False,
        widget=UnfoldAdminSelect2MultipleWidget,
        help_text="Members open the charts assigned to this team.",
    )
    change_reason = reason_field()

    class Meta:
        model = CareTeam
        fields = ("name", "description")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["members"].initial = list(self.instance.group.user_set.all())

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        # A team's name is its group's name: a role cannot share it.
        if not self.instance.pk and Group.objects.filter(name=name).exists():
            raise forms.ValidationError(services.E_TEAM_NAME_TAKEN)
        return name


@admin.register(CareTeam)
class CareTeamAdmin(BoundedSearchMixin, ModelAdmin):
    form = CareTeamForm
    list_display = ("name", "description", "member_count")
    search_fields = ("name",)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(member_count=Count("group__user", distinct=True))
        )

    @display(description="Members", ordering="member_count")
    def member_count(self, obj):
        return obj.member_count

    def get_readonly_fields(self, request, obj=None):
        # The name is the group's name too; a renamed team is a new team.
        return ("name",) if obj else ()

    def get_fields(self, request, obj=None):
        # The name first, read-only or not.
        return ("name", "description", "members", "change_reason")

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # Save, or save and keep editing: "add another" belongs to the list.
        extra_context = {**(extra_context or {}), "show_save_and_add_another": False}
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        if not change:
            created = services.care_team_create(
                acting_user=request.user,
                name=form.cleaned_data["name"],
                description=form.cleaned_data.get("description", ""),
            )
            obj.pk, obj.group = created.pk, created.group
        else:
            services.care_team_update(
                acting_user=request.user,
                team=obj,
                description=form.cleaned_data.get("description", ""),
                reason=form.cleaned_data.get("change_reason", ""),
            )

    def delete_model(self, request, obj):
        patient_services.care_team_delete(acting_user=request.user, team=obj)

    def delete_queryset(self, request, queryset):
        for team in queryset:
            patient_services.care_team_delete(acting_user=request.user, team=team)

    def save_related(self, request, form, formsets, change):
        services.care_team_set_members(
            acting_user=request.user,
            team=form.instance,
            members=form.cleaned_data.get("members", []),
            reason=form.cleaned_data.get("change_reason", ""),
        )


@admin.register(BreakGlassGrant)
class BreakGlassGrantAdmin(ReadOnlyAdminMixin, SessionSearchMixin, ModelAdmin):
    """The auditors' review list of emergency access."""

    list_display = (
        "granted_at",
        "staff",
        "chart",
        "reason",
        "state",
        "use_count",
        "acknowledged",
    )
    list_filter = (
        ("granted_at", LocalDateTimeRangeFilter),
        ("acknowledged_at", admin.EmptyFieldListFilter),
    )
    list_filter_submit = True
    list_select_related = ("user", "patient", "acknowledged_by")
    search_fields = ("user__username", "patient__mrn")
    actions = ["acknowledge"]
    show_full_result_count = False

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(use_count=Count("uses"))

    # Read-only: granted only through the emergency-access page; evidence for
    # auditors, never deleted from here.

    def has_acknowledge_permission(self, request):
        return request.user.has_perm("patients.acknowledge_breakglassgrant")

    @display(description="State")
    def state(self, obj):
        if obj.expires_at > timezone.now():
            return f"Live until {show_time(obj.expires_at)}"
        return f"Ended {show_datetime(obj.expires_at)}"

    @display(description="Uses", ordering="use_count")
    def use_count(self, obj):
        return obj.use_count

    @display(description="Acknowledged", ordering="acknowledged_at")
    def acknowledged(self, obj):
        """Who acknowledged it and when (read with the row: no query of its own)."""
        if obj.acknowledged_at is None:
            return "Not yet"
        by = obj.acknowledged_by.name_with_username if obj.acknowledged_by else ""
        note = f": {obj.review_note}" if obj.review_note else ""
        return f"By {by}, {show_datetime(obj.acknowledged_at)}{note}"

    @display(description="User", ordering="user__username")
    def staff(self, obj):
        return obj.user.name_with_username

    @display(description="Patient", ordering="patient__mrn")
    def chart(self, obj):
        """The chart's summary, where any opening of a patient lands."""
        url = reverse("admin:patients_patient_summary", args=[obj.patient_id])
        return format_html(
            '<a class="text-primary-600" href="{}">{}</a>', url, obj.patient
        )

    @admin.action(description="Acknowledge selected", permissions=["acknowledge"])
    def acknowledge(self, request, queryset):
        note = review_note(request)
        if note is None:  # first the grants and a note: break_glass_review
            return review_page(self, request, queryset)
        done = 0
        for grant in queryset.filter(acknowledged_at__isnull=True):
            patient_services.break_glass_acknowledge(
                acting_user=request.user, grant=grant, note=note
            )
            done += 1
        self.message_user(
            request,
            ngettext(
                "%(n)d emergency access acknowledged.",
                "%(n)d emergency accesses acknowledged.",
                done,
            )
            % {"n": done},
        )


@admin.register(LoginEvent)
class LoginEventAdmin(
    ReadOnlyAdminMixin, SignInDisplayMixin, BoundedSearchMixin, ModelAdmin
):
    """Read-only: sign-ins, failures, lockouts and sign-outs, for auditors."""

    list_display = (
        "at",
        "what_happened",
        "username",
        "user",
        "ip",
        "device_type",
        "browser",
        "os",
    )
    list_filter = (
        KindFilter,
        ("at", LocalDateTimeRangeFilter),
        ("username", FieldTextFilter),
        ("ip", FieldTextFilter),
        ("user", admin.RelatedOnlyFieldListFilter),
        "device_type",
    )
    list_filter_submit = True
    list_select_related = ("user",)
    search_fields = ("username", "ip")
    show_full_result_count = False


# --- lockouts (django-axes' own admins, with bounded searches and no action for
# those who may not delete) --------------------------------------------------------


class LockoutAdminMixin(BoundedSearchMixin):
    def delete_model(self, request, obj):
        self._lifted(request, [obj])
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        self._lifted(request, list(queryset))
        super().delete_queryset(request, queryset)

    @staticmethod
    def _lifted(request, attempts) -> None:
        """Removing a lockout by hand lets its username sign in again: audited."""
        for attempt in attempts:
            if isinstance(attempt, AccessAttempt):
                services.lockout_lifted_audit(
                    actor=request.user,
                    username=attempt.username or "",
                    attempt_id=attempt.pk,
                )

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not self.has_delete_permission(request):
            actions.pop("cleanup_expired_attempts", None)
        return actions


class AccessAttemptAdmin(LockoutAdminMixin, axes_admin.AccessAttemptAdmin):
    """Lockouts, in the clinic's words: who, from where, how many failures, since
    when; deleting an entry unlocks (and is audited)."""

    list_display = [
        "username",
        "ip_address",
        "failures",
        "first_failure",
        "status",
        "device",
    ]

    def changelist_view(self, request, extra_context=None):
        title = "Lockouts and failed sign-ins"
        return super().changelist_view(
            request, {**(extra_context or {}), "title": title}
        )

    @display(description="Failed sign-ins", ordering="failures_since_start")
    def failures(self, obj):
        return obj.failures_since_start

    @display(description="First failure", ordering="attempt_time")
    def first_failure(self, obj):
        return show_datetime(obj.attempt_time)

    @display(description="Device")
    def device(self, obj):
        return services.user_agent_describe(obj.user_agent or "")

    def get_actions(self, request):
        actions = super().get_actions(request)
        if "delete_selected" in actions:
            func, name, _ = actions["delete_selected"]
            actions["delete_selected"] = (func, name, "Unlock the selected")
        return actions


class AccessLogAdmin(LockoutAdminMixin, axes_admin.AccessLogAdmin):
    pass


class AccessFailureLogAdmin(LockoutAdminMixin, axes_admin.AccessFailureLogAdmin):
    pass


for _model, _admin in (
    (AccessAttempt, AccessAttemptAdmin),
    (AccessLog, AccessLogAdmin),
    (AccessFailureLog, AccessFailureLogAdmin),
):
    admin.site.unregister(_model)
    admin.site.register(_model, _admin)
