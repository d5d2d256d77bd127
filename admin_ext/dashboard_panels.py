"""The dashboard's panels, each fitted to a role: what records.charts.worklist,
records.charts.dashboards and records.imports.recent read, as rows with a link, a
date and plain words.

Clinicians get their worklist; administrators lockouts, emergency access to
review and scheduled jobs that failed; data managers their imports waiting for a
commit, their failed imports and exports; auditors emergency access to review,
recent exports and lockouts. Someone holding several roles sees each panel once.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from django.urls import reverse

from records.charts import dashboards, worklist
from records.common.display import show_time
from records.imports import recent as imports_recent
from records.users import roles

TONE_DANGER = "danger"
TONE_WARNING = "warning"


@dataclass(frozen=True)
class Row:
    text: str
    url: str
    detail: str = ""
    on: date | None = None
    at: datetime | None = None
    tone: str = ""


@dataclass
class Panel:
    key: str
    title: str
    empty: str
    rows: list[Row] = field(default_factory=list)
    more: bool = False
    # (label, url) of the full lists the panel is the start of.
    links: list[tuple[str, str]] = field(default_factory=list)


def _url(name: str, *args, query: dict | None = None) -> str:
    url = reverse(f"admin:{name}", args=args)
    return f"{url}?{urlencode(query)}" if query else url


def _summary(patient) -> str:
    return _url("patients_patient_summary", patient.pk)


def _bounded(read, *args) -> worklist.Bounded:
    """A read asked for one row more than a panel shows, to know there are more."""
    return worklist.Bounded.of(read(*args, limit=worklist.LIST_SIZE + 1))


def _panel(key, title, empty, bounded, row, links=()) -> Panel:
    return Panel(
        key=key,
        title=title,
        empty=empty,
        rows=[row(item) for item in bounded.rows],
        more=bounded.more,
        links=list(links),
    )


# --- the clinician's worklist ---------------------------------------------------------


def _draft_row(draft: worklist.Draft) -> Row:
    name = (
        "clinical_records_clinicalrecord_change"
        if draft.kind == "visit"
        else "patients_assessment_change"
    )
    record = draft.record
    kind = (
        f"{record.get_visit_type_display()} visit"
        if draft.kind == "visit"
        else f"{record.get_instrument_display()} assessment"
    )
    return Row(
        text=str(draft.patient), url=_url(name, record.pk), detail=kind, on=draft.on
    )


def _follow_up_row(item: worklist.FollowUp) -> Row:
    return Row(
        text=str(item.patient),
        url=_summary(item.patient),
        detail="Overdue" if item.overdue else "Due",
        on=item.due,
        tone=TONE_DANGER if item.overdue else "",
    )


def _alert_row(item: worklist.ChartAlert) -> Row:
    return Row(
        text=str(item.patient),
        url=_summary(item.patient),
        detail=item.alert.message,
        on=item.alert.on,
        tone=TONE_WARNING,
    )


def _opened_row(item: worklist.ChartOpened) -> Row:
    return Row(text=str(item.patient), url=_summary(item.patient), at=item.at)


def _emergency_row(grant) -> Row:
    return Row(
        text=str(grant.patient),
        url=_summary(grant.patient),
        detail=f"Until {show_time(grant.expires_at)}",
        tone=TONE_DANGER,
    )


def clinician_panels(user) -> list[Panel]:
    work = worklist.worklist(user=user)
    today = work.today
    mine = {"clinician__exact": user.pk}
    follow_up_range = {
        **mine,
        "follow_up_date__gte": today - timedelta(days=worklist.FOLLOW_UP_OVERDUE_DAYS),
        "follow_up_date__lte": today + timedelta(days=worklist.FOLLOW_UP_DUE_DAYS),
    }
    return [
        _panel(
            "drafts",
            "Drafts awaiting your sign-off",
            "No drafts of yours are waiting.",
            work.drafts,
            _draft_row,
            links=[
                (
                    "All your draft visits",
                    _url(
                        "clinical_records_clinicalrecord_changelist",
                        query={**mine, "status__exact": "draft"},
                    ),
                ),
                (
                    "All your draft assessments",
                    _url(
                        "patients_assessment_changelist",
                        query={"assessor__exact": user.pk, "status__exact": "draft"},
                    ),
                ),
            ],
        ),
        _panel(
            "follow-ups",
            f"Follow-ups due in the next {worklist.FOLLOW_UP_DUE_DAYS} days "
            "and overdue",
            "No follow-up of yours is due.",
            work.follow_ups,
            _follow_up_row,
            links=[
                (
                    "All your visits with a follow-up in that period",
                    _url(
                        "clinical_records_clinicalrecord_changelist",
                        query=follow_up_range,
                    ),
                )
            ],
        ),
        _panel(
            "growth-alerts",
            f"Growth alerts of the last {worklist.GROWTH_ALERT_DAYS} days",
            "No growth alert on your charts' recent visits.",
            work.alerts,
            _alert_row,
        ),
        _panel(
            "recent-charts",
            "Charts you opened recently",
            "You have not opened a chart yet.",
            work.recent_charts,
            _opened_row,
            links=[("All patients", _url("patients_patient_changelist"))],
        ),
        _panel(
            "emergency-held",
            "Emergency access you hold",
            "You hold no emergency access.",
            work.emergency,
            _emergency_row,
        ),
    ]


# --- administrators, data managers, auditors ---------------------------------------


def _lockouts_panel() -> Panel:
    return _panel(
        "lockouts",
        f"Lockouts of the last {dashboards.LOCKOUT_DAYS} days",
        "Nobody was locked out.",
        dashboards.lockouts_recent(),
        lambda lockout: Row(
            text=lockout.user.name_with_username if lockout.user else lockout.username,
            url=_url("axes_accessattempt_changelist", query={"q": lockout.username}),
            detail=_lockout_detail(lockout),
            at=lockout.at,
            tone=TONE_DANGER,
        ),
        links=[
            ("Lockouts", _url("axes_accessattempt_changelist")),
            (
                "All lockout events",
                _url("users_loginevent_changelist", query={"kind__exact": "lockout"}),
            ),
        ],
    )


def _lockout_detail(lockout) -> str:
    """From 127.0.0.1 · 3 more attempts while locked out, the last at 05:41 UTC."""
    parts = [f"From {lockout.ip}"] if lockout.ip else []
    more = lockout.attempts - 1
    if more:
        attempts = "1 more attempt" if more == 1 else f"{more} more attempts"
        parts.append(
            f"{attempts} while locked out, the last at {show_time(lockout.last)}"
        )
    return " · ".join(parts)


def _emergency_review_panel(user) -> Panel:
    return _panel(
        "emergency-review",
        "Emergency access to review",
        "Every emergency access has been reviewed.",
        dashboards.emergency_access_to_review(user),
        lambda grant: Row(
            text=f"{grant.user} opened {grant.patient}",
            url=_url("patients_breakglassgrant_change", grant.pk),
            at=grant.granted_at,
            tone=TONE_WARNING,
        ),
        links=[
            (
                "All not yet acknowledged",
                _url(
                    "patients_breakglassgrant_changelist",
                    query={"acknowledged_at__isempty": "1"},
                ),
            )
        ],
    )


def _failed_jobs_panel() -> Panel:
    runs = "common_scheduledrun_changelist"
    return _panel(
        "failed-jobs",
        "Scheduled jobs that failed",
        "Every scheduled job's last run succeeded.",
        dashboards.scheduled_jobs_failed(),
        lambda run: Row(
            text=getattr(run, "job_name", run.task),
            url=_url(runs, query={"task": run.task, "succeeded__exact": "0"}),
            detail=run.message,
            at=run.started_at,
            tone=TONE_DANGER,
        ),
        links=[("All runs of scheduled jobs", _url(runs))],
    )


def _import_row(job) -> Row:
    return Row(
        text=f"{job.get_entity_display()}: {job.file_name}",
        url=_url("imports_importjob_report", job.pk),
        detail=job.get_status_display(),
        at=job.created_at,
        tone=TONE_DANGER if job.status == job.Status.FAILED else "",
    )


def _imports_panels(user) -> list[Panel]:
    imports = "imports_importjob_changelist"
    return [
        _panel(
            "imports-to-commit",
            "Your imports waiting for their commit",
            "None of your imports is waiting.",
            _bounded(imports_recent.imports_awaiting_commit, user),
            _import_row,
            links=[
                (
                    "All imports checked, not committed",
                    _url(imports, query={"status__exact": "validated"}),
                )
            ],
        ),
        _panel(
            "imports-failed",
            f"Your imports of the last {imports_recent.FAILED_IMPORT_DAYS} days that "
            "failed or had errors",
            "None of your recent imports failed.",
            _bounded(imports_recent.imports_failed, user),
            _import_row,
            links=[
                ("All failed imports", _url(imports, query={"status__exact": "failed"}))
            ],
        ),
    ]


def _exports_panel(key: str, title: str, user=None) -> Panel:
    return _panel(
        key,
        title,
        "No exports yet.",
        _bounded(imports_recent.exports_recent, user),
        lambda job: Row(
            text=f"{job.get_entity_display()}, {job.row_count:,} rows"
            + ("" if user is not None or job.user is None else f", by {job.user}"),
            url=_url("imports_exportjob_change", job.pk),
            detail=job.get_status_display(),
            at=job.at,
        ),
        links=[("All exports", _url("imports_exportjob_changelist"))],
    )


def role_panels(user, held: set[str]) -> list[Panel]:
    """The panels of every role the user holds, each once, in a fixed order."""
    if user.is_superuser:
        held = held | {roles.ADMINISTRATOR}
    panels: list[Panel] = []
    if roles.CLINICIAN in held:
        panels += clinician_panels(user)
    if roles.DATA_MANAGER in held and user.has_perm("imports.import_records"):
        panels += _imports_panels(user)
        panels.append(_exports_panel("exports", "Your last exports", user))
    if held & {roles.ADMINISTRATOR, roles.AUDITOR}:
        if user.has_perm("patients.view_breakglassgrant"):
            panels.append(_emergency_review_panel(user))
        if user.has_perm("users.view_loginevent"):
            panels.append(_lockouts_panel())
    if roles.ADMINISTRATOR in held:
        panels.append(_failed_jobs_panel())
    if roles.AUDITOR in held and user.has_perm("imports.view_exportjob"):
        panels.append(_exports_panel("all-exports", "Recent exports"))
    return panels
