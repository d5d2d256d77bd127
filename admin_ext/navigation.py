"""The unfold sidebar: one group per area; each domain app adds its entries here."""

from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _


def _can(perm: str):
    return lambda request: request.user.has_perm(perm)


def sidebar_navigation(request) -> list[dict]:
    return [
        {
            "title": _("Clinic"),
            "items": [
                {
                    "title": _("Dashboard"),
                    "icon": "dashboard",
                    "link": reverse_lazy("admin:index"),
                },
                {
                    "title": _("Patients"),
                    "icon": "child_care",
                    "link": reverse_lazy("admin:patients_patient_changelist"),
                    "permission": _can("patients.view_patient"),
                },
                {
                    "title": _("Assessments"),
                    "icon": "psychology",
                    "link": reverse_lazy("admin:patients_assessment_changelist"),
                    "permission": _can("patients.view_assessment"),
                },
                {
                    "title": _("Visits"),
                    "icon": "stethoscope",
                    "link": reverse_lazy(
                        "admin:clinical_records_clinicalrecord_changelist"
                    ),
                    "permission": _can("clinical_records.view_clinicalrecord"),
                },
                {
                    "title": _("Media files"),
                    "icon": "perm_media",
                    "link": reverse_lazy("admin:patients_mediafile_changelist"),
                    "permission": _can("patients.view_mediafile"),
                },
                {
                    "title": _("Emergency access"),
                    "icon": "emergency",
                    "link": reverse_lazy("admin:patients_patient_break_glass"),
                    "permission": _can("patients.add_breakglassgrant"),
                },
            ],
        },
        {
            "title": _("Data"),
            "separator": True,
            "items": [
                {
                    "title": _("Import a spreadsheet"),
                    "icon": "upload_file",
                    "link": reverse_lazy("admin:imports_importjob_upload"),
                    "permission": _can("imports.import_records"),
                },
                {
                    "title": _("Imports"),
                    "icon": "history",
                    "link": reverse_lazy("admin:imports_importjob_changelist"),
                    "permission": _can("imports.view_importjob"),
                },
                {
                    "title": _("Exports"),
                    "icon": "download",
                    "link": reverse_lazy("admin:imports_exportjob_changelist"),
                    "permission": _can("imports.view_exportjob"),
                },
            ],
        },
        {
            "title": _("Access"),
            "separator": True,
            "items": [
                {
                    "title": _("Users"),
                    "icon": "person",
                    "link": reverse_lazy("admin:users_user_changelist"),
                    "permission": _can("users.view_user"),
                },
                {
                    "title": _("Roles"),
                    "icon": "group",
                    "link": reverse_lazy("admin:auth_group_changelist"),
                    "permission": _can("auth.view_group"),
                },
                {
                    "title": _("Care teams"),
                    "icon": "groups",
                    "link": reverse_lazy("admin:users_careteam_changelist"),
                    "permission": _can("users.view_careteam"),
                },
            ],
        },
        {
            "title": _("Audit"),
            "separator": True,
            "items": [
                {
                    "title": _("Audit trail"),
                    "icon": "receipt_long",
                    "link": reverse_lazy("admin:audit_auditevent_changelist"),
                    "permission": _can("audit.view_auditevent"),
                },
                {
                    "title": _("Change timeline"),
                    "icon": "timeline",
                    "link": reverse_lazy("admin:audit_auditevent_timeline"),
                    "permission": _can("audit.view_auditevent"),
                },
                {
                    "title": _("Emergency access review"),
                    "icon": "policy",
                    "link": reverse_lazy("admin:patients_breakglassgrant_changelist"),
                    "permission": _can("patients.view_breakglassgrant"),
                },
                {
                    "title": _("Sign-in events"),
                    "icon": "login",
                    "link": reverse_lazy("admin:users_loginevent_changelist"),
                    "permission": _can("users.view_loginevent"),
                },
                {
                    "title": _("Lockouts"),
                    "icon": "lock",
                    "link": reverse_lazy("admin:axes_accessattempt_changelist"),
                    "permission": _can("axes.view_accessattempt"),
                },
            ],
        },
    ]
