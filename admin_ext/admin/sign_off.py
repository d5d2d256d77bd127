"""Who signed a record off as final, and when, in words (from its history), and
the message a sign-off leaves: in place of "Version 2" and of Django's "changed
successfully. You may edit it again below." above a page that is read-only."""

from records.common.display import show_datetime
from records.patients.models import RecordStatus

SIGNED_OFF = "{kind} signed off as final."


def signed_off_kind(opts) -> str:
    """'Visit' for a visit record, 'Assessment' for an assessment."""
    name = str(opts.verbose_name)
    return "Visit" if name == "visit record" else name.capitalize()


def signed_off_text(obj) -> str:
    """'Signed off by Jane Doe on 17 May 2023, 14:05 BST', from the first saved
    version that was final (a later amendment keeps the first sign-off)."""
    first = (
        obj.history.filter(status=RecordStatus.FINAL)
        .select_related("history_user")
        .order_by("history_date", "history_id")
        .first()
    )
    if first is None:
        return ""
    who = first.history_user
    name = (who.get_full_name() or who.get_username()) if who else "an import"
    return f"Signed off by {name} on {show_datetime(first.history_date)}."
