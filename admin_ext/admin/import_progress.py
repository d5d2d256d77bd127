"""The import pages' part for large files run by a worker: start, commit, cancel,
and the progress the report page polls (admin_ext/static/admin_ext/import_progress.js).
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect, JsonResponse
from django.urls import path, reverse

from records.imports import queued, services
from records.imports.job_lock import jobs_stopped
from records.imports.models import ImportJob
from records.imports.progress import WAITING, progress_summary


class ImportProgressMixin:
    """For ImportJobAdmin (its _job gives the job, view permission checked)."""

    def progress_urls(self) -> list:
        view = self.admin_site.admin_view
        return [
            path(
                "<int:object_id>/progress/",
                view(self.progress_view),
                name="imports_importjob_progress",
            ),
            path(
                "<int:object_id>/cancel/",
                view(self.cancel_view),
                name="imports_importjob_cancel",
            ),
        ]

    def _import_start(self, request, form) -> ImportJob:
        """Check the upload in this request, or, large, queue it for a worker."""
        data = form.cleaned_data
        upload = data["file"]
        digest, lines = queued.upload_measured(upload)
        common = {
            "acting_user": request.user,
            "entity": data["entity"],
            "reason": data["reason"],
            "mode": data["mode"],
            "blank_keeps_value": data["blank_keeps_value"],
            "care_team": data["care_team"],
            "no_care_team": data["no_care_team"],
        }
        if queued.import_in_worker(
            size=upload.size, lines=lines, file_name=upload.name
        ):
            return queued.import_queue(
                upload=upload, digest=digest, lines=lines, **common
            )
        return services.import_validate(
            file_name=upload.name, data=upload.read(), **common
        )

    def progress_context(self, request, job: ImportJob) -> dict:
        return {
            "in_progress": job.status in WAITING and job.in_worker,
            "progress": progress_summary(job),
            "can_cancel": queued.import_cancel_allowed(
                acting_user=request.user, job=job
            ),
        }

    def progress_view(self, request, object_id):
        """How far the worker got: counts and times, no cell of the file. For
        the job's own user, or anyone who may import (data managers)."""
        job = self._job(request, object_id)
        if job.user_id != request.user.pk and not services.import_allowed(request.user):
            raise PermissionDenied
        if job.status == ImportJob.Status.RUNNING:
            # Its worker may have died: if so, the page says so now.
            if jobs_stopped(ImportJob.objects.filter(pk=job.pk)):
                job.refresh_from_db()
        return JsonResponse(progress_summary(job))  # admin_view: never cached

    def cancel_view(self, request, object_id):
        job = self._job(request, object_id)
        report = reverse("admin:imports_importjob_report", args=[job.pk])
        if request.method != "POST":
            return HttpResponseRedirect(report)
        try:
            told = queued.import_cancel(acting_user=request.user, job=job)
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
        else:
            self.message_user(request, told, messages.SUCCESS)
        return HttpResponseRedirect(report)

    def _commit_queue(self, request, job: ImportJob):
        """A worker's import is committed by a worker too."""
        try:
            job = queued.import_commit_queue(acting_user=request.user, job=job)
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
        else:
            self.message_user(
                request, queued.E_COMMIT_QUEUED.format(job=job.pk), messages.INFO
            )
        return HttpResponseRedirect(
            reverse("admin:imports_importjob_report", args=[job.pk])
        )
