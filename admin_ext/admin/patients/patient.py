"""The patient admin: chart list, summary, access report, emergency access."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from unfold.decorators import display

from admin_ext.admin.duplicates import DuplicateWarningMixin
from admin_ext.admin.exports import ExportMixin
from admin_ext.admin.letters import SummaryPdfMixin
from admin_ext.admin.list_cells import header_cell
from admin_ext.admin.chart_admin import ChartAdmin
from admin_ext.admin import counts
from admin_ext.admin.status_label import StatusLabelMixin
from admin_ext.admin.patient_details import PatientDetailsMixin
from admin_ext.admin.patients.chart_inlines import (
    AssessmentSummaryInline,
    MediaSummaryInline,
    VisitSummaryInline,
)
from admin_ext.admin.patients.forms import AccessDateForm, BreakGlassForm, PatientForm
from admin_ext.admin.search import SessionSearchChangeList
from admin_ext.admin.shared import saved_and_closed, summary_redirect
from records import reports
from records.charts.summary import chart_summary
from records.clinical_records.repositories import patients_for_admin
from records.common.display import show_date, show_time
from records.patients import ages, repositories, services
from records.patients.models import Patient

I_SEARCH_UNRANKED = (
    "More than {limit:,} charts match this search, too many to put the closest "
    "first: they are listed newest chart first. Add a given name or a date of "
    "birth, e.g. “Harris Oliver” or “Harris 17/05/2023”, to see the closest "
    "matches first."
)


class PatientChangeList(SessionSearchChangeList):
    def get_ordering(self, request, queryset):
        """A column's sort as an index can give it at a million charts: by family
        name, then given name (the name index; a family name alone is shared by
        thousands), and the last tie broken by id in the sort's own direction
        (Django's default, id descending, would mix directions and make
        PostgreSQL sort every chart of the first name or date of birth). A
        name search orders its own results: closest first, or newest first past
        a thousand matches (PatientAdmin.bounded_search_results)."""
        ordering = super().get_ordering(request, queryset)
        if ordering[-1:] != ["-pk"] or not isinstance(ordering[0], str):
            return ordering
        first = ordering[0]
        sign = "-" if first.startswith("-") else ""
        if first.lstrip("-") == "family_name" and len(ordering) == 2:
            return [first, f"{sign}given_name", f"{sign}pk"]
        return [*ordering[:-1], f"{sign}pk"]

    # The list's row link opens the chart's summary.
    row_viewname = "admin:patients_patient_summary"


@admin.register(Patient)
class PatientAdmin(
    SummaryPdfMixin,
    ExportMixin,
    DuplicateWarningMixin,
    PatientDetailsMixin,
    StatusLabelMixin,
    ChartAdmin,
):
    export_entity = "patients"
    form = PatientForm
    list_display = (
        "mrn",
        "patient",
        "date_of_birth_and_age",
        "sex",
        "status_label",
        "last_visit",
    )
    list_display_links = ("mrn", "patient")
    # Sorts an index answers at a million charts (see PatientChangeList); sex and
    # status are filters, and the last visit would be computed for every chart.
    sortable_by = ("mrn", "patient", "date_of_birth_and_age")
    # No filter by date of birth: its value would go into the address (a GET
    # form); the search box finds a date of birth and keeps it out of addresses.
    list_filter = ("status", "sex")
    list_filter_submit = True
    # The search itself is patient_search (MRN, prefix, fuzzy, date of birth); these
    # fields make the search box and the patient autocomplete appear.
    search_fields = ("mrn", "family_name", "given_name")
    search_help_text = "MRN, name (approximate spelling is fine) or date of birth."
    inlines = (AssessmentSummaryInline, VisitSummaryInline, MediaSummaryInline)
    readonly_fields = ("age", "created_by", "created_at", "updated_at")
    fieldsets = (
        (
            "Patient",
            {
                "fields": (
                    "mrn",
                    ("given_name", "family_name"),
                    "preferred_name",
                    ("date_of_birth", "age"),
                    "sex",
                )
            },
        ),
        (
            "Birth",
            {
                "fields": (
                    ("gestational_age_weeks", "gestational_age_days"),
                    "birth_weight_grams",
                    "growth_reference",
                )
            },
        ),
        (
            "Guardian",
            {
                "fields": (
                    ("guardian_name", "guardian_relationship"),
                    ("guardian_phone", "guardian_email"),
                )
            },
        ),
        (
            "Address",
            {"fields": ("address_line1", "address_line2", ("city", "postcode"))},
        ),
        ("Status", {"fields": (("status", "date_of_death"), "care_teams")}),
        (
            "Change",
            {"fields": ("change_reason", "expected_version")},
        ),
        (
            "Record",
            {
                "classes": ("collapse",),
                "fields": ("created_by", "created_at", "updated_at", "version"),
            },
        ),
    )

    def get_queryset(self, request):
        return patients_for_admin(request.user)

    @staticmethod
    def patient_id_of(obj) -> int:
        return obj.pk

    def get_urls(self):
        return [
            path(
                "emergency-access/",
                self.admin_site.admin_view(self.break_glass_view),
                name="patients_patient_break_glass",
            ),
            path(
                "<int:object_id>/access/",
                self.admin_site.admin_view(self.access_view),
                name="patients_patient_access",
            ),
            path(
                "<int:object_id>/summary/",
                self.admin_site.admin_view(self.summary_view),
                name="patients_patient_summary",
            ),
        ] + super().get_urls()

    def summary_view(self, request, object_id):
        """What opening a patient shows: read-only, and a chart opening (audited)."""
        try:
            summary = chart_summary(
                user=request.user, pk=object_id, page=request.GET.get("page", 1)
            )
        except Patient.DoesNotExist:
            raise Http404 from None
        patient = summary.patient
        self.chart_opened(request, patient, "summary")
        user = request.user
        add = "?patient={}".format(patient.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": str(patient),
            "summary": summary,
            "patient": patient,
            "opts": self.model._meta,
            "growth_data": summary.growth,
            "trend_data": summary.trends,
            # Details open read-only for those who cannot change the chart.
            "can_change": self.has_change_permission(request, patient),
            "links": {
                "edit": reverse("admin:patients_patient_change", args=[patient.pk]),
                "add_assessment": (
                    reverse("admin:patients_assessment_add") + add
                    if user.has_perm("patients.add_assessment")
                    else ""
                ),
                "add_visit": (
                    reverse("admin:clinical_records_clinicalrecord_add") + add
                    if user.has_perm("clinical_records.add_clinicalrecord")
                    else ""
                ),
                "add_media": (
                    reverse("admin:patients_mediafile_add") + add
                    if user.has_perm("patients.add_mediafile")
                    else ""
                ),
                "audit": (
                    reverse("admin:audit_auditevent_patient_report", args=[patient.pk])
                    if user.has_perm("audit.view_auditevent")
                    else ""
                ),
                "access": (
                    reverse("admin:patients_patient_access", args=[patient.pk])
                    if user.has_perm("patients.view_patientgroupobjectpermission")
                    else ""
                ),
            },
        }
        return TemplateResponse(request, "admin_ext/patient_summary.html", context)

    def get_changelist(self, request, **kwargs):
        return PatientChangeList

    def response_add(self, request, obj, post_url_continue=None):
        response = super().response_add(request, obj, post_url_continue)
        return summary_redirect(obj.pk) if saved_and_closed(request) else response

    def response_change(self, request, obj):
        response = super().response_change(request, obj)
        return summary_redirect(obj.pk) if saved_and_closed(request) else response

    def access_view(self, request, object_id):
        """Who could open this chart on a given date, and why (for auditors)."""
        if not request.user.has_perm("patients.view_patientgroupobjectpermission"):
            raise PermissionDenied
        try:
            patient = repositories.patient_get(user=request.user, pk=object_id)
        except Patient.DoesNotExist:
            raise Http404 from None
        self.chart_opened(request, patient, "access")  # it names the patient
        form = AccessDateForm(request.GET or None)
        on = form.cleaned_data["on"] if form.is_valid() else timezone.localdate()
        # The whole day, not its last moment: an emergency grant of the morning
        # has expired by midnight, and its holder could open the chart that day.
        period = reports.Period.of_days(on, on)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Who could open {patient} on {show_date(on)}",
            "patient": patient,
            "on": on,
            "form": form,
            "entries": reports.chart_openers(patient=patient, period=period),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin_ext/patient_access.html", context)

    def break_glass_view(self, request):
        """Open a chart outside one's care teams: exact MRN, a stated reason."""
        if not request.user.has_perm("patients.add_breakglassgrant"):
            raise PermissionDenied
        form = BreakGlassForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                grant = services.break_glass_open(
                    acting_user=request.user,
                    mrn=form.cleaned_data["mrn"],
                    reason=form.cleaned_data["reason"],
                )
            except ValidationError as error:
                for field, messages_ in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, messages_)
            else:
                self.message_user(
                    request,
                    "Emergency access granted until "
                    f"{show_time(grant.expires_at)}. "
                    "Your reason and every opening of this chart are recorded.",
                    messages.WARNING,
                )
                # The chart opens where any opening of a patient does: its summary.
                return HttpResponseRedirect(
                    reverse("admin:patients_patient_summary", args=[grant.patient_id])
                )
        context = {
            **self.admin_site.each_context(request),
            "title": "Emergency access to a chart",
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin_ext/break_glass.html", context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.acting_user = request.user
        return form

    def bounded_search_results(self, request, queryset, search_term):
        """Name searches rank their matches, closest first, when they are few
        (EXACT_UP_TO: the count the list shows is exact); beyond, ranking would
        read every match (20,000 charts start 'Harr' of a million), so the
        matches come newest first, which the primary key's index gives, and the
        list says how to narrow them. The count made here is the list's count
        line too: the page's queries are those of an unsearched list."""
        user = request.user
        if not repositories.patient_search_ranks(search_term):
            results = repositories.patient_search(
                user=user, query=search_term, queryset=queryset
            )
            return results, False
        matches = repositories.patient_search(
            user=user, query=search_term, queryset=queryset, ranked=False
        )
        count = counts.bounded_count(matches)
        if count[1]:  # an estimate: more than counts.EXACT_UP_TO
            if request.method == "GET":
                self.message_user(
                    request,
                    I_SEARCH_UNRANKED.format(limit=counts.EXACT_UP_TO),
                    messages.INFO,
                )
            return counts.counted(matches, count), False
        results = repositories.patient_search(
            user=user, query=search_term, queryset=queryset
        )
        return counts.counted(results, count), False

    @display(description="Patient", ordering="family_name")
    def patient(self, obj):
        preferred = f"known as {obj.preferred_name}" if obj.preferred_name else ""
        return header_cell(f"{obj.family_name.upper()}, {obj.given_name}", preferred)

    @display(description="Date of birth", ordering="date_of_birth")
    def date_of_birth_and_age(self, obj):
        return f"{show_date(obj.date_of_birth)} ({self.age(obj)})"

    @display(description="Age")
    def age(self, obj):
        if not obj or not obj.date_of_birth:
            return "-"
        return ages.age_text(
            obj.date_of_birth, obj.date_of_death or timezone.localdate()
        )

    @display(description="Last visit")
    def last_visit(self, obj):
        return obj.last_visit or "-"

    def chart_opened(self, request, obj, what: str = "") -> None:
        super().chart_opened(request, obj, what)
        if not what:  # the chart's own page, on GET: warn of likely duplicates
            self.warn_duplicates(request, obj)

    def save_model(self, request, obj, form, change):
        teams = form.cleaned_data.get("care_teams", [])
        if change:
            services.patient_update(
                acting_user=request.user,
                patient=obj,
                expected_version=form.cleaned_data.get("expected_version"),
                reason=self.reason(form),
            )
            services.patient_set_care_teams(
                acting_user=request.user,
                patient=obj,
                teams=teams,
                reason=self.reason(form),
            )
        else:
            services.patient_register(
                acting_user=request.user,
                patient=obj,
                care_teams=teams,
                reason=self.reason(form),
            )
            # "Save and continue editing" lands on the chart's page, which warns
            # as it opens: warning here too showed each warning twice.
            if "_continue" not in request.POST:
                self.warn_duplicates(request, obj)

    def service_delete(self, request, obj, reason):
        services.patient_delete(acting_user=request.user, patient=obj, reason=reason)
