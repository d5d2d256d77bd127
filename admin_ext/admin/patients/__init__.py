"""Admin for patient charts, one module per model; importing it registers
PatientAdmin, AssessmentAdmin and MediaFileAdmin (once each)."""

from admin_ext.admin.patients.assessment import AssessmentAdmin, MediaUploadInline
from admin_ext.admin.patients.chart_inlines import (
    AssessmentSummaryInline,
    ChartSummaryInline,
    MediaSummaryInline,
    VisitSummaryInline,
)
from admin_ext.admin.patients.forms import (
    AccessDateForm,
    AssessmentForm,
    BreakGlassForm,
    MediaFileForm,
    MediaUploadForm,
    PatientForm,
)
from admin_ext.admin.patients.links import admin_link, media_download_link
from admin_ext.admin.patients.media import MediaFileAdmin
from admin_ext.admin.patients.patient import PatientAdmin, PatientChangeList

__all__ = [
    "AccessDateForm",
    "AssessmentAdmin",
    "AssessmentForm",
    "AssessmentSummaryInline",
    "BreakGlassForm",
    "ChartSummaryInline",
    "MediaFileAdmin",
    "MediaFileForm",
    "MediaSummaryInline",
    "MediaUploadForm",
    "MediaUploadInline",
    "PatientAdmin",
    "PatientChangeList",
    "PatientForm",
    "VisitSummaryInline",
    "admin_link",
    "media_download_link",
]
