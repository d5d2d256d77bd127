"""The chain's pure functions: one canonical byte form per event, and its hash."""

import hashlib
import json
from datetime import datetime, timedelta, timezone

import pytest

from records.audit.chain import GENESIS, HASHED_FIELDS, canonical, event_hash

AT = datetime(2026, 3, 14, 9, 26, 53, 589793, tzinfo=timezone.utc)


def fields(**overrides) -> dict:
    event = {
        "id": 7,
        "at": AT,
        "actor_id": 3,
        "actor_username": "zoë",
        "ip": "192.0.2.10",
        "request_id": "req-0001abcd",
        "action": "view",
        "object_type": "patients.patient",
        "object_id": "42",
        "patient_id": 42,
        "summary": "Opened the chart",
        "details": {"fields": ["mrn", "sex"], "count": 2},
        "prev_hash": GENESIS,
    }
    event.update(overrides)
    return event


def test_genesis_is_64_zeros():
    assert GENESIS == "0" * 64


def test_canonical_is_sorted_compact_utf8_json():
    text = canonical(fields()).decode("utf-8")
    document = json.loads(text)
    assert list(document) == sorted(HASHED_FIELDS)
    assert ", " not in text and ": " not in text
    assert '"actor_username":"zoë"' in text  # not \u00eb
    assert '"at":"2026-03-14T09:26:53.589793+00:00"' in text
    assert '"details":{"count":2,"fields":["mrn","sex"]}' in text


def test_canonical_is_deterministic_and_independent_of_key_order():
    event = fields()
    reordered = dict(reversed(list(event.items())))
    reordered["details"] = {"count": 2, "fields": ["mrn", "sex"]}
    assert list(reordered) != list(event)
    assert canonical(event) == canonical(event) == canonical(reordered)


def test_datetimes_are_utc_with_microseconds_and_none_is_null():
    paris = timezone(timedelta(hours=1))
    on_the_second = datetime(2026, 3, 14, 10, 26, 53, tzinfo=paris)
    text = canonical(fields(at=on_the_second, actor_id=None, ip=None)).decode()
    assert '"at":"2026-03-14T09:26:53.000000+00:00"' in text
    assert '"actor_id":null' in text and '"ip":null' in text


def test_the_hash_is_sha256_of_the_canonical_form():
    event = fields()
    assert event_hash(event) == hashlib.sha256(canonical(event)).hexdigest()
    assert len(event_hash(event)) == 64


def test_the_stored_hash_itself_is_not_hashed():
    assert event_hash(fields()) == event_hash({**fields(), "hash": "f" * 64})


CHANGES = {
    "id": 8,
    "at": AT + timedelta(microseconds=1),
    "actor_id": 4,
    "actor_username": "zoe",
    "ip": "192.0.2.11",
    "request_id": "req-0001abce",
    "action": "export",
    "object_type": "patients.assessment",
    "object_id": "43",
    "patient_id": 43,
    "summary": "Opened the chart.",
    "details": {"fields": ["mrn"], "count": 2},
    "prev_hash": "1" * 64,
}


@pytest.mark.parametrize("name", HASHED_FIELDS)
def test_any_field_change_changes_the_hash(name):
    assert set(CHANGES) == set(HASHED_FIELDS)
    assert event_hash(fields(**{name: CHANGES[name]})) != event_hash(fields())


def test_integral_floats_hash_as_the_integers_jsonb_gives_back():
    # jsonb returns 1e20 as 100000000000000000000 and may return 2.0 as 2.
    assert event_hash(fields(details={"n": 1e20})) == event_hash(
        fields(details={"n": 10**20})
    )
    assert event_hash(fields(details={"n": 2.0})) == event_hash(
        fields(details={"n": 2})
    )
    assert event_hash(fields(details={"n": 2.5})) != event_hash(
        fields(details={"n": 2})
    )


@pytest.mark.parametrize(
    "event, error",
    [
        (fields(at=datetime(2026, 3, 14, 9, 0)), ValueError),  # naive
        (fields(details={"n": float("nan")}), ValueError),
        (fields(details={1: "not a string key"}), ValueError),
        (fields(details={"when": AT.date()}), ValueError),
        ({k: v for k, v in fields().items() if k != "prev_hash"}, KeyError),
    ],
    ids=["naive-datetime", "nan", "int-key", "date-in-details", "missing-field"],
)
def test_what_cannot_be_hashed_reliably_is_refused(event, error):
    with pytest.raises(error):
        canonical(event)
