"""Generic write helpers for services: whitelisted updates, history, versions, locks."""

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from django.db import models, transaction

from records.audit.services import audit_object
from records.common.errors import ServiceError, StaleEditError
from records.common.text import visible

ModelT = TypeVar("ModelT", bound=models.Model)

E_STALE = (
    "Someone else saved this {name} after you opened it. Reload the page to see their "
    "changes, then make yours again."
)
E_UNKNOWN_FIELDS = "These fields cannot be set here: {fields}."
E_REASON_REQUIRED = "Give a reason for this change."

# Bookkeeping columns: a difference in these alone is not a change.
BOOKKEEPING_FIELDS = frozenset({"version", "created_at", "updated_at", "created_by_id"})


def model_update(
    *,
    instance: ModelT,
    fields: Iterable[str],
    data: Mapping[str, Any],
    save: bool = True,
) -> tuple[ModelT, bool]:
    """Set the whitelisted `fields` found in `data`; validate and save if any changed.

    Returns the instance and whether anything changed. Keys of `data` outside `fields`
    are ignored, so a form can never write a field the service did not offer.
    """
    changed = []
    for field in fields:
        if field not in data:
            continue
        if getattr(instance, field) != data[field]:
            setattr(instance, field, data[field])
            changed.append(field)
    if changed and save:
        instance.full_clean()
        update_fields = list(changed)
        if any(f.name == "updated_at" for f in instance._meta.get_fields()):
            update_fields.append("updated_at")
        instance.save(update_fields=update_fields)
    return instance, bool(changed)


def data_check(data: Mapping[str, Any], allowed: Iterable[str]) -> None:
    """Refuse keys a caller may not set, rather than silently dropping them."""
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise ServiceError(E_UNKNOWN_FIELDS.format(fields=", ".join(unknown)))


def data_apply(*, instance: ModelT, fields: Iterable[str], data: Mapping[str, Any]):
    """Put a caller's data on an instance, refusing fields it may not set; the
    service then validates and saves (with its version check and history)."""
    data_check(data, fields)
    model_update(instance=instance, fields=fields, data=data, save=False)


def history_note(instance: models.Model, *, user, reason: str = "") -> None:
    """Tell django-simple-history who makes the next save, and why."""
    instance._history_user = user
    instance._change_reason = visible(reason) or None


def reason_required(reason: str) -> str:
    reason = visible(reason)  # twenty zero-width spaces are no reason
    if not reason:
        raise ServiceError(E_REASON_REQUIRED, code="reason_required")
    return reason


def row_lock(instance: ModelT) -> ModelT:
    """The row as committed, locked until the end of the transaction."""
    return type(instance)._default_manager.select_for_update().get(pk=instance.pk)


def version_check(current: models.Model, expected_version: int | None) -> None:
    if expected_version is not None and current.version != expected_version:
        raise StaleEditError(
            E_STALE.format(name=current._meta.verbose_name), code="stale"
        )


def changed_fields(current: models.Model, instance: models.Model) -> list[str]:
    return [
        field.attname
        for field in instance._meta.concrete_fields
        if field.attname not in BOOKKEEPING_FIELDS
        and getattr(current, field.attname) != getattr(instance, field.attname)
    ]


@transaction.atomic
def versioned_create(*, instance: ModelT, acting_user, reason: str = "") -> ModelT:
    """Validate and insert a new row with its first history entry."""
    instance.full_clean()
    if hasattr(instance, "created_by_id"):
        instance.created_by = acting_user
    history_note(instance, user=acting_user, reason=reason)
    instance.save()
    audit_object(action="create", actor=acting_user, obj=instance)
    return instance


@transaction.atomic
def versioned_save(
    *,
    instance: ModelT,
    acting_user,
    expected_version: int | None,
    reason: str = "",
    guard=None,
    action: str | None = None,
) -> list[str]:
    """Save the edits made to `instance` if it is still the version the user edited.

    `guard(current)` may refuse the edit given the committed row (a final record, say).
    `action` names the change in the audit trail (an amendment, say); by default an
    archiving or an update.
    Returns the names of the changed fields; nothing is written when there are none,
    so saving an unchanged form adds no history.
    """
    current = row_lock(instance)
    version_check(current, expected_version)
    if guard is not None:
        guard(current)
    changed = changed_fields(current, instance)
    if not changed:
        instance.version = current.version
        return []
    instance.full_clean()
    instance.version = current.version + 1
    history_note(instance, user=acting_user, reason=reason)
    instance.save()
    audit_object(
        action=action or _change_action(instance, changed),
        actor=acting_user,
        obj=instance,
        details={"fields": changed, "version": instance.version},
    )
    return changed


def _change_action(instance, changed: list[str]) -> str:
    """How the audit trail names a change: an archiving or an update."""
    if "status" in changed and getattr(instance, "status", None) == "archived":
        return "archive"
    return "update"


@transaction.atomic
def history_delete(*, instance: models.Model, acting_user, reason: str) -> None:
    """Delete a row, leaving a history entry that says who deleted it and why."""
    history_note(instance, user=acting_user, reason=reason_required(reason))
    audit_object(action="delete", actor=acting_user, obj=instance)
    instance.delete()
