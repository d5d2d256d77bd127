"""The media file admin: upload, read-only detail and download."""

from django.contrib import admin
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.template.defaultfilters import filesizeformat
from django.urls import path
from unfold.contrib.filters.admin import RangeDateFilter
from unfold.decorators import display

from admin_ext.admin.form_display import shown_names
from admin_ext.admin.media_preview import MediaPreviewMixin
from admin_ext.admin.chart_admin import ChartAdmin
from admin_ext.admin.patients.forms import MediaFileForm
from admin_ext.admin.patients.links import media_download_link
from records.patients import repositories, services
from records.patients.models import MediaFile


@admin.register(MediaFile)
class MediaFileAdmin(MediaPreviewMixin, ChartAdmin):
    form = MediaFileForm
    list_display = (
        "original_name",
        "kind",
        "patient",
        "assessment",
        "size",
        "uploaded_at",
        "download",
    )
    list_select_related = ("patient", "assessment")
    sortable_by = ("uploaded_at",)  # as its index gives it (see LockableAdmin)
    list_filter = ("kind", ("uploaded_at", RangeDateFilter))
    list_filter_submit = True
    autocomplete_fields = ("patient",)
    search_fields = ("original_name",)

    def get_queryset(self, request):
        return repositories.media_visible_to(request.user)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        # with the displays ChartAdmin swaps in (shown_patient), no form fields
        return (*self.get_fields(request, obj), *shown_names(self.model))

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("patient", "assessment", "file", "description")
        return (
            "patient",
            "assessment",
            "kind",
            "original_name",
            *self.detail_fields(request),
            "description",
            "uploaded_by",
            "uploaded_at",
            "download",
        )

    def has_change_permission(self, request, obj=None):
        # Stored media never change; the page shows them read-only.
        return False

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "assessment":
            kwargs["queryset"] = repositories.assessments_visible_to(
                request.user
            ).select_related("patient")
        if db_field.name == "patient":
            kwargs["queryset"] = repositories.patients_visible_to(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @display(description="Size")
    def size(self, obj):
        return filesizeformat(obj.size_bytes)

    @display(description="Download")
    def download(self, obj):
        return media_download_link(obj)

    def save_model(self, request, obj, form, change):
        services.media_upload(
            acting_user=request.user,
            patient=form.cleaned_data["patient"],
            assessment=form.cleaned_data.get("assessment"),
            uploaded_file=form.cleaned_data["file"],
            description=form.cleaned_data.get("description", ""),
            instance=obj,
        )

    def service_delete(self, request, obj, reason):
        services.media_delete(acting_user=request.user, media=obj, reason=reason)

    def get_urls(self):
        return [
            path(
                "<int:object_id>/download/",
                self.admin_site.admin_view(self.download_view),
                name="patients_mediafile_download",
            )
        ] + super().get_urls()

    def download_view(self, request, object_id):
        """Check access, then hand over a link valid for minutes (or the bytes)."""
        try:
            media = repositories.media_get(user=request.user, pk=object_id)
        except MediaFile.DoesNotExist:
            raise Http404("No such media file.") from None
        self.chart_opened(request, media, "download")
        url = services.media_download_url(media=media)
        if url:
            response = HttpResponseRedirect(url)
        else:
            response = FileResponse(
                media.file.open("rb"),
                as_attachment=True,
                filename=services.media_download_name(media),
                content_type=media.content_type,
            )
        return response  # admin_view marks it never-cache (no-store)
