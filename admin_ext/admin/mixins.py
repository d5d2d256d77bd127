"""Shared behaviour of the chart admins: services for every write, stale-edit and
final-record checks on the form, a reason for changes and deletions.

Why one module past 400 lines: ChartAdmin and LockableAdmin share their forms and
hooks; splitting it (forms / chart admin / lockable admin) is still to do (issue #14).
"""

import copy

from django import forms
from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import EMPTY_VALUES
from django.http import Http404, HttpResponseRedirect
from django.utils import timezone
from simple_history.admin import SimpleHistoryAdmin
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import RangeDateFilter, RangeDateTimeFilter
from unfold.decorators import display
from unfold.utils import parse_datetime_str
from unfold.widgets import UnfoldBooleanSwitchWidget

from admin_ext.admin.autocomplete import PostedAutocompleteMixin
from admin_ext.admin.form_display import (
    NEW_RECORD_HIDDEN,
    DecimalDisplayMixin,
    decimals_shown,
    shown_names,
    fieldsets_without,
    prepare_fields,
)
from admin_ext.admin.history import ReadOnlyHistoryMixin
from admin_ext.admin.history_display import ChartHistoryContextHelper
from admin_ext.admin.search import SessionSearchMixin
from admin_ext.admin.shared import reason_field
from admin_ext.admin.sign_off import SIGNED_OFF, signed_off_kind, signed_off_text
from records.common.errors import ServiceError
from records.common.services import E_REASON_REQUIRED, version_check
from records.patients.models import PatientStatus, RecordStatus
from records.audit.models import Action
from records.audit.services import audit_object
from records.patients.repositories import opens_every_chart, patients_visible_to
from records.patients.services import break_glass_use_record
from records.patients.services import lifecycle
from records.patients.services.access import STAFF_FIELDS, chart_write_check
from records.patients.services.lifecycle import RecordKind
from records.users.models import User
from records.users.repositories import clinicians

STATUS_COLOURS = {
    PatientStatus.ACTIVE: "success",
    PatientStatus.ARCHIVED: "info",
    PatientStatus.DECEASED: "danger",
    RecordStatus.DRAFT: "warning",
    RecordStatus.FINAL: "success",
}

E_FINAL_NEEDS_REASON = (
    "This record is final: saving it is an amendment. Give the reason for it."
)


class StaffChoiceField(forms.ModelChoiceField):
    """An assessor or clinician picked by full name, with the username that tells
    two people of one name apart."""

    def label_from_instance(self, obj):
        return obj.name_with_username


class StatusLabelMixin:
    """A chart's or record's status as a coloured label in the list."""

    @display(description="Status", label=STATUS_COLOURS)
    def status_label(self, obj):
        return obj.status


class ChartForm(forms.ModelForm):
    """Carries the version the user opened and the reason for the change."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    change_reason = reason_field(
        help_text="Kept in the history. Required to amend a final record."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["expected_version"].initial = self.instance.version
        prepare_fields(self)

    def clean(self):
        cleaned = super().clean()
        if not self.instance.pk:
            return cleaned
        current = type(self.instance)._default_manager.get(pk=self.instance.pk)
        try:
            version_check(current, cleaned.get("expected_version"))
        except ServiceError as error:
            raise forms.ValidationError(error.messages) from None
        is_final = getattr(current, "status", None) == RecordStatus.FINAL
        if is_final and self.has_changed() and not cleaned.get("change_reason"):
            self.add_error("change_reason", E_FINAL_NEEDS_REASON)
        return cleaned


class LockableForm(ChartForm):
    """Drafts can be made final from the form; a final record is then amended."""

    make_final = forms.BooleanField(
        label="Make final",
        required=False,
        widget=UnfoldBooleanSwitchWidget,
        help_text="A final record can only be changed by an amendment with a reason.",
    )


class ChartAdmin(
    DecimalDisplayMixin,
    ReadOnlyHistoryMixin,
    PostedAutocompleteMixin,
    SessionSearchMixin,
    SimpleHistoryAdmin,
    ModelAdmin,
):
    """Base of every chart admin. Subclasses name their services."""

    form = ChartForm
    show_full_result_count = False
    list_per_page = 50
    # Bulk deletion would skip the reason each deletion needs.
    actions = None

    def get_readonly_fields(self, request, obj=None):
        fields = (*super().get_readonly_fields(request, obj), "version")
        if obj is not None and not self.has_change_permission(request, obj):
            # The displays get_fieldsets swaps in (shown_*) are no form fields:
            # read-only on every page that builds the form (a past version's too).
            fields = (*fields, *shown_names(self.model))
        return fields

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None and not self.has_change_permission(request, obj):
            fieldsets = decimals_shown(self.model, fieldsets)  # 7.6, not 7.600
        # A new record has no version yet and no change to give a reason for.
        return (
            fieldsets_without(fieldsets, NEW_RECORD_HIDDEN)
            if obj is None
            else fieldsets
        )

    def get_historical_record_context_helper(self, request, historical_record):
        return ChartHistoryContextHelper(self.model, historical_record)

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        # unfold offers an empty choice only for blank=True fields, so a required
        # choice without a default (a patient's sex, an instrument, a visit's
        # type) started on its first value, which was saved unread. Start empty:
        # the user must choose.
        if "choices" not in kwargs and not db_field.has_default():
            kwargs["choices"] = db_field.get_choices(
                include_blank=True, blank_choice=[("", "Select value")]
            )
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        # Django redirects to the index with "doesn't exist"; a chart outside the
        # user's access must be indistinguishable from one that does not exist.
        raise Http404

    @staticmethod
    def patient_id_of(obj) -> int:
        return obj.patient_id

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None and request.method == "GET":
            # Reading a page; a save is audited by its service as a change.
            self.chart_opened(request, obj)
        return obj

    def history_view(self, request, object_id, extra_context=None):
        obj = self._history_subject(request, object_id)
        response = super().history_view(request, object_id, extra_context)
        if obj is not None:
            self.chart_opened(request, obj, "history")
        return response

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        obj = self._history_subject(request, object_id)
        response = super().history_form_view(
            request, object_id, version_id, extra_context
        )
        if obj is not None:
            self.chart_opened(request, obj, "history")
        return response

    def _history_subject(self, request, object_id):
        """The object whose history is asked for, if the user may see it.

        django-simple-history reads history tables directly, and shows the history
        of deleted rows too: a deleted chart's history is for those who may open
        every chart; anything else out of reach is a 404.
        """
        try:
            obj = self.get_queryset(request).filter(pk=unquote(object_id)).first()
        except (ValueError, ValidationError):
            raise Http404 from None
        if obj is not None:
            return obj
        deleted = not self.model._default_manager.filter(pk=unquote(object_id)).exists()
        if deleted and opens_every_chart(request.user):
            return None
        raise Http404

    def chart_opened(self, request, obj, what: str = "") -> None:
        """Every opening of a chart's page or file: one audit event each; those
        under emergency access are also counted against the grant."""
        action = f"{obj._meta.model_name} {what}".strip()
        break_glass_use_record(
            user=request.user, patient_id=self.patient_id_of(obj), action=action
        )
        audit_object(
            action=Action.DOWNLOAD if what == "download" else Action.VIEW,
            actor=request.user,
            obj=obj,
            summary=f"{what or 'view'} {obj._meta.verbose_name} #{obj.pk}",
        )

    def has_change_permission(self, request, obj=None):
        # Object-aware: the services' rule for this object (a chart the user
        # reaches, and not only by emergency access unless they may record there).
        allowed = super().has_change_permission(request, obj)
        if not allowed or obj is None:
            return allowed
        # Asked several times while a page renders: answer from the database once.
        writable = request.__dict__.setdefault("_ndas_writable", {})
        key = (obj._meta.label_lower, obj.pk)
        if key not in writable:
            try:
                chart_write_check(acting_user=request.user, instance=obj)
            except PermissionDenied:
                writable[key] = False
            else:
                writable[key] = True
        return writable[key]

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ServiceError as error:
            # The admin's transaction has rolled back: nothing of this save is kept.
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def delete_view(self, request, object_id, extra_context=None):
        extra_context = {**(extra_context or {}), "ask_reason": True}
        if (
            request.method == "POST"
            and not request.POST.get("delete_reason", "").strip()
        ):
            self.message_user(request, E_REASON_REQUIRED, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())
        try:
            return super().delete_view(request, object_id, extra_context)
        except ServiceError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def delete_model(self, request, obj):
        self.service_delete(request, obj, request.POST["delete_reason"].strip())

    def service_delete(self, request, obj, reason: str) -> None:
        raise PermissionDenied  # pragma: no cover - every subclass names its service

    @staticmethod
    def reason(form) -> str:
        return form.cleaned_data.get("change_reason", "") if form else ""


# The change page of a final record in amend mode: ?amend=1.
AMEND_PARAM = "amend"
SIGN_OFF_FORM_FIELDS = ("make_final", "change_reason", "expected_version")


# The last fieldset of a lockable record's form (assessments, visits).
SIGN_OFF_FIELDSET = (
    "Sign-off",
    {
        "fields": (
            "status",
            "make_final",
            "change_reason",
            "expected_version",
            "version",
        )
    },
)


def record_columns(staff: str, *columns: str) -> tuple[str, ...]:
    """A clinical record's list columns: the record, its chart, who recorded it,
    the kind's own columns, its status."""
    return ("__str__", "patient", staff, *columns, "status_label")


def record_filters(*filters: str, date: str) -> tuple:
    """A clinical record's list filters: the kind's own, its status, its date."""
    return (*filters, "status", (date, RangeDateFilter))


class LockableAdmin(StatusLabelMixin, ChartAdmin):
    """Assessments and visit records: drafts edited, finals amended with a reason.

    A final record's page is read-only, with an *Amend* button that opens the same
    form in amend mode (?amend=1): the reason first, and required. A POST to the
    change page is an amendment as it always was (the form still asks a reason for
    any change of a final record).
    """

    change_form_template = "admin_ext/lockable_change_form.html"
    # Which kind of record (records.patients.services.lifecycle): every write of
    # the admin goes through that kind's lifecycle.
    record_kind: RecordKind
    list_filter_submit = True
    autocomplete_fields = ("patient",)

    @staticmethod
    def is_final(obj) -> bool:
        return obj is not None and obj.status == RecordStatus.FINAL

    @staticmethod
    def amend_asked(request) -> bool:
        return request.method == "GET" and AMEND_PARAM in request.GET

    def shown_read_only(self, request, obj) -> bool:
        """A final record opened to read (not to amend): every field read-only."""
        return (
            getattr(request, "_ndas_record_page", False)
            and request.method == "GET"
            and self.is_final(obj)
            and not self.amend_asked(request)
        )

    def may_amend(self, request, obj) -> bool:
        return super().has_change_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        if allowed and self.shown_read_only(request, obj):
            return False
        return allowed

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        request._ndas_record_page = True
        return super().changeform_view(request, object_id, form_url, extra_context)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if not self.is_final(obj):
            return fieldsets
        # A final record has nothing to make final; read, it has no form fields at
        # all; amended, the reason comes first.
        drop = {*SIGN_OFF_FORM_FIELDS, "version"}  # the banner says who signed off
        if not self.shown_read_only(request, obj):
            drop = {"make_final", "change_reason"}
        kept = fieldsets_without(fieldsets, drop)
        if not self.shown_read_only(request, obj):
            amendment = (
                "Amendment",
                {
                    "fields": ("change_reason",),
                    "description": (
                        "This record is final. Say why it is being amended; the "
                        "history keeps the version it replaces."
                    ),
                },
            )
            kept.insert(0, amendment)
        return kept

    def render_change_form(
        self, request, context, add=False, change=False, form_url="", obj=None
    ):
        if change and self.is_final(obj):
            context["signed_off"] = signed_off_text(obj)
            if self.shown_read_only(request, obj):
                if self.may_amend(request, obj):
                    context["amend_url"] = f"{request.path}?{AMEND_PARAM}=1"
                context["final_read_only"] = True
            else:
                context["amending"] = True
        return super().render_change_form(request, context, add, change, form_url, obj)

    def response_change(self, request, obj):
        response = super().response_change(request, obj)
        # Saved: back to the record as it now stands (read-only when final).
        location = response.get("Location", "")
        if AMEND_PARAM in request.GET and location.startswith(request.path):
            response["Location"] = request.path
        return response

    def get_readonly_fields(self, request, obj=None):
        return (*super().get_readonly_fields(request, obj), "status")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name in STAFF_FIELDS:
            kwargs["queryset"] = clinicians()
            kwargs.setdefault("form_class", StaffChoiceField)
        if db_field.name == "patient":
            # The autocomplete only offers visible charts; the form must only
            # accept them too, whatever id is posted.
            kwargs["queryset"] = patients_visible_to(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is None:
            return form
        if self.is_final(obj) and AMEND_PARAM in request.GET:
            # The Amend form: the reason is required (a copy: the declared field
            # is shared by every form class of this admin).
            reason = copy.deepcopy(form.base_fields["change_reason"])
            reason.required = True
            reason.help_text = "Required: kept in the history with the amendment."
            form.base_fields["change_reason"] = reason
        for name in STAFF_FIELDS:
            if name in form.base_fields:
                # A record keeps the clinician it names after they leave.
                named = User.objects.filter(pk=getattr(obj, f"{name}_id"))
                form.base_fields[name].queryset = clinicians() | named
        return form

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        for name in STAFF_FIELDS:
            if any(f.name == name for f in self.model._meta.fields):
                initial.setdefault(name, request.user.pk)
        return initial

    def save_model(self, request, obj, form, change):
        user, reason = request.user, self.reason(form)
        kind: RecordKind = self.record_kind
        version = form.cleaned_data.get("expected_version")
        if not change:
            lifecycle.record_register(
                kind, acting_user=user, instance=obj, reason=reason
            )
        elif obj.status == RecordStatus.FINAL:
            lifecycle.record_amend(
                kind,
                acting_user=user,
                instance=obj,
                reason=reason,
                expected_version=version,
            )
        else:
            lifecycle.record_edit(
                kind,
                acting_user=user,
                instance=obj,
                reason=reason,
                expected_version=version,
            )
        if form.cleaned_data.get("make_final") and obj.status != RecordStatus.FINAL:
            lifecycle.record_finalize(kind, acting_user=user, instance=obj)
            request._ndas_signed_off = True

    def message_user(self, request, message, level=messages.INFO, *args, **kwargs):
        if getattr(request, "_ndas_signed_off", False) and level == messages.SUCCESS:
            # Not "changed successfully. You may edit it again below.": it is final.
            message = SIGNED_OFF.format(kind=signed_off_kind(self.opts))
        super().message_user(request, message, level, *args, **kwargs)

    def service_delete(self, request, obj, reason):
        lifecycle.record_delete(
            self.record_kind, acting_user=request.user, instance=obj, reason=reason
        )


class LocalDateTimeRangeFilter(RangeDateTimeFilter):
    """unfold's date-and-time range, made aware in the current time zone.

    unfold hands Django naive datetimes; Django reads them in the default time
    zone with a RuntimeWarning each time. Here they are aware from the start: no
    warnings, and right should a user's own time zone ever be activated.
    """

    def queryset(self, request, queryset):
        filters = {}
        for bound, lookup in (("from", "gte"), ("to", "lte")):
            day = self.used_parameters.get(f"{self.parameter_name}_{bound}_0")
            time = self.used_parameters.get(f"{self.parameter_name}_{bound}_1")
            if day in EMPTY_VALUES or time in EMPTY_VALUES:
                continue
            value = parse_datetime_str(f"{day} {time}")
            if value is None:
                return None  # unfold's answer to a value it cannot read
            if timezone.is_naive(value):
                value = timezone.make_aware(value)
            filters[f"{self.parameter_name}__{lookup}"] = value
        return queryset.filter(**filters)
