"""Summaries of a chart's records, shown as tabs on the patient page."""

from django.contrib.admin.utils import label_for_field
from django.forms.models import BaseInlineFormSet
from django.urls import NoReverseMatch, reverse
from django.utils.functional import cached_property
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from unfold.admin import TabularInline
from unfold.decorators import display
from unfold.fields import UnfoldAdminReadonlyField

from admin_ext.admin.changelist import url_pattern
from admin_ext.admin.patients.links import admin_link, media_download_link
from records.clinical_records.models import ClinicalRecord
from records.patients import repositories
from records.patients.models import Assessment, MediaFile


class LatestFormSet(BaseInlineFormSet):
    """A tab's rows: the chart's latest `shown` records, newest first (a chart
    followed for years has hundreds; the summary's timeline pages through them).
    One row more is read to know whether there are more, so the page's queries
    are the same whatever the chart holds."""

    shown = 20
    newest_first: tuple[str, ...] = ("-pk",)

    def get_queryset(self):
        if not hasattr(self, "_latest"):
            latest = super().get_queryset().order_by(*self.newest_first)
            rows = list(latest[: self.shown + 1])  # LIMIT: not the whole chart
            self.more = len(rows) > self.shown
            self._latest = rows[: self.shown]
        return self._latest

    @cached_property
    def tab_headers(self) -> list[tuple[str, str]]:
        """(field, label) of each column of the tab."""
        return [
            (name, label_for_field(name, self.model, model_admin=self.inline))
            for name in self.inline.fields
        ]

    @cached_property
    def forms(self):
        """None for a page shown (the formset unbound): its rows are shown as
        records (tab_rows), and Django's and unfold's admin would otherwise build
        a form for each of them on every page, only to loop over them. A posted
        patient form binds the formset, whose forms are then built as Django does
        (its management form is validated with the page)."""
        if not self.is_bound:
            return []
        return BaseInlineFormSet.forms.func(self)

    @property
    def media(self):
        """The tab's widgets' media, read from its empty form: every form of a
        formset has the same, and the rows are shown without forms (the admin asks
        the formset for its media, which builds a form for each row otherwise)."""
        return self.empty_form.media

    @cached_property
    def tab_rows(self) -> list[list[tuple]]:
        """(field, label, contents) of each cell of each record shown: what
        unfold's read-only field shows ("-" for nothing), as its template does.
        The records are read as they are, without a form each: the field reads a
        row's record (`form.instance`) and the form's fields (none: all read-only)."""
        records = self.get_queryset()
        if not records:
            return []
        empty = self.empty_form
        # One field per column (its label, its lookups), read for each record.
        fields = [
            TabField(_Shown(records[0], empty), name, False, model_admin=self.inline)
            for name in self.inline.fields
        ]
        rows = []
        for record in records:
            shown = _Shown(record, empty)
            cells = []
            for field in fields:
                field.form = shown
                contents = field.contents()
                if not contents or contents == "None":
                    contents = "-"
                cells.append((field.field["name"], field.field["label"], contents))
            rows.append(cells)
        return rows

    @cached_property
    def tab_rows_html(self) -> list[str]:
        """Each row of tab_rows as the cells unfold's read-only tabular inline
        draws, joined here rather than by the template cell by cell (a chart's
        three tabs hold up to 60 rows): names and labels escaped, contents as
        unfold's field gave them (escaped unless already safe)."""
        return [
            mark_safe(
                "".join(
                    _TAB_CELL.format(
                        name=conditional_escape(name),
                        label=conditional_escape(label),
                        contents=conditional_escape(contents),
                    )
                    for name, label, contents in row
                )
            )
            for row in self.tab_rows
        ]


_TAB_CELL = (
    '<td class="min-h-[62.5px] align-middle border-b max-md:border-b border-base-200 '
    "lg:group-[.last]/parent:border-b-0 dark:border-base-800 field-{name} group "
    "field-tabular p-3 lg:py-3 flex items-center before:capitalize "
    "before:font-semibold before:content-[attr(data-label)] "
    "before:text-font-important-light "
    "dark:before:text-font-important-dark before:mr-auto before:font-text before:pr-4 "
    "lg:before:hidden font-normal px-3 lg:first:pl-3 lg:last:pr-3 lg:px-1.5 text-left "
    'lg:table-cell" data-label="{label}"><div class="flex flex-row gap-3 items-center">'
    '<div class="readonly break-words max-w-2xl *:rounded-default">{contents}</div>'
    "</div></td>"
)


class _Shown:
    """What a read-only field reads of a row's form: its record, and the form's
    fields and options (those of the tab's empty form: every row's are the same)."""

    __slots__ = ("instance", "fields", "_meta")

    def __init__(self, instance, form):
        self.instance, self.fields, self._meta = instance, form.fields, form._meta


class TabField(UnfoldAdminReadonlyField):
    """unfold's read-only field, whose links to related rows (an assessor, a
    clinician) come from the tab's reversed-once addresses."""

    def get_admin_url(self, remote_field, remote_obj):
        opts = remote_field.model._meta
        try:
            url = self.model_admin.url_of(
                f"admin:{opts.app_label}_{opts.model_name}_change", remote_obj.pk
            )
        except NoReverseMatch:
            return str(remote_obj)
        return format_html('<a href="{}" class="text-link">{}</a>', url, remote_obj)


class ChartSummaryInline(TabularInline):
    formset = LatestFormSet
    # Read-only rows of records, not forms (admin_ext/chart_tab.html).
    template = "admin_ext/chart_tab.html"
    newest_first: tuple[str, ...] = ("-pk",)
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
        formset.inline = self
        formset.newest_first = self.newest_first
        formset.summary_url = ""
        if obj is not None:
            formset.summary_url = reverse(
                "admin:patients_patient_summary", args=[obj.pk]
            )
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

    def url_of(self, viewname: str, key) -> str:
        """reverse(viewname, args=[key]), reversed once per page (an inline is
        made for each request) however many rows ask."""
        made = self.__dict__.setdefault("_urls", {})
        if viewname not in made:
            made[viewname] = url_pattern(viewname, current_app=self.admin_site.name)
        return made[viewname](key)

    @display(description="Record")
    def record(self, obj):
        opts = obj._meta
        url = self.url_of(f"admin:{opts.app_label}_{opts.model_name}_change", obj.pk)
        return admin_link(obj, url=url)


class AssessmentSummaryInline(ChartSummaryInline):
    model = Assessment
    empty_text = (
        "No assessments yet. This child's neurodevelopmental assessments (General "
        "Movements, HINE, Bayley-4, ASQ-3, M-CHAT-R/F, Griffiths III) are listed "
        "here, with their scores, outcomes and sign-off."
    )
    add_label = "Add an assessment"
    newest_first = ("-performed_on", "-pk")
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
    newest_first = ("-visit_date", "-pk")
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
    newest_first = ("-uploaded_at", "-pk")
    fields = ("record", "kind", "assessment", "uploaded_at", "download")
    readonly_fields = fields

    def get_queryset(self, request):
        return repositories.media_visible_to(request.user).select_related("assessment")

    @display(description="Download")
    def download(self, obj):
        url = self.url_of("admin:patients_mediafile_download", obj.pk)
        return media_download_link(obj, url=url)
