"""Admin for general paediatric visit records."""

from django import forms
from django.contrib import admin
from django.contrib.postgres.forms import SimpleArrayField
from django.utils.html import format_html_join
from unfold.contrib.filters.admin import RangeDateFilter
from unfold.decorators import display
from unfold.widgets import UnfoldAdminTextInputWidget

from admin_ext.admin.exports import ExportMixin
from admin_ext.admin.mixins import LockableAdmin, LockableForm
from records.clinical_records import repositories, services
from records.clinical_records.models import ClinicalRecord


class ClinicalRecordForm(LockableForm):
    diagnoses = SimpleArrayField(
        forms.CharField(max_length=8),
        required=False,
        widget=UnfoldAdminTextInputWidget,
        help_text="ICD-10 codes separated by commas, for example F84.0, R62.0.",
    )

    class Meta:
        model = ClinicalRecord
        fields = "__all__"


@admin.register(ClinicalRecord)
class ClinicalRecordAdmin(ExportMixin, LockableAdmin):
    export_entity = "clinical_records"
    form = ClinicalRecordForm
    record_kwarg = "record"
    record_services = {
        "register": services.clinical_record_register,
        "update": services.clinical_record_update,
        "amend": services.clinical_record_amend,
        "finalize": services.clinical_record_finalize,
        "delete": services.clinical_record_delete,
    }
    list_display = (
        "__str__",
        "patient",
        "clinician",
        "chief_complaint",
        "diagnosis_codes",
        "status_label",
    )
    list_select_related = ("patient", "clinician")
    list_filter = ("visit_type", "status", ("visit_date", RangeDateFilter))
    list_filter_submit = True
    autocomplete_fields = ("patient",)
    readonly_fields = ("bmi", "diagnosis_titles")
    fieldsets = (
        (
            "Visit",
            {"fields": ("patient", ("visit_date", "visit_type"), "clinician")},
        ),
        (
            "History and examination",
            {"fields": ("chief_complaint", "clinical_history", "examination")},
        ),
        (
            "Vitals",
            {
                "fields": (
                    ("weight_kg", "height_cm", "bmi"),
                    ("head_circumference_cm", "temperature_c"),
                    ("heart_rate", "respiratory_rate", "spo2"),
                )
            },
        ),
        (
            "Diagnoses and plan",
            {
                "fields": (
                    "diagnoses",
                    "diagnosis_titles",
                    "assessment_and_plan",
                    "follow_up_date",
                )
            },
        ),
        (
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
        ),
    )

    def get_queryset(self, request):
        return repositories.clinical_records_visible_to(request.user).select_related(
            "patient", "clinician"
        )

    @display(description="Diagnoses")
    def diagnosis_codes(self, obj):
        return ", ".join(obj.diagnoses) or "-"

    @display(description="Diagnoses (ICD-10)")
    def diagnosis_titles(self, obj):
        if not obj or not obj.diagnoses:
            return "-"
        return format_html_join("", "<div>{} {}</div>", obj.diagnoses_with_titles)
