"""Generic write helpers for services: whitelisted updates, history, versions, locks.

The versioned writes that also record an audit event (versioned_create,
versioned_save, history_delete) are the chart lifecycle's
(records.patients.services.lifecycle): records.common imports nothing of records.
"""

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from django.db import models

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
