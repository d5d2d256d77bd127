"""The assessment admin, with media upload on the assessment page."""

from django.contrib import admin
from django.utils.html import format_html_join
from unfold.admin import StackedInline
from unfold.decorators import display

from admin_ext.admin.exports import ExportMixin
from admin_ext.admin.letters import LetterAdminMixin
from admin_ext.admin.lockable import (
    SIGN_OFF_FIELDSET,
    LockableAdmin,
    record_columns,
    record_filters,
)
from admin_ext.admin.patients.forms import AssessmentForm, MediaUploadForm
from admin_ext.admin.patients.links import media_download_link
from records.patients import repositories, services
from records.patients.models import Assessment, MediaFile
from records.patients.services.assessments import ASSESSMENT


class MediaUploadInline(StackedInline):
    model = MediaFile
    form = MediaUploadForm
    fk_name = "assessment"
    extra = 0
    can_delete = False
    tab = True
    verbose_name = "media file"
    verbose_name_plural = "media"
    fields = ("file", "description")

    def get_queryset(self, request):
        # Uploads only; stored files are listed (with download links) by media_list.
        return MediaFile.objects.none()

    def has_change_permission(self, request, obj=None):
        # Stored media never change: only new files are added here.
        return False

    def has_add_permission(self, request, obj=None):
        return request.user.has_perm("patients.add_mediafile")


@admin.register(Assessment)
class AssessmentAdmin(LetterAdminMixin, ExportMixin, LockableAdmin):
    export_entity = "assessments"
    form = AssessmentForm
    record_kind = ASSESSMENT
    inlines = (MediaUploadInline,)
    list_display = record_columns(
        "assessor", "chronological_age", "corrected_age", "total_score", "outcome"
    )
    list_select_related = ("patient", "assessor")
    list_filter = record_filters("instrument", "outcome", date="performed_on")
    readonly_fields = ("chronological_age", "corrected_age", "media_list")
    fieldsets = (
        (
            "Assessment",
            {
                "fields": (
                    "patient",
                    ("instrument", "performed_on"),
                    "assessor",
                    ("chronological_age", "corrected_age"),
                )
            },
        ),
        (
            "Result",
            {"fields": (("total_score", "outcome"), "findings", "recommendations")},
        ),
        ("Media", {"fields": ("media_list",)}),
        SIGN_OFF_FIELDSET,
    )

    def get_queryset(self, request):
        return repositories.assessments_visible_to(request.user).select_related(
            "patient", "assessor"
        )

    @display(description="Chronological age")
    def chronological_age(self, obj):
        return obj.chronological_age or "-"

    @display(description="Corrected age")
    def corrected_age(self, obj):
        return obj.corrected_age or "not applicable"

    @display(description="Stored media")
    def media_list(self, obj):
        if not obj or not obj.pk:
            return "-"
        files = repositories.media_of_assessment(obj)
        if not files:
            return "-"
        return format_html_join(
            "",
            "<div>{} ({}) {}</div>",
            (
                (m.original_name, m.get_kind_display(), media_download_link(m))
                for m in files
            ),
        )

    def save_formset(self, request, form, formset, change):
        if formset.model is not MediaFile:
            return super().save_formset(request, form, formset, change)
        # What the admin's change message reads from a formset it saved itself.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = (
            [],
            [],
            [],
        )
        for media_form in formset.forms:
            if media_form.instance.pk or not media_form.has_changed():
                continue
            media = services.media_upload(
                acting_user=request.user,
                patient=form.instance.patient,
                assessment=form.instance,
                uploaded_file=media_form.cleaned_data["file"],
                description=media_form.cleaned_data.get("description", ""),
            )
            formset.new_objects.append(media)
