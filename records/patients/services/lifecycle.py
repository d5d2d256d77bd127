"""The life of a chart's rows: every versioned write (created, saved if still the
version the user edited, deleted with a reason: each with its history entry and its
audit event), and draft, final and amended for a clinical record: one lifecycle for
every kind (assessment, visit), each kind described by a RecordKind."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar

from django.core.exceptions import PermissionDenied
from django.db import models, transaction

from records.audit.models import Action
from records.audit.services import audit_object
from records.common.errors import LockedRecordError, ServiceError
from records.common.services import (
    changed_fields,
    data_check,
    data_apply,
    history_note,
    reason_required,
    row_lock,
    version_check,
)
from records.patients.models import RecordStatus
from records.patients.services.access import chart_write_check, named_staff_check

E_FINAL_LOCKED = "This {name} is final. Amend it, giving a reason, to change it."
E_NOT_FINAL = "Only a final {name} is amended; edit the draft instead."
E_ALREADY_FINAL = "This {name} is already final."
E_DELETE_ADMIN_ONLY = (
    "Only an administrator may delete a {name}; archive or amend it instead."
)
AMENDMENT_REASON = "Amendment: {reason}"

ModelT = TypeVar("ModelT", bound=models.Model)


@transaction.atomic
def versioned_create(*, instance: ModelT, acting_user, reason: str = "") -> ModelT:
    """Validate and insert a new row with its first history entry."""
    instance.full_clean()
    if hasattr(instance, "created_by_id"):
        instance.created_by = acting_user
    history_note(instance, user=acting_user, reason=reason)
    instance.save()
    audit_object(action=Action.CREATE, actor=acting_user, obj=instance)
    return instance


@transaction.atomic
def versioned_save(
    *,
    instance: ModelT,
    acting_user,
    expected_version: int | None,
    reason: str = "",
    guard=None,
    action: Action | None = None,
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


def _change_action(instance, changed: list[str]) -> Action:
    """How the audit trail names a change: an archiving or an update."""
    if "status" in changed and getattr(instance, "status", None) == "archived":
        return Action.ARCHIVE
    return Action.UPDATE


@transaction.atomic
def history_delete(*, instance: models.Model, acting_user, reason: str) -> None:
    """Delete a row, leaving a history entry that says who deleted it and why."""
    history_note(instance, user=acting_user, reason=reason_required(reason))
    audit_object(action=Action.DELETE, actor=acting_user, obj=instance)
    instance.delete()


def _name(instance: models.Model) -> str:
    return str(instance._meta.verbose_name)


def refuse_if_final(current: models.Model) -> None:
    if current.status == RecordStatus.FINAL:
        raise LockedRecordError(
            E_FINAL_LOCKED.format(name=_name(current)), code="final"
        )


def _write_checked(instance: models.Model, acting_user, guard: Callable) -> Callable:
    """`guard`, then what the edit changes against the stored record: a record
    moved to another chart must be writable on both, and the staff it names."""

    def check(current: models.Model) -> None:
        guard(current)
        if current.patient_id != instance.patient_id:
            chart_write_check(acting_user=acting_user, instance=current)
            chart_write_check(acting_user=acting_user, instance=instance)
        named_staff_check(instance=instance, current=current)

    return check


def _record_save(
    instance, acting_user, expected_version, reason: str, guard, action=None
) -> None:
    """A clinical record's versioned save, `guard` and the write checks first."""
    versioned_save(
        instance=instance,
        acting_user=acting_user,
        expected_version=expected_version,
        reason=reason,
        guard=_write_checked(instance, acting_user, guard),
        action=action,
    )


@dataclass(frozen=True)
class RecordKind:
    """What differs between two kinds of clinical record (an assessment, a visit):
    the model, the fields its data may set, the values derived before each save and
    what a final record needs. Every other step of its life is the one below."""

    model: type[models.Model]
    fields: tuple[str, ...]
    derive: Callable[[models.Model], None]
    finalize_check: Callable[[models.Model], None] = lambda instance: None


def record_register(
    kind: RecordKind, *, acting_user, instance: ModelT, reason: str = ""
) -> ModelT:
    """Save a new record built by a form (or by record_create)."""
    chart_write_check(acting_user=acting_user, instance=instance)
    named_staff_check(instance=instance)
    kind.derive(instance)
    return versioned_create(instance=instance, acting_user=acting_user, reason=reason)


def record_create(
    kind: RecordKind, *, acting_user, data: Mapping[str, Any], reason: str = ""
) -> models.Model:
    data_check(data, kind.fields)
    return record_register(
        kind, acting_user=acting_user, instance=kind.model(**data), reason=reason
    )


def record_edit(
    kind: RecordKind,
    *,
    instance: ModelT,
    acting_user,
    data: Mapping[str, Any] | None = None,
    expected_version: int | None = None,
    reason: str = "",
) -> ModelT:
    """Edit a draft record: whitelisted data, derived values, stale check, history.
    A final record refuses (see record_amend)."""
    chart_write_check(acting_user=acting_user, instance=instance)
    if data:
        data_apply(instance=instance, fields=kind.fields, data=data)
    kind.derive(instance)
    _record_save(instance, acting_user, expected_version, reason, refuse_if_final)
    return instance


def record_finalize(
    kind: RecordKind,
    *,
    instance: ModelT,
    acting_user,
    expected_version: int | None = None,
) -> ModelT:
    kind.finalize_check(instance)

    def guard(current):
        if current.status == RecordStatus.FINAL:
            raise ServiceError(E_ALREADY_FINAL.format(name=_name(current)))

    chart_write_check(acting_user=acting_user, instance=instance)
    instance.status = RecordStatus.FINAL
    _record_save(instance, acting_user, expected_version, "Finalised", guard)
    return instance


def record_amend(
    kind: RecordKind,
    *,
    instance: ModelT,
    acting_user,
    reason: str,
    data: Mapping[str, Any] | None = None,
    expected_version: int | None = None,
) -> ModelT:
    """Change a final record. The reason is required; history keeps what it replaced.
    Nothing changed (a form saved as it was), nothing is written: no reason needed."""
    chart_write_check(acting_user=acting_user, instance=instance)
    if data:
        reason_required(reason)  # before anything of the record is touched

    def guard(current):
        if current.status != RecordStatus.FINAL:
            raise ServiceError(E_NOT_FINAL.format(name=_name(current)))
        if changed_fields(current, instance):
            reason_required(reason)

    if data:
        data_apply(instance=instance, fields=kind.fields, data=data)
    instance.status = RecordStatus.FINAL
    kind.derive(instance)
    # A new name: `guard` reads the reason as given (required for a change).
    noted = AMENDMENT_REASON.format(reason=(reason or "").strip())
    _record_save(
        instance, acting_user, expected_version, noted, guard, action=Action.AMEND
    )
    return instance


def delete_permission_check(*, instance: models.Model, acting_user) -> None:
    opts = instance._meta
    if not acting_user.has_perm(f"{opts.app_label}.delete_{opts.model_name}"):
        raise PermissionDenied(E_DELETE_ADMIN_ONLY.format(name=_name(instance)))


@transaction.atomic
def record_delete(
    kind: RecordKind, *, instance: models.Model, acting_user, reason: str
) -> None:
    delete_permission_check(instance=instance, acting_user=acting_user)
    history_delete(instance=instance, acting_user=acting_user, reason=reason)


class NamedServices(NamedTuple):
    """A kind's public services (`<entity>_register`, `_create`, `_update`,
    `_finalize`, `_amend`, `_delete`), each taking the record by the kind's own
    keyword (`assessment=`, `record=`): written once here, over the one lifecycle.
    A tuple, in this order, so that a kind's module names them in one statement."""

    register: Callable[..., Any]
    create: Callable[..., Any]
    update: Callable[..., Any]
    finalize: Callable[..., Any]
    amend: Callable[..., Any]
    delete: Callable[..., None]


def _named(instance_name: str, kwargs: dict[str, Any]) -> models.Model:
    """The record passed as `instance_name=`; any other keyword is refused."""
    try:
        instance = kwargs.pop(instance_name)
    except KeyError:
        raise TypeError(f"missing keyword argument {instance_name!r}") from None
    if kwargs:
        raise TypeError(f"unexpected keyword arguments: {', '.join(kwargs)}")
    return instance


def named_services(
    kind: RecordKind, *, prefix: str, instance_name: str
) -> NamedServices:
    """The public services of `kind`, named `<prefix>_<verb>` (as tracebacks and
    logs show them), the record passed as `instance_name=`."""
    name = str(kind.model._meta.verbose_name)

    def register(*, acting_user, reason: str = "", **record):
        return record_register(
            kind,
            acting_user=acting_user,
            instance=_named(instance_name, record),
            reason=reason,
        )

    def create(*, acting_user, data: Mapping[str, Any], reason: str = ""):
        return record_create(kind, acting_user=acting_user, data=data, reason=reason)

    def update(
        *,
        acting_user,
        data: Mapping[str, Any] | None = None,
        expected_version: int | None = None,
        reason: str = "",
        **record,
    ):
        return record_edit(
            kind,
            instance=_named(instance_name, record),
            acting_user=acting_user,
            data=data,
            expected_version=expected_version,
            reason=reason,
        )

    def finalize(*, acting_user, expected_version: int | None = None, **record):
        return record_finalize(
            kind,
            instance=_named(instance_name, record),
            acting_user=acting_user,
            expected_version=expected_version,
        )

    def amend(
        *,
        acting_user,
        reason: str,
        data: Mapping[str, Any] | None = None,
        expected_version: int | None = None,
        **record,
    ):
        return record_amend(
            kind,
            instance=_named(instance_name, record),
            acting_user=acting_user,
            reason=reason,
            data=data,
            expected_version=expected_version,
        )

    def delete(*, acting_user, reason: str, **record) -> None:
        record_delete(
            kind,
            instance=_named(instance_name, record),
            acting_user=acting_user,
            reason=reason,
        )

    register.__doc__ = f"Save a new {name} built by a form (or by {prefix}_create)."
    update.__doc__ = f"Edit a draft; a final {name} refuses (see {prefix}_amend)."
    for verb, service in (
        ("register", register),
        ("create", create),
        ("update", update),
        ("finalize", finalize),
        ("amend", amend),
        ("delete", delete),
    ):
        service.__name__ = service.__qualname__ = f"{prefix}_{verb}"
    return NamedServices(
        register=register,
        create=create,
        update=update,
        finalize=finalize,
        amend=amend,
        delete=delete,
    )
