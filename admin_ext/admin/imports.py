"""Admin for spreadsheet imports: upload, validation report, error file, commit."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from unfold.admin import ModelAdmin
from unfold.decorators import display
from unfold.widgets import (
    UnfoldAdminFileFieldWidget,
    UnfoldAdminSelectWidget,
    UnfoldBooleanSwitchWidget,
)

from admin_ext.admin.import_progress import ImportProgressMixin
from admin_ext.admin.import_wording import (
    WhatFilter,
    job_name,
    report_wording,
    status_badge,
)
from admin_ext.admin.shared import ReadOnlyAdminMixin, reason_field
from records.imports import services
from records.imports.models import Entity, ImportJob, ImportMode
from records.imports.teams import E_TEAM_REQUIRED, NO_TEAM_LABEL, import_care_teams
from records.imports.templates import import_template
from records.imports.uploads import upload_refused

STATUS_COLOURS = {
    ImportJob.Status.RUNNING: "info",
    ImportJob.Status.VALIDATED: "info",
    ImportJob.Status.INVALID: "danger",
    ImportJob.Status.COMMITTED: "success",
    ImportJob.Status.FAILED: "danger",
    ImportJob.Status.EXPIRED: "warning",
    ImportJob.Status.QUEUED: "info",
    ImportJob.Status.TO_COMMIT: "info",
    ImportJob.Status.CANCELLED: "warning",
}


# The care team menu's choice of none: new patients in no team.
NO_TEAM = "none"


class ImportForm(forms.Form):
    entity = forms.ChoiceField(
        label="Records", choices=Entity.choices, widget=UnfoldAdminSelectWidget
    )
    file = forms.FileField(
        help_text="CSV (UTF-8, comma or semicolon separated) or XLSX.",
        widget=UnfoldAdminFileFieldWidget,
    )
    mode = forms.ChoiceField(
        choices=ImportMode.choices,
        initial=ImportMode.CREATE_OR_UPDATE,
        widget=UnfoldAdminSelectWidget,
    )
    blank_keeps_value = forms.BooleanField(
        label="Blank cells do not overwrite",
        required=False,
        initial=True,
        widget=UnfoldBooleanSwitchWidget,
        help_text="On: an empty cell leaves the stored value as it is.",
    )
    reason = reason_field(
        required=True,
        help_text="Kept in the history of every record the import changes.",
    )
    care_team = forms.ChoiceField(
        label="Care team of new patients",
        required=False,
        widget=UnfoldAdminSelectWidget,
        help_text="Patients only: the team new patients join (patients already "
        "in NDAS keep their teams).",
    )

    def __init__(self, *args, acting_user, **kwargs):
        super().__init__(*args, **kwargs)
        # The teams the user may put new patients in (per form: fields are
        # copies), and the explicit choice of none.
        self.teams = {str(team.pk): team for team in import_care_teams(acting_user)}
        self.fields["care_team"].choices = [
            ("", "Choose a care team"),
            *((pk, team.name) for pk, team in self.teams.items()),
            (NO_TEAM, NO_TEAM_LABEL),
        ]

    def clean(self):
        data = super().clean()
        choice = data.get("care_team") or ""
        data["care_team"] = self.teams.get(choice)
        data["no_care_team"] = choice == NO_TEAM
        creates = data.get("mode") != ImportMode.UPDATE_ONLY
        if data.get("entity") == Entity.PATIENTS and creates and not choice:
            self.add_error("care_team", E_TEAM_REQUIRED)
        return data


@admin.register(ImportJob)
class ImportJobAdmin(ReadOnlyAdminMixin, ImportProgressMixin, ModelAdmin):
    list_display = (
        "report_link",
        "what",
        "user",
        "status_label",
        "rows",
        "new",
        "changed",
        "unchanged",
        "invalid",
    )
    # The import's number links to its report; a second link around it (the
    # admin's own to the change page) would nest one link in another.
    list_display_links = None
    list_filter = (("entity", WhatFilter), "status")
    list_select_related = ("user",)
    show_full_result_count = False
    # 50 rows a page, as the chart lists: what staff read at once (issue #15).
    list_per_page = 50

    # Read-only: imports start on the upload page.

    @display(description="Import", ordering="created_at")
    def report_link(self, obj):
        """The file and when it came: what people remember an import by."""
        url = reverse("admin:imports_importjob_report", args=[obj.pk])
        return format_html(
            '<a class="text-primary-600" href="{}">{}</a>',
            url,
            job_name(obj.file_name, obj.created_at),
        )

    @display(description="What", ordering="entity")
    def what(self, obj):
        return obj.get_entity_display()

    @display(description="Status", ordering="status")
    def status_label(self, obj):
        return status_badge(obj, STATUS_COLOURS)

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_import": services.import_allowed(request.user),
        }
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("upload/", view(self.upload_view), name="imports_importjob_upload"),
            path(
                "<int:object_id>/report/",
                view(self.report_view),
                name="imports_importjob_report",
            ),
            path(
                "<int:object_id>/errors.csv",
                view(self.errors_view),
                name="imports_importjob_errors",
            ),
            path(
                "<int:object_id>/commit/",
                view(self.commit_view),
                name="imports_importjob_commit",
            ),
            path(
                "template/<str:entity>.<str:file_format>",
                view(self.template_view),
                name="imports_importjob_template",
            ),
            *self.progress_urls(),
        ] + super().get_urls()

    def _page(self, request, template: str, title: str, **context):
        return TemplateResponse(
            request,
            template,
            {
                **self.admin_site.each_context(request),
                "title": title,
                # The header: "Imports and exports > Imports > <title>" (unfold
                # adds content_title after the model_admin's parts, without opts).
                "model_admin": self,
                "content_title": title,
                **context,
            },
        )

    def _job(self, request, object_id) -> ImportJob:
        if not request.user.has_perm("imports.view_importjob"):
            raise PermissionDenied
        try:
            return ImportJob.objects.select_related("user", "care_team").get(
                pk=object_id
            )
        except ImportJob.DoesNotExist:
            raise Http404 from None

    def upload_view(self, request):
        if not services.import_allowed(request.user):
            raise PermissionDenied
        form = ImportForm(
            request.POST or None, request.FILES or None, acting_user=request.user
        )
        if request.method == "POST" and upload_refused(request):
            # Dropped as it streamed in, past the limit: the form says why.
            form.is_valid()
            form.errors.pop("file", None)
            form.add_error("file", services.too_large_message())
        elif request.method == "POST" and form.is_valid():
            try:
                # Within this request, or queued for a worker if large.
                job = self._import_start(request, form)
            except ValidationError as error:
                # A field's error ({"file": ...}) or the form's (another import
                # of the user's is running).
                for field, errors in error.update_error_dict({}).items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                return HttpResponseRedirect(
                    reverse("admin:imports_importjob_report", args=[job.pk])
                )
        return self._page(
            request,
            "admin_ext/import_upload.html",
            "Import a spreadsheet",
            form=form,
            entities=Entity.choices,
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The report is the one page of an import (its cell values are read
        there, and audited there), not the generic read-only form."""
        job = self._job(request, unquote(object_id))
        return HttpResponseRedirect(
            reverse("admin:imports_importjob_report", args=[job.pk])
        )

    def report_view(self, request, object_id):
        job = self._job(request, object_id)
        services.import_report_read(acting_user=request.user, job=job)
        return self._page(
            request,
            "admin_ext/import_report.html",
            f"{job.get_entity_display()} from {job.file_name}",
            job=job,
            can_commit=services.import_commit_allowed(
                acting_user=request.user, job=job
            ),
            **report_wording(request.user, job),
            **self.progress_context(request, job),
        )

    def errors_view(self, request, object_id):
        job = self._job(request, object_id)
        if not job.stored_as:
            raise Http404
        try:
            data = services.import_error_report(acting_user=request.user, job=job)
        except ValidationError as error:  # another import of theirs is running
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            return HttpResponseRedirect(
                reverse("admin:imports_importjob_report", args=[job.pk])
            )
        response = HttpResponse(data, content_type="text/csv")
        response["Content-Disposition"] = (
            f'attachment; filename="ndas-import-{job.pk}-errors.csv"'
        )
        return response

    def commit_view(self, request, object_id):
        job = self._job(request, object_id)
        if request.method != "POST":
            return HttpResponseRedirect(
                reverse("admin:imports_importjob_report", args=[job.pk])
            )
        if job.in_worker:
            return self._commit_queue(request, job)
        try:
            job = services.import_commit(acting_user=request.user, job=job)
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
        else:
            if job.status == ImportJob.Status.COMMITTED:
                self.message_user(
                    request,
                    f"{job.file_name} committed: {job.new} new, {job.changed} "
                    f"changed, {job.unchanged} unchanged.",
                    messages.SUCCESS,
                )
            else:
                self.message_user(
                    request,
                    "The records changed since the preview and the file no longer "
                    "validates: nothing was written. See the errors below.",
                    messages.ERROR,
                )
        return HttpResponseRedirect(
            reverse("admin:imports_importjob_report", args=[job.pk])
        )

    def template_view(self, request, entity, file_format):
        if not services.import_allowed(request.user):
            raise PermissionDenied
        if entity not in Entity.values or file_format not in ("csv", "xlsx"):
            raise Http404
        content_type = (
            "text/csv"
            if file_format == "csv"
            else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        response = HttpResponse(
            import_template(entity=entity, file_format=file_format),
            content_type=content_type,
        )
        response["Content-Disposition"] = (
            f'attachment; filename="ndas-{entity}-template.{file_format}"'
        )
        return response
