"""Clinic letters and the printed chart summary as PDF downloads: the views, and the
hooks (URLs, the final record page's button) that the chart admins take in."""

from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.http import content_disposition_header

from admin_ext.pdf import render_pdf
from records.charts import letters
from records.patients.models import Patient, RecordStatus

LETTER_TEMPLATE = "admin_ext/letters/letter.html"
SUMMARY_TEMPLATE = "admin_ext/letters/summary.html"
# The letter each record's model makes (records.charts.letters.LETTERS).
LETTER_KINDS = {"clinicalrecord": "visit", "assessment": "assessment"}


def pdf_response(pdf: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=filename
    )
    return response  # admin_view marks it never-cache (no-store)


class LetterAdminMixin:
    """For the visit and assessment admins: `<id>/letter/` downloads the clinic
    letter of a final record, and a final record's page offers it."""

    def _letter_names(self) -> tuple[str, str]:
        opts = self.model._meta
        return LETTER_KINDS[opts.model_name], f"{opts.app_label}_{opts.model_name}"

    def get_urls(self):
        _, prefix = self._letter_names()
        return [
            path(
                "<int:object_id>/letter/",
                self.admin_site.admin_view(self.letter_view),
                name=f"{prefix}_letter",
            )
        ] + super().get_urls()

    def letter_view(self, request, object_id):
        """The letter as PDF; a record out of reach is a 404, a draft refused."""
        kind, prefix = self._letter_names()
        try:
            letter = letters.LETTERS[kind](user=request.user, pk=object_id)
        except self.model.DoesNotExist:
            raise Http404 from None
        except letters.DraftLetterError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            return HttpResponseRedirect(
                reverse(f"admin:{prefix}_change", args=[object_id])
            )
        pdf = render_pdf(
            LETTER_TEMPLATE,
            {"letter": letter, "patient": letter.patient, "head": letter.letterhead},
            logo_path=letter.letterhead.logo_path,
        )
        letters.letter_download_record(
            user=request.user, obj=letter.record, document="clinic letter"
        )
        return pdf_response(pdf, letter.filename)

    def render_change_form(
        self, request, context, add=False, change=False, form_url="", obj=None
    ):
        if change and obj is not None and obj.status == RecordStatus.FINAL:
            _, prefix = self._letter_names()
            context["letter_url"] = reverse(f"admin:{prefix}_letter", args=[obj.pk])
        return super().render_change_form(request, context, add, change, form_url, obj)


class SummaryPdfMixin:
    """For the patient admin: `<id>/summary/pdf/`, the chart summary to print."""

    def get_urls(self):
        return [
            path(
                "<int:object_id>/summary/pdf/",
                self.admin_site.admin_view(self.summary_pdf_view),
                name="patients_patient_summary_pdf",
            )
        ] + super().get_urls()

    def summary_pdf_view(self, request, object_id):
        try:
            printed = letters.summary_print(user=request.user, pk=object_id)
        except Patient.DoesNotExist:
            raise Http404 from None
        patient = printed.summary.patient
        pdf = render_pdf(
            SUMMARY_TEMPLATE,
            {
                "printed": printed,
                "summary": printed.summary,
                "patient": patient,
                "head": printed.letterhead,
            },
            logo_path=printed.letterhead.logo_path,
        )
        letters.letter_download_record(
            user=request.user, obj=patient, document="chart summary"
        )
        return pdf_response(pdf, printed.filename)
