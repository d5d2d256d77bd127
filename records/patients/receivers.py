"""Chart grants given to one user (guardian's per-object permission on a patient):
each grant and each revocation is an audit event. Connected from the patients app's
ready()."""

from django.db.models.signals import post_delete, post_save

from records.audit.models import Action
from records.patients.models import PatientUserObjectPermission
from records.users import services
from records.users.receivers import _acting_user


def on_user_chart_grant_saved(sender, instance, created, raw=False, **kwargs) -> None:
    if created and not raw:
        services.user_chart_grant_audit(
            action=Action.GRANT, actor=_acting_user(instance), grant=instance
        )


def on_user_chart_grant_deleted(sender, instance, **kwargs) -> None:
    services.user_chart_grant_audit(
        action=Action.REVOKE, actor=_acting_user(instance), grant=instance
    )


def connect() -> None:
    post_save.connect(
        on_user_chart_grant_saved,
        sender=PatientUserObjectPermission,
        dispatch_uid="users.chart_grant_saved",
    )
    post_delete.connect(
        on_user_chart_grant_deleted,
        sender=PatientUserObjectPermission,
        dispatch_uid="users.chart_grant_deleted",
    )
