"""Sign-in events as an auditor reads them (issue #17).

A "success" event is written when the password step passes, before the second
factor (records/users/receivers.py: django's user_logged_in): it is shown as
"Password accepted", and the second factor's own event says when the sign-in
was complete. The stored kinds do not change. A reset of someone's second
factors names who did it, read from its audit event (one query per page).
"""

from django.contrib import admin

from records.audit.models import Action, AuditEvent
from records.users.models import LoginEvent

# What each kind is called on these pages, where the model's label misleads.
KIND_LABELS = {
    LoginEvent.Kind.SUCCESS: "Password accepted",
}


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind) or LoginEvent.Kind(kind).label


class KindFilter(admin.SimpleListFilter):
    """The kinds by the names the list shows (same parameter as the field's own
    filter, so links such as ?kind__exact=lockout keep working)."""

    title = "what happened"
    parameter_name = "kind__exact"

    def lookups(self, request, model_admin):
        return [(value, kind_label(value)) for value, _ in LoginEvent.Kind.choices]

    def queryset(self, request, queryset):
        if self.value() in LoginEvent.Kind.values:
            return queryset.filter(kind=self.value())
        return queryset


def reset_actors(events) -> dict[int, str]:
    """Who reset the second factors, for each reset event of a page: one query
    on the audit trail's (action, at) index."""
    wanted = [str(e.pk) for e in events if e.kind == LoginEvent.Kind.MFA_RESET]
    if not wanted:
        return {}
    found = AuditEvent.objects.filter(
        action=Action.MFA_RESET, object_type="users.loginevent", object_id__in=wanted
    ).select_related("actor")
    return {
        int(event.object_id): (
            event.actor.name_with_username if event.actor else event.actor_username
        )
        for event in found
    }


class SignInDisplayMixin:
    """For LoginEventAdmin: the "what happened" column and its filter."""

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        actors = reset_actors(changelist.result_list)
        for event in changelist.result_list:
            event.reset_by = actors.get(event.pk, "")
        return changelist

    @admin.display(description="What happened", ordering="kind")
    def what_happened(self, event) -> str:
        label = kind_label(event.kind)
        reset_by = getattr(event, "reset_by", "")
        return f"{label} by {reset_by}" if reset_by else label
