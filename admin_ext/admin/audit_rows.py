"""A report's rows (the auditor's chart and user reports, the change timeline),
worked out once in code rather than by a template tag per cell: a report shows up
to a thousand events and five hundred changes, and drawing them cost it more than
everything it reads. audit_display says what each row is about."""

from dataclasses import dataclass
from datetime import datetime

from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.safestring import SafeString

from records.audit.models import AuditEvent
from records.common.display import show_datetime


@dataclass(slots=True)
class ReportEvent:
    """An audit event as a report's row shows it, read as values: a report
    shows up to a thousand, and reading each into a model instance (and its
    actor into another) cost the report more than everything else it reads."""

    pk: int
    at: datetime
    action: str
    actor_id: int | None
    actor_username: str
    ip: str | None
    object_type: str
    object_id: str
    patient_id: int | None
    summary: str
    actor_name: str = ""  # the account's name now; "" for an account gone
    what: str = ""  # events_describe
    when: str = ""  # events_shown, as are the others
    action_label: str = ""
    who: str = ""
    who_url: str = ""


REPORT_EVENT_COLUMNS = (
    "pk",
    "at",
    "action",
    "actor_id",
    "actor_username",
    "ip",
    "object_type",
    "object_id",
    "patient_id",
    "summary",
    "actor__first_name",
    "actor__last_name",
    "actor__username",
)


def report_events(events, limit: int) -> list[ReportEvent]:
    """The first `limit` of `events` (an AuditEvent queryset, in its order) in
    one query, each actor named as User.name_with_username names them."""
    from records.users.models import User

    names: dict[tuple, str] = {}
    shown = []
    rows = events.values_list(*REPORT_EVENT_COLUMNS)
    for *columns, first, last, username in rows[:limit]:
        event = ReportEvent(*columns)
        if username is not None:  # the account is there still
            key = (first, last, username)
            if key not in names:
                person = User(first_name=first, last_name=last, username=username)
                names[key] = person.name_with_username
            event.actor_name = names[key]
        shown.append(event)
    return shown


def events_shown(events: list[ReportEvent]) -> None:
    """Set what a report's row shows of each event, worked out here once rather
    than by the template for each row (hundreds a report): `when` (the moment as
    the clinic writes it), `action_label` (get_action_display), `who` (the
    account's name now, or the username it had) and `who_url` (that user's
    report, reversed once per user)."""
    links, moments = {}, {}
    actions = dict(AuditEvent._meta.get_field("action").flatchoices)
    for event in events:
        # Shown to the minute (zones change their offset on a minute): events
        # of a busy chart share minutes, each worked out once.
        minute = event.at.replace(second=0, microsecond=0)
        if minute not in moments:
            moments[minute] = show_datetime(minute)
        event.when = moments[minute]
        event.action_label = str(actions.get(event.action, event.action))
        event.who = event.actor_name or event.actor_username
        username = event.actor_username or "-"
        if username not in links:
            links[username] = reverse(
                "admin:audit_auditevent_user_report", args=[username]
            )
        event.who_url = links[username]


# A report's rows, as audit_report.html drew them with a template tag per cell
# (hundreds of rows, five or six cells each): built once, escaped as it escaped.
EVENT_ROW = (
    '<tr class="border-t border-base-200 dark:border-base-800">'
    '<td class="py-1">{}</td><td><a class="text-primary-600" href="{}">{}</a></td>'
    "<td>{}</td><td>{}</td><td>{}</td></tr>"
)
CHANGE_ROW = (
    '<tr class="align-top border-t border-base-200 dark:border-base-800">'
    '<td class="py-1">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>'
    "<td>{}</td></tr>"
)
CHANGED_FIELD = "<div>{}: {} → {}</div>"


def events_rows(events: list[ReportEvent]) -> SafeString:
    """The rows of a report's events table (events_shown and events_describe
    set what they show)."""
    return format_html_join(
        "\n",
        EVENT_ROW,
        (
            (
                event.when,
                event.who_url,
                event.who,
                event.action_label,
                event.what or event.summary,
                event.ip or "",
            )
            for event in events
        ),
    )


def changes_rows(changes: list[dict]) -> SafeString:
    """The rows of a report's changes table (changes_describe sets what they
    show; `when` is the moment as the clinic writes it)."""
    return format_html_join(
        "\n",
        CHANGE_ROW,
        (
            (
                change["when"],
                change["what"],
                change["type"],
                change["user"],
                change["reason"],
                format_html_join(
                    "",
                    CHANGED_FIELD,
                    (
                        (name, old or "—", new or "—")
                        for name, old, new in change["fields"]
                    ),
                ),
            )
            for change in changes
        ),
    )
