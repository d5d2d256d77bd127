"""Admin for general paediatric visit records."""

from django import forms
from django.contrib import admin, messages
from django.contrib.postgres.forms import SimpleArrayField
from django.utils.html import format_html, format_html_join
from unfold.decorators import display
from unfold.widgets import UnfoldAdminTextInputWidget

from admin_ext.admin.exports import ExportMixin
from admin_ext.admin.letters import LetterAdminMixin
from admin_ext.admin.chart_forms import LockableForm
from admin_ext.admin.lockable import (
    SIGN_OFF_FIELDSET,
    LockableAdmin,
    record_columns,
    record_filters,
)
from records.clinical_records import growth, repositories, services
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
class ClinicalRecordAdmin(LetterAdminMixin, ExportMixin, LockableAdmin):
    export_entity = "clinical_records"
    form = ClinicalRecordForm
    record_kind = services.VISIT
    list_display = record_columns("clinician", "chief_complaint", "diagnosis_codes")
    list_select_related = ("patient", "clinician")
    list_filter = record_filters("visit_type", date="visit_date")
    readonly_fields = (
        "bmi",
        "diagnosis_titles",
        "weight_figure",
        "height_figure",
        "head_circumference_figure",
        "bmi_figure",
        "growth_reference",
    )
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
            "Growth",
            {
                "fields": (
                    ("weight_figure", "height_figure"),
                    ("head_circumference_figure", "bmi_figure"),
                    "growth_reference",
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
        SIGN_OFF_FIELDSET,
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

    def _figure(self, obj, name: str, unit: str) -> str:
        field = growth.MEASUREMENTS[name][0]
        value = getattr(obj, field, None) if obj else None
        if value is None:
            return "-"
        return growth.figure_text(
            value,
            unit,
            getattr(obj, f"{name}_sds"),
            getattr(obj, f"{name}_centile"),
        )

    @display(description="Weight")
    def weight_figure(self, obj):
        return self._figure(obj, "weight", "kg")

    @display(description="Height or length")
    def height_figure(self, obj):
        return self._figure(obj, "height", "cm")

    @display(description="Head circumference")
    def head_circumference_figure(self, obj):
        return self._figure(obj, "head_circumference", "cm")

    @display(description="BMI")
    def bmi_figure(self, obj):
        return self._figure(obj, "bmi", "kg/m²")

    @display(description="Growth reference")
    def growth_reference(self, obj):
        if not obj or not obj.patient_id:
            return "-"
        warnings = obj.compute_growth() if obj.pk else []
        text = obj.patient.get_growth_reference_display()
        if warnings:
            return format_html(
                "{}{}",
                text,
                format_html_join("", "<div>{}</div>", ((w,) for w in warnings)),
            )
        return text

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # rcpchgrowth's advice on what was saved: no figure, or one to check.
        for warning in obj.compute_growth():
            self.message_user(request, warning, messages.WARNING)
