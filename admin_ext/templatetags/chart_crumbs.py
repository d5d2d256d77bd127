"""The page header's breadcrumb on a chart's pages names the patient (MRN and
name, linking to the chart's summary): Patients > TST-1 ORVELL, Talvi > Visits >
Follow-up visit on 4 Dec 2026. Other pages keep unfold's breadcrumb."""

from django import template
from django.template.loader import render_to_string
from django.urls import reverse
from unfold.templatetags.unfold import header_title

from records.patients.models import Patient

register = template.Library()


def _crumb(title, link=None) -> dict:
    return {"title": title, "link": link}


def chart_parts(context) -> list[dict] | None:
    """The breadcrumb of a chart's page, or None for any other page."""
    original = context.get("original")
    patient = context.get("patient") if context.get("summary") else None
    if patient is None and isinstance(original, Patient):
        patient = original
    elif patient is None and getattr(original, "patient_id", None):
        # A chart's record; an audit event names a patient_id with no relation.
        patient = getattr(original, "patient", None)
    if not isinstance(patient, Patient) or not patient.pk:
        return None
    parts = [
        _crumb("Patients", reverse("admin:patients_patient_changelist")),
        _crumb(
            str(patient), reverse("admin:patients_patient_summary", args=[patient.pk])
        ),
    ]
    if context.get("summary"):
        parts[-1]["link"] = None  # the summary's own page ends with the patient
    elif isinstance(original, Patient):
        parts.append(_crumb("Details"))
    else:
        opts = original._meta
        changelist = f"admin:{opts.app_label}_{opts.model_name}_changelist"
        parts.append(_crumb(opts.verbose_name_plural, reverse(changelist)))
        parts.append(_crumb(str(original)))
    return parts


@register.simple_tag(takes_context=True)
def chart_header_title(context) -> str:
    parts = chart_parts(context)
    if parts is None:
        return header_title(context)
    return render_to_string(
        "unfold/helpers/header_title.html",
        request=context.request,
        context={"parts": parts},
    )
