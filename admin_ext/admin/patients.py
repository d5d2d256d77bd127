"""Admin for patient charts: patients, assessments (with media upload) and media.

Why one module past 500 lines: three ModelAdmins and their forms and inlines;
one module per model is part of the restructure (issue #14).
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.template.defaultfilters import filesizeformat
from django.utils.html import format_html, format_html_join
from unfold.admin import StackedInline, TabularInline
from unfold.contrib.filters.admin import RangeDateFilter
from unfold.decorators import display
from unfold.paginator import InfinitePaginator
from unfold.widgets import (
    UnfoldAdminDateWidget,
    UnfoldAdminSelect2MultipleWidget,
    UnfoldAdminTextareaWidget,
    UnfoldAdminTextInputWidget,
)

from admin_ext.admin.duplicates import DuplicateWarningMixin
from admin_ext.admin.patient_details import PatientDetailsMixin, phone_text
from admin_ext.admin.exports import ExportMixin
from admin_ext.admin.media_preview import MediaPreviewMixin
from admin_ext.admin.letters import LetterAdminMixin, SummaryPdfMixin
from admin_ext.admin.search import SessionSearchChangeList
from admin_ext.admin.form_display import shown_names
from admin_ext.admin.mixins import (
    STATUS_COLOURS,
    ChartAdmin,
    ChartForm,
    LockableAdmin,
    LockableForm,
)
from records import reports
from records.charts.summary import chart_summary
from records.clinical_records.models import ClinicalRecord
from records.clinical_records.repositories import patients_for_admin
from records.common.display import show_date, show_time
from records.patients import ages, repositories, services
from records.patients.models import Assessment, BreakGlassGrant, MediaFile, Patient
from records.patients.services import access
from records.users.models import CareTeam


def admin_link(obj, text=None) -> str:
    opts = obj._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    return format_html('<a class="text-primary-600" href="{}">{}</a>', url, text or obj)


# --- summaries of a chart's records, shown as tabs on the patient page -------------


class ChartSummaryInline(TabularInline):
    extra = 0
    max_num = 0
    can_delete = False
    tab = True
    show_change_link = False
    # The Record column names each row: no title row repeating it above.
    hide_title = True
    # An empty tab says what belongs there, with an Add button for the chart.
    template_before = "admin_ext/chart_tab_empty.html"
    empty_text = ""
    add_label = ""

    def has_add_permission(self, request, obj=None):
        return False

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        opts = self.model._meta
        formset.empty_text = self.empty_text
        formset.model_name = opts.model_name
        formset.add_label = self.add_label
        formset.add_url = ""
        if obj is not None and request.user.has_perm(
            f"{opts.app_label}.add_{opts.model_name}"
        ):
            add = reverse(f"admin:{opts.app_label}_{opts.model_name}_add")
            formset.add_url = f"{add}?patient={obj.pk}"
        return formset

    def has_change_permission(self, request, obj=None):
        return False

    @display(description="Record")
    def record(self, obj):
        return admin_link(obj)


class AssessmentSummaryInline(ChartSummaryInline):
    model = Assessment
    empty_text = (
        "No assessments yet. This child's neurodevelopmental assessments (General "
        "Movements, HINE, Bayley-4, ASQ-3, M-CHAT-R/F, Griffiths III) are listed "
        "here, with their scores, outcomes and sign-off."
    )
    add_label = "Add an assessment"
    fields = ("record", "assessor", "total_score", "outcome", "status")
    readonly_fields = fields

    def get_queryset(self, request):
        return repositories.assessments_visible_to(request.user).select_related(
            "assessor"
        )


class VisitSummaryInline(ChartSummaryInline):
    model = ClinicalRecord
    verbose_name_plural = "visits"
    empty_text = (
        "No visits yet. This child's clinic visits (complaint, examination, vitals, "
        "diagnoses and plan) are listed here."
    )
    add_label = "Add a visit"
    fields = ("record", "clinician", "chief_complaint", "status")
    readonly_fields = fields

    def get_queryset(self, request):
        from records.clinical_records.repositories import clinical_records_visible_to

        return clinical_records_visible_to(request.user).select_related("clinician")


class MediaSummaryInline(ChartSummaryInline):
    model = MediaFile
    fk_name = "patient"
    empty_text = (
        "No media yet. Videos, photos and documents of this child (MP4, QuickTime, "
        "WebM, JPEG, PNG, PDF) are listed here, with the assessment they belong to."
    )
    add_label = "Add a media file"
    fields = ("record", "kind", "assessment", "uploaded_at", "download")
    readonly_fields = fields

    def get_queryset(self, request):
        return repositories.media_visible_to(request.user).select_related("assessment")

    @display(description="Download")
    def download(self, obj):
        return media_download_link(obj)


def media_download_link(media: MediaFile) -> str:
    url = reverse("admin:patients_mediafile_download", args=[media.pk])
    return format_html('<a class="text-primary-600" href="{}">Download</a>', url)


# --- patients --------------------------------------------------------------------


class BreakGlassForm(forms.Form):
    mrn = forms.CharField(
        label="MRN",
        max_length=20,
        widget=UnfoldAdminTextInputWidget,
        help_text="The exact medical record number: emergency access has no search.",
    )
    reason = forms.CharField(
        label="Reason",
        max_length=BreakGlassGrant._meta.get_field("reason").max_length,
        widget=UnfoldAdminTextareaWidget(attrs={"rows": 3}),
        help_text="The emergency, in at least 15 characters. Auditors review it.",
    )


class AccessDateForm(forms.Form):
    on = forms.DateField(label="On", widget=UnfoldAdminDateWidget)


class PatientForm(ChartForm):
    care_teams = forms.ModelMultipleChoiceField(
        queryset=CareTeam.objects.none(),
        required=False,
        widget=UnfoldAdminSelect2MultipleWidget,
        help_text="The teams whose members may open this chart.",
    )

    class Meta:
        model = Patient
        fields = "__all__"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The teams this user may assign (per form: its fields are copies).
        self.fields["care_teams"].queryset = services.care_teams_assignable_by(
            self.acting_user
        )
        if self.instance.pk:
            self.fields["care_teams"].initial = list(
                services.patient_care_teams(self.instance)
            )
            if self.instance.guardian_phone and "guardian_phone" in self.initial:
                # As people write it; saved again in E.164 form.
                self.initial["guardian_phone"] = phone_text(
                    self.instance.guardian_phone
                )
        else:
            # A clinician in one care team registers patients into it.
            teams = list(self.fields["care_teams"].queryset[:2])
            if len(teams) == 1:
                self.fields["care_teams"].initial = teams

    def clean_care_teams(self):
        teams = self.cleaned_data["care_teams"]
        if not self.instance.pk:
            try:
                access.registration_team_check(
                    acting_user=self.acting_user, team=teams[0] if teams else None
                )
            except ValidationError as error:
                raise forms.ValidationError(error.messages) from None
        return teams


class PatientChangeList(SessionSearchChangeList):
    def url_for_result(self, result):
        """The list's row link opens the chart's summary."""
        return reverse("admin:patients_patient_summary", args=[result.pk])


@admin.register(Patient)
class PatientAdmin(
    SummaryPdfMixin, ExportMixin, DuplicateWarningMixin, PatientDetailsMixin, ChartAdmin
):
    export_entity = "patients"
    form = PatientForm
    # No total under the pages (it would count the table): the list says how many
    # charts it holds, exact when few, estimated beyond (admin_ext/admin/counts.py).
    paginator = InfinitePaginator
    list_before_template = "admin_ext/list_count.html"
    list_display = (
        "mrn",
        "patient",
        "date_of_birth_and_age",
        "sex",
        "status_label",
        "last_visit",
    )
    list_display_links = ("mrn", "patient")
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

    def _summary_redirect(self, obj):
        return HttpResponseRedirect(
            reverse("admin:patients_patient_summary", args=[obj.pk])
        )

    def response_add(self, request, obj, post_url_continue=None):
        response = super().response_add(request, obj, post_url_continue)
        if self._saved_and_closed(request):
            return self._summary_redirect(obj)
        return response

    def response_change(self, request, obj):
        response = super().response_change(request, obj)
        if self._saved_and_closed(request):
            return self._summary_redirect(obj)
        return response

    @staticmethod
    def _saved_and_closed(request) -> bool:
        """A plain Save (not save and continue, add another, or as new)."""
        return not any(
            key in request.POST
            for key in ("_continue", "_addanother", "_saveasnew", "_popup")
        )

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
        results = repositories.patient_search(
            user=request.user, query=search_term, queryset=queryset
        )
        return results, False

    @display(description="Patient", header=True, ordering="family_name")
    def patient(self, obj):
        preferred = f"known as {obj.preferred_name}" if obj.preferred_name else ""
        return f"{obj.family_name.upper()}, {obj.given_name}", preferred

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

    @display(description="Status", label=STATUS_COLOURS)
    def status_label(self, obj):
        return obj.status

    @display(description="Last visit", ordering="last_visit")
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


# --- assessments -------------------------------------------------------------------


class AssessmentForm(LockableForm):
    class Meta:
        model = Assessment
        fields = "__all__"

    def _post_clean(self):
        super()._post_clean()  # the instance now holds the submitted values
        if self.cleaned_data.get("make_final") and not self.errors:
            try:
                services.assessment_finalize_check(self.instance)
            except ValidationError as error:
                self.add_error(None, error)


class MediaUploadForm(forms.ModelForm):
    """An upload on the assessment page, checked by content before anything is saved."""

    class Meta:
        model = MediaFile
        fields = ("file", "description")

    def clean_file(self):
        uploaded = self.cleaned_data.get("file")
        if uploaded and not self.instance.pk:
            services.media_file_check(uploaded)  # the service's own checks
        return uploaded

    def clean(self):
        cleaned = super().clean()
        # On the assessment page the patient is the assessment's own.
        assessment = getattr(self.instance, "assessment", None)
        if "patient" not in self.fields and assessment and assessment.patient_id:
            self.instance.patient_id = assessment.patient_id
        return cleaned


class MediaUploadInline(StackedInline):
    model = MediaFile
    form = MediaUploadForm
    fk_name = "assessment"
    extra = 0
    can_delete = False
    tab = True
    verbose_name = "media file"
    verbose_name_plural = "media"
    fields = ("file", "description")

    def get_queryset(self, request):
        # Uploads only; stored files are listed (with download links) by media_list.
        return MediaFile.objects.none()

    def has_change_permission(self, request, obj=None):
        # Stored media never change: only new files are added here.
        return False

    def has_add_permission(self, request, obj=None):
        return request.user.has_perm("patients.add_mediafile")


@admin.register(Assessment)
class AssessmentAdmin(LetterAdminMixin, ExportMixin, LockableAdmin):
    export_entity = "assessments"
    form = AssessmentForm
    record_kwarg = "assessment"
    record_services = {
        "register": services.assessment_register,
        "update": services.assessment_update,
        "amend": services.assessment_amend,
        "finalize": services.assessment_finalize,
        "delete": services.assessment_delete,
    }
    inlines = (MediaUploadInline,)
    list_display = (
        "__str__",
        "patient",
        "assessor",
        "chronological_age",
        "corrected_age",
        "total_score",
        "outcome",
        "status_label",
    )
    list_select_related = ("patient", "assessor")
    list_filter = ("instrument", "outcome", "status", ("performed_on", RangeDateFilter))
    list_filter_submit = True
    autocomplete_fields = ("patient",)
    readonly_fields = ("chronological_age", "corrected_age", "media_list")
    fieldsets = (
        (
            "Assessment",
            {
                "fields": (
                    "patient",
                    ("instrument", "performed_on"),
                    "assessor",
                    ("chronological_age", "corrected_age"),
                )
            },
        ),
        (
            "Result",
            {"fields": (("total_score", "outcome"), "findings", "recommendations")},
        ),
        ("Media", {"fields": ("media_list",)}),
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
        return repositories.assessments_visible_to(request.user).select_related(
            "patient", "assessor"
        )

    @display(description="Chronological age")
    def chronological_age(self, obj):
        return obj.chronological_age or "-"

    @display(description="Corrected age")
    def corrected_age(self, obj):
        return obj.corrected_age or "not applicable"

    @display(description="Stored media")
    def media_list(self, obj):
        if not obj or not obj.pk:
            return "-"
        files = repositories.media_of_assessment(obj)
        if not files:
            return "-"
        return format_html_join(
            "",
            "<div>{} ({}) {}</div>",
            (
                (m.original_name, m.get_kind_display(), media_download_link(m))
                for m in files
            ),
        )

    def save_formset(self, request, form, formset, change):
        if formset.model is not MediaFile:
            return super().save_formset(request, form, formset, change)
        # What the admin's change message reads from a formset it saved itself.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = (
            [],
            [],
            [],
        )
        for media_form in formset.forms:
            if media_form.instance.pk or not media_form.has_changed():
                continue
            media = services.media_upload(
                acting_user=request.user,
                patient=form.instance.patient,
                assessment=form.instance,
                uploaded_file=media_form.cleaned_data["file"],
                description=media_form.cleaned_data.get("description", ""),
            )
            formset.new_objects.append(media)


# --- media files -------------------------------------------------------------------


class MediaFileForm(MediaUploadForm):
    class Meta:
        model = MediaFile
        fields = ("patient", "assessment", "file", "description")


@admin.register(MediaFile)
class MediaFileAdmin(MediaPreviewMixin, ChartAdmin):
    form = MediaFileForm
    list_display = (
        "original_name",
        "kind",
        "patient",
        "assessment",
        "size",
        "uploaded_at",
        "download",
    )
    list_select_related = ("patient", "assessment")
    list_filter = ("kind", ("uploaded_at", RangeDateFilter))
    list_filter_submit = True
    autocomplete_fields = ("patient",)
    search_fields = ("original_name",)

    def get_queryset(self, request):
        return repositories.media_visible_to(request.user)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        # with the displays ChartAdmin swaps in (shown_patient), no form fields
        return (*self.get_fields(request, obj), *shown_names(self.model))

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("patient", "assessment", "file", "description")
        return (
            "patient",
            "assessment",
            "kind",
            "original_name",
            *self.detail_fields(request),
            "description",
            "uploaded_by",
            "uploaded_at",
            "download",
        )

    def has_change_permission(self, request, obj=None):
        # Stored media never change; the page shows them read-only.
        return False

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "assessment":
            kwargs["queryset"] = repositories.assessments_visible_to(
                request.user
            ).select_related("patient")
        if db_field.name == "patient":
            kwargs["queryset"] = repositories.patients_visible_to(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @display(description="Size")
    def size(self, obj):
        return filesizeformat(obj.size_bytes)

    @display(description="Download")
    def download(self, obj):
        return media_download_link(obj)

    def save_model(self, request, obj, form, change):
        services.media_upload(
            acting_user=request.user,
            patient=form.cleaned_data["patient"],
            assessment=form.cleaned_data.get("assessment"),
            uploaded_file=form.cleaned_data["file"],
            description=form.cleaned_data.get("description", ""),
            instance=obj,
        )

    def service_delete(self, request, obj, reason):
        services.media_delete(acting_user=request.user, media=obj, reason=reason)

    def get_urls(self):
        return [
            path(
                "<int:object_id>/download/",
                self.admin_site.admin_view(self.download_view),
                name="patients_mediafile_download",
            )
        ] + super().get_urls()

    def download_view(self, request, object_id):
        """Check access, then hand over a link valid for minutes (or the bytes)."""
        try:
            media = repositories.media_get(user=request.user, pk=object_id)
        except MediaFile.DoesNotExist:
            raise Http404("No such media file.") from None
        self.chart_opened(request, media, "download")
        url = services.media_download_url(media=media)
        if url:
            response = HttpResponseRedirect(url)
        else:
            response = FileResponse(
                media.file.open("rb"),
                as_attachment=True,
                filename=services.media_download_name(media),
                content_type=media.content_type,
            )
        return response  # admin_view marks it never-cache (no-store)
