"""phone_is_valid gives phonenumbers.is_valid_number's answer, for every region."""

import random

import phonenumbers
from hypothesis import given, settings
from hypothesis import strategies as st

from records.patients.validators import phone_is_valid

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
