"""The unfold sidebar: one group per area; each domain app adds its entries here."""

from functools import lru_cache

from django.urls import get_script_prefix, reverse
from django.utils.translation import gettext_lazy as _


@lru_cache(maxsize=None)
def _reversed(name: str, prefix: str) -> str:
    return reverse(name)


def _link(name: str) -> str:
    """An entry's address, reversed once per script prefix: the sidebar is drawn
    on every page, and its addresses do not change while the process runs."""
    return _reversed(name, get_script_prefix())


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
                    "link": _link("admin:index"),
                },
                {
                    "title": _("Patients"),
                    "icon": "child_care",
                    "link": _link("admin:patients_patient_changelist"),
                    "permission": _can("patients.view_patient"),
                },
                {
                    "title": _("Assessments"),
                    "icon": "psychology",
                    "link": _link("admin:patients_assessment_changelist"),
                    "permission": _can("patients.view_assessment"),
                },
                {
                    "title": _("Visits"),
                    "icon": "stethoscope",
                    "link": _link("admin:clinical_records_clinicalrecord_changelist"),
                    "permission": _can("clinical_records.view_clinicalrecord"),
                },
                {
                    "title": _("Media files"),
                    "icon": "perm_media",
                    "link": _link("admin:patients_mediafile_changelist"),
                    "permission": _can("patients.view_mediafile"),
                },
                {
                    "title": _("Emergency access"),
                    "icon": "emergency",
                    "link": _link("admin:patients_patient_break_glass"),
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
                    "link": _link("admin:imports_importjob_upload"),
                    "permission": _can("imports.import_records"),
                },
                {
                    "title": _("Imports"),
                    "icon": "history",
                    "link": _link("admin:imports_importjob_changelist"),
                    "permission": _can("imports.view_importjob"),
                },
                {
                    "title": _("Exports"),
                    "icon": "download",
                    "link": _link("admin:imports_exportjob_changelist"),
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
                    "link": _link("admin:users_user_changelist"),
                    "permission": _can("users.view_user"),
                },
                {
                    "title": _("Roles"),
                    "icon": "group",
                    "link": _link("admin:auth_group_changelist"),
                    "permission": _can("auth.view_group"),
                },
                {
                    "title": _("Care teams"),
                    "icon": "groups",
                    "link": _link("admin:users_careteam_changelist"),
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
                    "link": _link("admin:audit_auditevent_changelist"),
                    "permission": _can("audit.view_auditevent"),
                },
                {
                    "title": _("Change timeline"),
                    "icon": "timeline",
                    "link": _link("admin:audit_auditevent_timeline"),
                    "permission": _can("audit.view_auditevent"),
                },
                {
                    "title": _("Emergency access review"),
                    "icon": "policy",
                    "link": _link("admin:patients_breakglassgrant_changelist"),
                    "permission": _can("patients.view_breakglassgrant"),
                },
                {
                    "title": _("Sign-in events"),
                    "icon": "login",
                    "link": _link("admin:users_loginevent_changelist"),
                    "permission": _can("users.view_loginevent"),
                },
                {
                    "title": _("Lockouts"),
                    "icon": "lock",
                    "link": _link("admin:axes_accessattempt_changelist"),
                    "permission": _can("axes.view_accessattempt"),
                },
            ],
        },
    ]
