"""The Exports list's Download: a large export's file, built by a worker, handed
over by a link valid for five minutes (records.imports.export_jobs)."""

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html
from unfold.decorators import display

from records.imports.export_jobs import (
    CONTENT_TYPES,
    export_download,
    export_download_name,
)
from records.imports.models import ExportJob


class ExportDownloadMixin:
    """Put first in the ExportJob admin's bases; list `download_link`."""

    def get_urls(self):
        return [
            path(
                "<int:object_id>/download/",
                self.admin_site.admin_view(self.download_view),
                name="imports_exportjob_download",
            )
        ] + super().get_urls()

    def get_queryset(self, request):
        # Which rows are this user's: only those offer a download.
        return (
            super()
            .get_queryset(request)
            .annotate(
                is_mine=ExpressionWrapper(
                    Q(user_id=request.user.pk), output_field=BooleanField()
                )
            )
        )

    @display(description="File")
    def download_link(self, obj):
        ready = obj.status == ExportJob.Status.COMPLETED and obj.file_key
        if ready and getattr(obj, "is_mine", False):
            url = reverse("admin:imports_exportjob_download", args=[obj.pk])
            return format_html(
                '<a class="text-primary-600" href="{}">Download</a>', url
            )
        if ready:
            return "Only the person who made it may download it"
        if obj.status == ExportJob.Status.FAILED:
            return obj.message or "-"
        if obj.status == ExportJob.Status.COMPLETED and obj.finished_at:
            return f"Deleted after {settings.EXPORT_KEEP_DAYS} days"
        return "-"

    def download_view(self, request, object_id):
        """Audited, then a redirect to a link valid for five minutes (or, with
        local files in development, the file itself)."""
        if not request.user.has_perm("imports.view_exportjob"):
            raise PermissionDenied
        job = ExportJob.objects.filter(pk=object_id).first()
        if job is None:
            raise Http404("No such export.")
        url = export_download(acting_user=request.user, job=job)
        if url:
            return HttpResponseRedirect(url)
        return FileResponse(
            default_storage.open(job.file_key, "rb"),
            as_attachment=True,
            filename=export_download_name(job),
            content_type=CONTENT_TYPES[job.file_format],
        )
