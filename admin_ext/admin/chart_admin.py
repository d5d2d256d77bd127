"""The base of every chart admin: services for every write, each opening of a
chart audited, the object-aware change permission, a reason for deletions."""

from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from simple_history.admin import SimpleHistoryAdmin
from unfold.admin import ModelAdmin
from unfold.paginator import InfinitePaginator

from admin_ext.admin.autocomplete import PostedAutocompleteMixin
from admin_ext.admin.chart_forms import ChartForm
from admin_ext.admin.form_display import (
    NEW_RECORD_HIDDEN,
    DecimalDisplayMixin,
    decimals_shown,
    fieldsets_without,
    shown_names,
)
from admin_ext.admin.history import ReadOnlyHistoryMixin
from admin_ext.admin.history_display import ChartHistoryContextHelper
from admin_ext.admin.search import SessionSearchMixin
from records.audit.models import Action
from records.audit.services import audit_object
from records.common.errors import ServiceError
from records.common.services import E_REASON_REQUIRED
from records.patients.repositories import opens_every_chart
from records.patients.services import break_glass_use_record
from records.patients.services.access import chart_write_check


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
    # No total under the pages (it would count the table: a COUNT of 300,000
    # visits with the access check was most of a list's time); the list says how
    # many rows it holds, exact when few, estimated beyond (admin_ext/admin/counts.py).
    paginator = InfinitePaginator
    list_before_template = "admin_ext/list_count.html"
    list_per_page = 50
    # unfold's list template asks for this twice a row; were it missing, each
    # asking would cost the template engine a dir() of the whole admin class.
    list_sections = ()
    # The same on the change form, once a field (no conditional fields here).
    conditional_fields: dict = {}
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
