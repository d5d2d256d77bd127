"""The chart's possible-duplicate warning, and marking a pair "not the same child"."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from records.common.display import show_date
from records.patients import repositories, services
from records.patients.models import Patient

WHY = "the same date of birth and a similar name"
WHY_AND_PHONE = WHY + ", and the same guardian phone"
MARKED = (
    "Marked as not the same child: {patient} and {other}. The possible-duplicate "
    "warning no longer shows for these two charts."
)


def chart_link(patient: Patient) -> str:
    url = reverse("admin:patients_patient_change", args=[patient.pk])
    return format_html('<a class="text-primary-600" href="{}">{}</a>', url, patient)


class DuplicateWarningMixin:
    """A chart warns of likely duplicates, saying why, with links, and never
    blocks; whoever may change both charts can mark a pair "not the same child"
    (twins, say), which ends the warning for that pair for everyone."""

    def warn_duplicates(self, request, patient: Patient) -> None:
        duplicates = repositories.patient_duplicates(
            user=request.user,
            date_of_birth=patient.date_of_birth,
            given_name=patient.given_name,
            family_name=patient.family_name,
            guardian_phone=patient.guardian_phone,
            exclude_pk=patient.pk,
        )
        may_mark = request.user.has_perm("patients.change_patient")
        for duplicate in duplicates:
            mark = ""
            if may_mark:
                url = reverse(
                    "admin:patients_patient_not_same_child",
                    args=[patient.pk, duplicate.pk],
                )
                mark = format_html(
                    ' <a class="font-semibold underline" href="{}" '
                    'data-testid="not-same-child">Not the same child?</a>',
                    url,
                )
            self.message_user(
                request,
                format_html(
                    "Possible duplicate: {} ({}). Please check.{}",
                    chart_link(duplicate),
                    WHY_AND_PHONE if duplicate.same_phone else WHY,
                    mark,
                ),
                messages.WARNING,
            )

    def get_urls(self):
        return [
            path(
                "<int:object_id>/not-same-child/<int:other_id>/",
                self.admin_site.admin_view(self.not_same_child_view),
                name="patients_patient_not_same_child",
            ),
        ] + super().get_urls()

    def not_same_child_view(self, request, object_id, other_id):
        """Both charts side by side; a POST marks them as different children."""
        if object_id == other_id:
            raise Http404  # nothing to compare
        try:
            patient = repositories.patient_get(user=request.user, pk=object_id)
            other = repositories.patient_get(user=request.user, pk=other_id)
        except Patient.DoesNotExist:
            raise Http404 from None
        services.patient_pair_mark_check(
            acting_user=request.user, patient=patient, other=other
        )  # PermissionDenied: a 403 page
        if request.method == "POST":
            services.patient_pair_mark_distinct(
                acting_user=request.user, patient=patient, other=other
            )
            self.message_user(
                request,
                MARKED.format(patient=patient, other=other),
                messages.SUCCESS,
            )
            return HttpResponseRedirect(
                reverse("admin:patients_patient_change", args=[patient.pk])
            )
        if request.method != "GET":
            raise PermissionDenied
        for chart in (patient, other):
            self.chart_opened(request, chart, "compare")  # both are shown
        context = {
            **self.admin_site.each_context(request),
            "title": "Are these the same child?",
            "rows": _comparison(patient, other),
            "patient": patient,
            "other": other,
            "back": reverse("admin:patients_patient_change", args=[patient.pk]),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin_ext/not_same_child.html", context)


def _comparison(patient: Patient, other: Patient) -> list[tuple[str, str, str]]:
    """What a clinician compares, as (label, this chart, the other)."""

    def values(chart: Patient) -> list[str]:
        return [
            chart.mrn,
            f"{chart.given_name} {chart.family_name}",
            chart.preferred_name or "-",
            show_date(chart.date_of_birth),
            chart.get_sex_display(),
            chart.guardian_name or "-",
            chart.guardian_phone or "-",
        ]

    labels = [
        "MRN",
        "Name",
        "Known as",
        "Date of birth",
        "Sex",
        "Guardian",
        "Guardian phone",
    ]
    return list(zip(labels, values(patient), values(other)))
