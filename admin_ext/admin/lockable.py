"""Assessments' and visit records' admins: drafts edited, finals read, and
amended with a reason; every write through the kind's one lifecycle."""

import copy

from django.contrib import messages
from unfold.contrib.filters.admin import RangeDateFilter

from admin_ext.admin.chart_admin import ChartAdmin
from admin_ext.admin.chart_forms import StaffChoiceField
from admin_ext.admin.form_display import fieldsets_without
from admin_ext.admin.shared import saved_and_closed, summary_redirect
from admin_ext.admin.sign_off import SIGNED_OFF, signed_off_kind, signed_off_text
from admin_ext.admin.status_label import StatusLabelMixin
from records.patients.models import RecordStatus
from records.patients.repositories import patients_visible_to
from records.patients.services import lifecycle
from records.patients.services.access import STAFF_FIELDS
from records.patients.services.lifecycle import RecordKind
from records.users.models import User
from records.users.repositories import clinicians

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
    # Newest first, as the date index gives it; no column re-sorts (a sort by
    # patient or clinician would sort every record before the first page).
    sortable_by = ()

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

    def response_add(self, request, obj, post_url_continue=None):
        response = super().response_add(request, obj, post_url_continue)
        # A new record saved: back to its child's chart, where it now shows.
        return (
            summary_redirect(obj.patient_id) if saved_and_closed(request) else response
        )

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
