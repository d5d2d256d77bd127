"""A file uploaded as the wrong kind of records (a patients file as
assessments): told in one message, not a row of errors for each column."""

from records.imports.entities import ENTITIES, EntitySpec, header_key
from records.imports.models import Entity

E_OTHER_KIND = (
    "This looks like a {kind} file, not {chosen}: choose {kind} under Records, "
    "or check the header row."
)


def other_kind(spec: EntitySpec, header: list[str]) -> str | None:
    """The message for a header most of whose columns are unknown to `spec`
    but are the columns of another kind of records; None otherwise."""
    keys = {key for key in map(header_key, header) if key}
    if not keys:
        return None
    own = len(keys & _keys(spec))
    if own * 2 >= len(keys):
        return None  # most columns are this kind's: their errors say the rest
    best, matched = None, own
    for other in ENTITIES.values():
        found = len(keys & _keys(other))
        if other is not spec and found * 2 > len(keys) and found > matched:
            best, matched = other, found
    if best is None:
        return None
    return E_OTHER_KIND.format(
        kind=Entity(best.name).label,
        chosen=Entity(spec.name).label.lower(),
    )


def _keys(spec: EntitySpec) -> set[str]:
    return {header_key(column.name) for column in spec.columns}
