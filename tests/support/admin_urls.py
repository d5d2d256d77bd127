"""Every URL the admin registers, by name, with an object of the test world."""

from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.urls import URLResolver, reverse

OBJECT_OF = {
    "patients_patient": "patient",
    "patients_assessment": "assessment",
    "clinical_records_clinicalrecord": "visit",
    "patients_mediafile": "media",
    "patients_breakglassgrant": "grant",
    "users_careteam": "team",
    "users_loginevent": "event",
    "axes_accessattempt": "attempt",
    "axes_accesslog": "access_log",
    "axes_accessfailurelog": "failure_log",
    "auth_group": "role",
    "imports_importjob": "import_job",
    "imports_exportjob": "export_job",
    "audit_auditevent": "audit_event",
    "common_scheduledrun": "scheduled_run",
}


def admin_url_names() -> set[str]:
    """The names of every URL pattern the admin site registers."""

    def walk(patterns):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns)
            elif pattern.name:
                yield pattern.name

    return set(walk(admin.site.get_urls()))


def _object(world, model_key: str):
    if model_key == "users_user":
        return world.users["clinician_in_team"]
    return getattr(world, OBJECT_OF[model_key])


def _twin(world):
    """A second chart in the patient's care team, made when first asked for."""
    from tests import factories

    if getattr(world, "twin", None) is None:
        world.twin = factories.patient(
            acting_user=world.users["clinician_in_team"], care_teams=[world.team]
        )
    return world.twin


def url_for(name: str, world) -> str:
    """A URL for the named pattern, pointing at the world's objects."""
    patient = world.patient
    if name == "patients_patient_not_same_child":
        return reverse(f"admin:{name}", args=[patient.pk, _twin(world).pk])
    fixed = {
        "index": reverse("admin:index"),
        "login": reverse("admin:login"),
        "logout": reverse("admin:logout"),
        "password_change": reverse("admin:password_change"),
        "password_change_done": reverse("admin:password_change_done"),
        "jsi18n": reverse("admin:jsi18n"),
        "search": reverse("admin:search") + "?s=pat",
        "app_list": reverse("admin:app_list", kwargs={"app_label": "patients"}),
        "autocomplete": reverse("admin:autocomplete")
        + "?app_label=patients&model_name=assessment&field_name=patient&term=",
        "view_on_site": reverse(
            "admin:view_on_site",
            args=[ContentType.objects.get_for_model(patient).pk, patient.pk],
        ),
        "auth_user_password_change": reverse(
            "admin:auth_user_password_change",
            args=[world.users["clinician_in_team"].pk],
        ),
        "users_user_unlock": reverse(
            "admin:users_user_unlock", args=[world.users["clinician_in_team"].pk]
        ),
        "patients_patient_break_glass": reverse("admin:patients_patient_break_glass"),
        "patients_patient_access": reverse(
            "admin:patients_patient_access", args=[world.patient.pk]
        ),
        "patients_patient_summary": reverse(
            "admin:patients_patient_summary", args=[world.patient.pk]
        ),
        "patients_patient_summary_pdf": reverse(
            "admin:patients_patient_summary_pdf", args=[world.patient.pk]
        ),
        "patients_mediafile_download": reverse(
            "admin:patients_mediafile_download", args=[world.media.pk]
        ),
    }
    if name in fixed:
        return fixed[name]
    if name.endswith("_export"):
        return reverse(f"admin:{name}")
    job = world.import_job
    imports = {
        "imports_importjob_upload": reverse("admin:imports_importjob_upload"),
        "imports_importjob_report": reverse(
            "admin:imports_importjob_report", args=[job.pk]
        ),
        "imports_importjob_errors": reverse(
            "admin:imports_importjob_errors", args=[job.pk]
        ),
        # GET on the commit URL only redirects to the report: commits are POSTs.
        "imports_importjob_commit": reverse(
            "admin:imports_importjob_commit", args=[job.pk]
        ),
        "imports_importjob_progress": reverse(
            "admin:imports_importjob_progress", args=[job.pk]
        ),
        "imports_importjob_cancel": reverse(
            "admin:imports_importjob_cancel", args=[job.pk]
        ),
        "imports_importjob_template": reverse(
            "admin:imports_importjob_template", args=["patients", "xlsx"]
        ),
    }
    if name in imports:
        return imports[name]
    if name == "audit_auditevent_patient_report":
        return reverse(f"admin:{name}", args=[world.patient.pk])
    if name == "audit_auditevent_timeline":
        return reverse(f"admin:{name}")
    if name == "audit_auditevent_user_report":
        return reverse(f"admin:{name}", args=["inside"])
    for action in ("changelist", "add"):
        if name.endswith(f"_{action}"):
            return reverse(f"admin:{name}")
    for action in (
        "simple_history",
        "change",
        "delete",
        "history",
        "letter",
        "download",
    ):
        if name.endswith(f"_{action}"):
            obj = _object(world, name[: -len(action) - 1])
            if action == "simple_history":
                history_id = obj.history.order_by("history_id").first().history_id
                return reverse(f"admin:{name}", args=[obj.pk, history_id])
            return reverse(f"admin:{name}", args=[obj.pk])
    raise KeyError(
        f"No URL recipe for admin URL {name!r}: add it to tests/support/admin_urls.py"
    )
