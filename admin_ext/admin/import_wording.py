"""The import and export pages in plain words: the report's changes by field
names and shown values, its time taken in seconds, its lists' names and badges."""

from django.contrib import admin
from django.utils.html import format_html
from django.utils.text import capfirst

from records.common.display import show_datetime
from records.imports.entities import ENTITIES
from records.imports.wording import preview_shown, related_ids
from records.patients.repositories import patients_visible_to
from records.users.models import User

ACTIONS = {"new": "New", "changed": "Changed"}
EXPORT_FORMATS = {"csv": "CSV", "xlsx": "Excel"}
# unfold's label colours without its capitals: a status reads as written.
BADGE = (
    "inline-block font-semibold h-6 leading-6 px-2 rounded-default text-xs "
    "whitespace-nowrap {}"
)
BADGE_COLOURS = {
    "info": "bg-blue-100 text-blue-700 dark:bg-blue-500/20 dark:text-blue-400",
    "danger": "bg-red-100 text-red-700 dark:bg-red-500/20 dark:text-red-400",
    "warning": (
        "bg-orange-100 text-orange-700 dark:bg-orange-500/20 dark:text-orange-400"
    ),
    "success": ("bg-green-100 text-green-700 dark:bg-green-500/20 dark:text-green-400"),
}


def report_wording(user, job) -> dict:
    """The import report's context: its preview as people read it, how long
    the check took, and the file's fingerprint for those who audit."""
    spec = ENTITIES[job.entity]
    preview = job.preview or []
    preview = preview_shown(
        spec.model, preview, spec.key, _related(user, spec, preview)
    )
    for item in preview:
        item["action"] = ACTIONS.get(item["action"], item["action"])
    return {
        "preview": preview,
        "checked_in": seconds(job.duration_ms),
        "show_fingerprint": user.has_perm("audit.view_auditevent"),
    }


def _related(user, spec, preview) -> dict[str, dict[str, str]]:
    """Patients by MRN (among those the user may see) and staff by name, for
    the ids an assessment's or visit's preview holds."""
    names = {}
    for attname, ids in related_ids(spec.model, preview, spec.key).items():
        target = spec.model._meta.get_field(attname).related_model
        if target is User:
            rows = ((u.pk, str(u)) for u in User.objects.filter(pk__in=ids))
        elif target._meta.label == "patients.Patient":
            visible = patients_visible_to(user).filter(pk__in=ids)
            rows = visible.values_list("pk", "mrn")
        else:
            continue
        names[attname] = {str(pk): name for pk, name in rows}
    return names


def seconds(duration_ms: int) -> str:
    """'0.1 s', '12 s', '3 min 20 s': never less than 0.1 s; '' for none."""
    if not duration_ms:
        return ""
    if duration_ms < 10_000:
        return f"{max(duration_ms, 100) / 1000:.1f} s"
    whole = round(duration_ms / 1000)
    if whole < 120:
        return f"{whole} s"
    return f"{whole // 60} min {whole % 60} s"


def job_name(file_name: str, at) -> str:
    """An import by its file and day: 'patients.csv, 6 Dec 2026, 05:39 UTC'."""
    return f"{file_name}, {show_datetime(at)}"  # a list shows 100


def badge(text: str, colour: str) -> str:
    return format_html(
        '<span class="{}">{}</span>',
        BADGE.format(BADGE_COLOURS.get(colour, "bg-base-500/8 text-base-700")),
        text,
    )


def status_badge(obj, colours: dict) -> str:
    """An import's or export's status as a badge in its list's colours."""
    return badge(obj.get_status_display(), colours.get(obj.status, ""))


class WhatFilter(admin.ChoicesFieldListFilter):
    """The kind of records, titled as the lists' column is ("What")."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.title = "what"


class FormatFilter(admin.SimpleListFilter):
    """An export's format by its name (CSV, Excel), not its code."""

    title = "format"
    parameter_name = "file_format"

    def lookups(self, request, model_admin):
        return list(EXPORT_FORMATS.items())

    def queryset(self, request, queryset):
        if self.value() in EXPORT_FORMATS:
            return queryset.filter(file_format=self.value())
        return queryset


# A list's query-string names, as its filters and search box name them.
_LOOKUP_ENDS = ("__exact", "__gte", "__lte", "__id__exact", "__isnull")
_FILTER_NAMES = {"q": "Search", "o": None, "p": None, "e": None}


def filters_shown(filters: dict) -> str:
    """An export's filters ({"q": ["smith"], "status__exact": ["active"]}) as
    'Search: smith; Status: active' (the list's ordering and page left out)."""
    parts = []
    for name, values in (filters or {}).items():
        label = _FILTER_NAMES.get(name, name)
        if label is None:
            continue
        if label == name:
            for end in _LOOKUP_ENDS:
                label = label.removesuffix(end)
            label = capfirst(label.replace("__", " ").replace("_", " "))
        if not isinstance(values, list):
            values = [values]
        parts.append(f"{label}: {', '.join(map(str, values))}")
    return "; ".join(parts)
