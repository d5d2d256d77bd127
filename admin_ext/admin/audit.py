"""Admin for the audit stream: read-only for auditors, and never counted."""

import csv
import hashlib
import io
from datetime import timedelta

from django import forms
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.views.main import SEARCH_VAR
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.text import capfirst
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import FieldTextFilter
from unfold.decorators import display
from unfold.paginator import InfinitePaginator

from admin_ext.admin import audit_display, audit_rows
from admin_ext.admin.date_filters import LocalDateTimeRangeFilter
from admin_ext.admin.shared import ReadOnlyAdminMixin
from admin_ext.admin.search import SessionSearchMixin
from records import reports
from records.audit.models import Action, AuditEvent
from records.audit.services import audit_record
from records.common.display import show_datetime
from records.imports.exports import escape_cell
from records.patients.repositories import patients_visible_to
from records.patients.validators import mrn_normalize

REPORT_ROWS = 1000
# Changes a report shows (the newest of its period) and exports.
CHANGE_ROWS = reports.CHANGE_ROWS
CSV_COLUMNS = (
    "id",
    "at",
    "actor_username",
    "ip",
    "action",
    "object_type",
    "object_id",
    "patient_id",
    "summary",
    "request_id",
)


class PeriodForm(forms.Form):
    start = forms.DateField(required=False)
    end = forms.DateField(required=False)


class ExactTextFilter(FieldTextFilter):
    """A typed value matched exactly: patient 12 must not also show patient 112."""

    def __init__(self, field, request, params, model, model_admin, field_path):
        self.lookup_kwarg = f"{field_path}__exact"
        self.lookup_val = params.get(self.lookup_kwarg)
        # FieldTextFilter's own __init__ would set the icontains lookup: skip it.
        super(FieldTextFilter, self).__init__(
            field, request, params, model, model_admin, field_path
        )


# What an event is about, as staff call it; other models by their verbose name.
OBJECT_KINDS = {
    "auth.group": "Role or care team",
    "users.loginevent": "Sign-in",
}


def object_kind_name(label: str) -> str:
    if not label:
        return "-"
    if label in OBJECT_KINDS:
        return OBJECT_KINDS[label]
    try:
        model = apps.get_model(label)
    except (LookupError, ValueError):
        return label
    return capfirst(model._meta.verbose_name)


def _staff_name(username: str) -> str:
    """Ada Lovelace (alovelace); the username alone for an account gone."""
    from records.users.models import User

    person = User.objects.filter(username=username).first()
    return person.name_with_username if person else username


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, SessionSearchMixin, ModelAdmin):
    """Read-only: the trail is written by services alone and never changed.

    Its search box takes a chart's MRN (the trail keeps ids, which outlive a
    deleted chart), kept out of the address like every search naming patients."""

    list_display = (
        "at",
        "actor_name",
        "action",
        "object_kind",
        "what",
        "ip",
    )
    list_filter = (
        "action",
        ("at", LocalDateTimeRangeFilter),
        ("actor_username", FieldTextFilter),
        ("patient_id", ExactTextFilter),
        audit_display.ScreenReadingsFilter,
    )
    search_fields = ("patient_id",)  # a search box; get_search_results reads MRNs
    search_help_text = "A patient's MRN"
    address_search_vars = (SEARCH_VAR, "mrn")  # ?mrn= was this list's MRN filter
    list_filter_submit = True
    # Millions of rows: no COUNT(*) for the total, none for the pages either.
    show_full_result_count = False
    # 50 rows a page, as the chart lists: what staff read at once (issue #15).
    list_per_page = 50
    paginator = InfinitePaginator

    list_select_related = ("actor",)

    @display(description="Actor", ordering="actor_username")
    def actor_name(self, obj):
        # The account's name now; the username it had then when it is gone (or,
        # for a failed sign-in, the username that was typed).
        return obj.actor.name_with_username if obj.actor else obj.actor_username

    @display(description="Object", ordering="object_type")
    def object_kind(self, obj):
        return object_kind_name(obj.object_type)

    @display(description="What")
    def what(self, obj):
        # Set for the whole page at once (get_changelist_instance).
        return getattr(obj, "what", obj.summary)

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        changelist.result_list = list(changelist.result_list)
        audit_display.events_describe(
            changelist.result_list, request.user, where="audit trail"
        )
        return changelist

    def bounded_search_results(self, request, queryset, search_term):
        mrn = mrn_normalize(search_term)
        if not mrn:
            return queryset, False
        ids = patients_visible_to(request.user).filter(mrn=mrn).values("pk")
        return queryset.filter(patient_id__in=ids), False

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "patient/<int:patient_id>/",
                view(self.patient_report_view),
                name="audit_auditevent_patient_report",
            ),
            path(
                "timeline/",
                view(self.timeline_view),
                name="audit_auditevent_timeline",
            ),
            path(
                "user/<str:username>/",
                view(self.user_report_view),
                name="audit_auditevent_user_report",
            ),
        ] + super().get_urls()

    def _period(self, request) -> tuple[PeriodForm, reports.Period]:
        form = PeriodForm(request.GET or None)
        today = timezone.localdate()
        first, last = today - timedelta(days=30), today
        if form.is_valid():
            first = form.cleaned_data["start"] or first
            last = form.cleaned_data["end"] or last
        return form, reports.Period.of_days(first, last)

    def _allowed(self, request) -> None:
        if not self.has_view_permission(request):
            raise PermissionDenied

    def patient_report_view(self, request, patient_id):
        """Who viewed, changed, downloaded or exported a chart, and who could."""
        self._allowed(request)
        form, period = self._period(request)
        events = reports.patient_events(patient_id=patient_id, period=period)
        if request.GET.get("format") == "csv":
            return self._csv(request, events, f"patient {patient_id}")
        patient = patients_visible_to(request.user).filter(pk=patient_id).first()
        changes = self._changes(request, period, patient_id=patient_id)
        if not any(row["chart"] == patient_id for row in changes.rows):
            # The report names the chart: a reading, as the changes' own (which
            # history_changes records when there are any) would have been.
            audit_record(
                action=Action.VIEW,
                actor=request.user,
                object_type="patients.patient",
                object_id=patient_id,
                patient_id=patient_id,
                summary=f"audit report of chart #{patient_id}",
            )
        context = {
            "title": (
                f"Audit of {patient}" if patient else f"Audit of chart #{patient_id}"
            ),
            "patient": patient,
            "form": form,
            "period": period,
            **self._events(
                request, events.select_related("actor"), already=[patient_id]
            ),
            "access": self._access(patient, period),
            **self._context(changes),
        }
        return self._page(request, context)

    @staticmethod
    def _events(request, events, already=()) -> dict:
        """The period's first REPORT_ROWS events, and whether there were more."""
        shown = audit_rows.report_events(events, REPORT_ROWS + 1)
        audit_display.events_describe(
            shown[:REPORT_ROWS], request.user, where="audit console", already=already
        )
        audit_rows.events_shown(shown[:REPORT_ROWS])
        return {
            "events": shown[:REPORT_ROWS],
            "events_rows": audit_rows.events_rows(shown[:REPORT_ROWS]),
            "events_partial": len(shown) > REPORT_ROWS,
        }

    @staticmethod
    def _changes(request, period, *, patient_id=None) -> reports.Changes:
        changes = reports.history_changes(
            user=request.user, period=period, patient_id=patient_id, limit=CHANGE_ROWS
        )
        audit_display.changes_describe(changes.rows, request.user)
        for change in changes.rows:
            change["when"] = show_datetime(change["at"])
        return changes

    @staticmethod
    def _context(changes: reports.Changes) -> dict:
        return {
            "changes": changes.rows,
            "changes_rows": audit_rows.changes_rows(changes.rows),
            "changes_partial": changes.partial,
        }

    @staticmethod
    def _access(patient, period) -> list[reports.Opener]:
        if patient is None:  # a deleted chart: its events remain, its access not
            return []
        return reports.chart_openers(patient=patient, period=period)

    def timeline_view(self, request):
        """Every change to charts and users in a period, with field-level diffs."""
        self._allowed(request)
        form, period = self._period(request)
        changes = self._changes(request, period)
        if request.GET.get("format") == "csv":
            return self._changes_csv(request, changes)
        context = {"title": "Change timeline", "form": form, "period": period}
        context.update(self._context(changes), timeline=True)
        return self._page(request, context)

    def _changes_csv(self, request, changes: reports.Changes) -> HttpResponse:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["at", "record", "change", "user", "reason", "fields"])
        for change in changes.rows:
            fields = "; ".join(f"{n}: {o} -> {v}" for n, o, v in change["fields"])
            writer.writerow(
                [
                    escape_cell(value)
                    for value in (
                        change["at"].isoformat(),
                        change["what"],
                        change["type"],
                        change["user"],
                        change["reason"],
                        fields,
                    )
                ]
            )
        return self._download(
            request, out, "change timeline", len(changes.rows), partial=changes.partial
        )

    def user_report_view(self, request, username):
        """Everything one user did in a period."""
        self._allowed(request)
        form, period = self._period(request)
        events = reports.user_events(username=username, period=period)
        if request.GET.get("format") == "csv":
            return self._csv(request, events, f"user {username}")
        context = {
            "title": f"Audit of {_staff_name(username)}",
            "form": form,
            "period": period,
            **self._events(request, events),
        }
        return self._page(request, context)

    def _page(self, request, context):
        return TemplateResponse(
            request,
            "admin_ext/audit_report.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                # The period's last day (its end is the midnight after it).
                "last_day": (context["period"].end - timedelta(days=1)).date(),
                **context,
            },
        )

    def _csv(self, request, events, subject: str) -> HttpResponse:
        """The report as CSV; exporting the trail is itself on the trail."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(CSV_COLUMNS)
        count = 0
        for event in events.iterator(chunk_size=2000):
            writer.writerow([escape_cell(getattr(event, name)) for name in CSV_COLUMNS])
            count += 1
        return self._download(request, out, subject, count)

    def _download(
        self, request, out, subject: str, count: int, *, partial: bool = False
    ) -> HttpResponse:
        """The report as a file; exporting the trail is itself on the trail. A
        partial one (the newest changes of a long period) says so in its name."""
        data = out.getvalue().encode("utf-8-sig")
        audit_record(
            action=Action.AUDIT_EXPORT,
            actor=request.user,
            summary=f"Audit report of {subject} exported",
            details={
                "subject": subject,
                "rows": count,
                "partial": partial,
                "sha256": hashlib.sha256(data).hexdigest(),
            },
        )
        name = "ndas-audit-partial.csv" if partial else "ndas-audit.csv"
        response = HttpResponse(data, content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
