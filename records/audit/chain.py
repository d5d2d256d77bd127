"""The audit chain's hash: a canonical byte form of an event and its SHA-256 (no DB)."""

import hashlib
import json
import math
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

# The first event's prev_hash: no event comes before it.
GENESIS = "0" * 64

# Every column of an event except `hash` itself. The id is included, so that a row
# removed or slipped in between two others breaks the chain even if its neighbours
# are re-linked.
HASHED_FIELDS = (
    "id",
    "at",
    "actor_id",
    "actor_username",
    "ip",
    "request_id",
    "action",
    "object_type",
    "object_id",
    "patient_id",
    "summary",
    "details",
    "prev_hash",
)

E_NAIVE_DATETIME = "Audit times must be timezone-aware: {value!r}."
E_NOT_FINITE = "Audit details cannot hold NaN or infinity: {value!r}."
E_KEY_NOT_STR = "Audit details keys must be strings: {key!r}."
E_NOT_JSON = (
    "Audit details must be JSON (dict, list, str, int, float, bool, None): {type}."
)


def plain(value: Any) -> Any:
    """`value` as the database gives it back, so that writing and verifying agree.

    jsonb keeps numbers as decimals, so 1e20 comes back as the integer
    100000000000000000000 and 2.0 may come back as 2: a float with an integral value
    is hashed as that integer. Datetimes become UTC ISO-8601 with microseconds.
    """
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, int):
        return int(value)  # an IntEnum or a bool-like subclass: its plain value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(E_NOT_FINITE.format(value=value))
        return int(value) if value.is_integer() else value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(E_NAIVE_DATETIME.format(value=value))
        return value.astimezone(timezone.utc).isoformat(timespec="microseconds")
    if isinstance(value, Mapping):
        result = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(E_KEY_NOT_STR.format(key=key))
            result[key] = plain(item)
        return result
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    raise ValueError(E_NOT_JSON.format(type=type(value).__name__))


def canonical(event_fields: Mapping[str, Any]) -> bytes:
    """The event's hashed fields as sorted-key, compact JSON in UTF-8.

    Every name in HASHED_FIELDS must be present (a KeyError otherwise); other keys,
    `hash` among them, are ignored.
    """
    document = {name: plain(event_fields[name]) for name in HASHED_FIELDS}
    text = json.dumps(
        document,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )
    return text.encode("utf-8")


def event_hash(fields: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical form, as 64 hex digits."""
    return hashlib.sha256(canonical(fields)).hexdigest()
