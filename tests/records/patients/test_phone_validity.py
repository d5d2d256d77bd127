"""The phone shortcuts give phonenumbers' own answers, for every region."""

import random

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumberFormat

from records.patients.validators import phone_is_valid, phone_parse_e164

CALLING_CODES = sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)
# Calling codes shared by several regions: the case phone_is_valid shortcuts.
SHARED = [
    c for c in CALLING_CODES if len(phonenumbers.COUNTRY_CODE_TO_REGION_CODE[c]) > 1
]


def example_numbers():
    """The library's example number of each type for each region, and neighbours
    of each (a digit changed, one added, one dropped): valid and invalid ones."""
    rng = random.Random(5)
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in phonenumbers.PhoneNumberType.values():
            number = phonenumbers.example_number_for_type(region, kind)
            if number is None:
                continue
            yield number
            digits = str(number.national_number)
            for _ in range(3):
                at = rng.randrange(len(digits))
                for changed in (
                    digits[:at] + str(rng.randrange(10)) + digits[at + 1 :],
                    digits + str(rng.randrange(10)),
                    digits[:-1],
                ):
                    if changed:
                        yield phonenumbers.PhoneNumber(
                            country_code=number.country_code,
                            national_number=int(changed),
                        )


def test_the_same_answer_on_every_regions_examples():
    numbers = list(example_numbers())
    assert len(numbers) > 5000
    answers = [(phone_is_valid(n), phonenumbers.is_valid_number(n)) for n in numbers]
    assert [n for n, (ours, theirs) in zip(numbers, answers) if ours != theirs] == []
    # Both kinds were asked about, or the comparison proves little.
    assert {ours for ours, _ in answers} == {True, False}


@settings(max_examples=2000, deadline=None)
@given(
    code=st.sampled_from(SHARED + CALLING_CODES),
    national=st.integers(min_value=0, max_value=10**15),
    leading_zero=st.booleans(),
)
def test_the_same_answer_on_any_number(code, national, leading_zero):
    number = phonenumbers.PhoneNumber(
        country_code=code,
        national_number=national,
        italian_leading_zero=leading_zero or None,
    )
    assert phone_is_valid(number) == phonenumbers.is_valid_number(number)


def test_an_unknown_calling_code_is_not_valid():
    assert not phone_is_valid(
        phonenumbers.PhoneNumber(country_code=999, national_number=1234567)
    )


def _parse_or_none(text: str, region: str):
    try:
        return phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None


def _agrees(text: str, region: str = "GB") -> bool:
    """The shortcut gives parse()'s number, or steps aside (None)."""
    ours = phone_parse_e164(text)
    return ours is None or ours == _parse_or_none(text, region)


def test_e164_parsing_agrees_on_every_regions_examples_and_neighbours():
    rng = random.Random(7)
    texts = []
    for number in example_numbers():
        texts.append(phonenumbers.format_number(number, PhoneNumberFormat.E164))
    for code in CALLING_CODES:
        for length in range(0, 18):
            for first in "0123456789":
                rest = "".join(rng.choice("0123456789") for _ in range(length))
                texts.append(f"+{code}{first}{rest}")
    shortcut = [text for text in texts if phone_parse_e164(text) is not None]
    # Most E.164 texts take the shortcut, or it saves nothing.
    assert len(shortcut) > len(texts) / 2
    assert [text for text in texts if not _agrees(text)] == []
    # A number the shortcut read is already in its E.164 form (phone_normalize
    # returns the text as it is).
    e164 = PhoneNumberFormat.E164
    formatted = [
        phonenumbers.format_number(phone_parse_e164(t), e164) for t in shortcut
    ]
    assert [t for t, f in zip(shortcut, formatted) if t != f] == []
    # The default region does not change a number written with its calling code.
    assert all(_agrees(text, "US") and _agrees(text, "IT") for text in shortcut[::50])


@settings(max_examples=2000, deadline=None)
@given(text=st.from_regex(r"\+[0-9]{1,20}", fullmatch=True))
def test_e164_parsing_agrees_on_any_digits(text):
    assert _agrees(text)
    number = phone_parse_e164(text)
    if number is not None:
        assert phonenumbers.format_number(number, PhoneNumberFormat.E164) == text


@pytest.mark.parametrize("text", ["", "+", "+0441234567", "+44 20 7946 0123", "0207"])
def test_other_shapes_are_left_to_the_library(text):
    assert phone_parse_e164(text) is None
