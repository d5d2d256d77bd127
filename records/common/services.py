"""Generic write helpers for services."""

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from django.db import models

ModelT = TypeVar("ModelT", bound=models.Model)


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
