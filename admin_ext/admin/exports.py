"""Export a changelist, as filtered on screen, to CSV or XLSX (ExportMixin)."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import SEARCH_VAR
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from unfold.widgets import (
    UnfoldAdminCheckboxSelectMultipleWidget,
    UnfoldAdminRadioSelectWidget,
)

from admin_ext.admin.search import TOKEN_VAR, search_redirect, search_term
from records.imports.entities import ENTITIES
from records.imports.export_jobs import export_needs_worker, export_queue
from records.imports.exports import EXPORT_PERMISSION, export_csv, export_xlsx
from records.imports.wording import column_labels

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class ExportForm(forms.Form):
    file_format = forms.ChoiceField(
        label="Format",
        choices=(("csv", "CSV (UTF-8)"), ("xlsx", "Excel (XLSX)")),
        initial="csv",
        widget=UnfoldAdminRadioSelectWidget,
    )
    columns = forms.MultipleChoiceField(
        label="Columns", widget=UnfoldAdminCheckboxSelectMultipleWidget
    )

    def __init__(
        self, *args, column_names: list[str], column_labels: dict[str, str], **kwargs
    ):
        super().__init__(*args, **kwargs)
        # Each column by its plain name; the file's headers stay as listed.
        self.fields["columns"].choices = [
            (name, column_labels.get(name, name)) for name in column_names
        ]
        self.fields["columns"].initial = list(column_names)


def export_filename(entity: str, file_format: str) -> str:
    """Entity and time only: a file name must never carry patient data."""
    return f"ndas-{entity}-{timezone.localtime():%Y%m%d-%H%M}.{file_format}"


class ExportMixin:
    """Put first in a ModelAdmin's bases and set `export_entity` (a key of
    records.imports.entities.ENTITIES) to add an Export button and page."""

    export_entity: str = ""
    change_list_template = "admin_ext/change_list_export.html"

    def get_urls(self):
        opts = self.model._meta
        return [
            path(
                "export/",
                self.admin_site.admin_view(self.export_view),
                name=f"{opts.app_label}_{opts.model_name}_export",
            )
        ] + super().get_urls()

    def has_export_permission(self, request) -> bool:
        return request.user.has_perm(
            EXPORT_PERMISSION
        ) and self.has_view_or_change_permission(request)

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "has_export_permission": self.has_export_permission(request),
        }
        return super().changelist_view(request, extra_context)

    def export_view(self, request):
        """GET: the form. POST: the changelist's rows (its filters, search and
        ordering come in this page's query string) as a download."""
        if not self.has_export_permission(request):
            raise PermissionDenied
        if getattr(self, "search_in_session", False):
            # Never more rows than the list showed: a search's term by its token.
            redirect = search_redirect(request, self.address_search_vars)
            if redirect is not None:
                return redirect
        spec = ENTITIES[self.export_entity]
        form = ExportForm(
            request.POST or None,
            column_names=[c.name for c in spec.columns],
            column_labels=column_labels(spec),
        )
        if request.method == "POST" and form.is_valid():
            try:
                queryset = self.get_changelist_instance(request).get_queryset(request)
            except IncorrectLookupParameters:
                return HttpResponseRedirect(self._changelist_url() + "?e=1")
            return self._export_response(
                request,
                queryset,
                form.cleaned_data["file_format"],
                form.cleaned_data["columns"],
            )
        context = {
            **self.admin_site.each_context(request),
            "title": f"Export {self.model._meta.verbose_name_plural}",
            "form": form,
            # The header reads "Patient charts > Patients > Export": the
            # model_admin's two parts, then content_title (shown without opts).
            "model_admin": self,
            "content_title": "Export",
            "changelist_url": self._changelist_url(),
            "query_string": request.GET.urlencode(),
        }
        return TemplateResponse(request, "admin_ext/export.html", context)

    @staticmethod
    def _export_filters(request) -> dict[str, list[str]]:
        """The list's filters, and the term searched rather than its token (the
        job is in the database, not in an address; the audit trail keeps only
        the filters' names)."""
        filters = {k: v for k, v in request.GET.lists() if k != TOKEN_VAR}
        term = search_term(request)
        if term:
            filters[SEARCH_VAR] = [term]
        return filters

    def _export_response(self, request, queryset, file_format: str, columns):
        options = {
            "user": request.user,
            "entity": self.export_entity,
            "columns": columns,
            # What narrowed the rows, kept with the export for the auditors.
            "filters": self._export_filters(request),
            "queryset": queryset,
        }
        if export_needs_worker(
            user=request.user, entity=self.export_entity, queryset=queryset
        ):
            return self._export_queued(request, file_format, options)
        if file_format == "csv":
            response = StreamingHttpResponse(
                export_csv(**options), content_type=CONTENT_TYPES["csv"]
            )
        else:
            response = HttpResponse(
                export_xlsx(**options), content_type=CONTENT_TYPES["xlsx"]
            )
        name = export_filename(self.export_entity, file_format)
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response

    def _export_queued(self, request, file_format: str, options: dict):
        """Too many rows to stream: a worker builds the file, offered on the
        Exports list once it is ready."""
        job = export_queue(file_format=file_format, **options)
        limit = settings.EXPORT_BACKGROUND_ROWS
        self.message_user(
            request,
            f"Export #{job.pk} holds more than {limit:,} rows, so it is being "
            "prepared. Download it from this list once it says Completed.",
            messages.INFO,
        )
        return HttpResponseRedirect(reverse("admin:imports_exportjob_changelist"))

    def _changelist_url(self) -> str:
        opts = self.model._meta
        return reverse(
            f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_changelist"
        )
