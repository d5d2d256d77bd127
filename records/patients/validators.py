"""Rules for patient and assessment data: one set for models, forms and imports."""

import functools
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date
from decimal import Decimal

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils import timezone

E_MRN_FORMAT = (
    "MRN must be 4 to 20 characters: letters, digits and dashes "
    "(for example NDA-00123)."
)
E_DATE_FUTURE = "This date is in the future."
E_DATE_BEFORE_1900 = "This date is before 1900."
E_DATE_BEFORE_BIRTH = "This date is before the patient's date of birth."
E_DATE_AFTER_DEATH = "This date is after the patient's date of death."
E_PHONE = "Enter a valid phone number, with the country code if it is not local."
E_DEATH_DATE_REQUIRED = "Give the date of death for a deceased patient."
E_DEATH_DATE_UNEXPECTED = "A date of death is only recorded for a deceased patient."
E_GESTATION_DAYS_WITHOUT_WEEKS = "Give the weeks of gestation as well as the days."
E_SCORE_RANGE = "A {instrument} total score must be between {low} and {high}."
E_FINAL_NEEDS_OUTCOME = "Record the outcome before making the assessment final."
E_ASSESSMENT_PATIENT = "This assessment belongs to another patient."

DEFAULT_MRN_PATTERN = r"[A-Z0-9-]{4,20}"
MIN_DATE = date(1900, 1, 1)


def birth_range(label: str, low: int, high: int, unit: str) -> list:
    """Min and max validators whose messages say the unit: "Birth weight must be at
    most 6,500 g.", not "less than or equal to 6500". Plain Min/MaxValueValidators,
    so that imports keep their fast check of a whole column."""
    return [
        MinValueValidator(low, message=f"{label} must be at least {low:,} {unit}."),
        MaxValueValidator(high, message=f"{label} must be at most {high:,} {unit}."),
    ]


# Set while a bulk operation runs: its rows are checked against one "today".
_fixed_today: ContextVar[date | None] = ContextVar("fixed_today", default=None)


def today() -> date:
    return _fixed_today.get() or timezone.localdate()


@contextmanager
def today_fixed() -> Iterator[date]:
    """Within the block, today() is the date at its start.

    An import checks hundreds of thousands of dates; asking the time zone for the
    date each time cost more than the rest of a date cell's checks, and one date
    for a whole file is also the easier rule to explain.
    """
    token = _fixed_today.set(timezone.localdate())
    try:
        yield _fixed_today.get()
    finally:
        _fixed_today.reset(token)


def mrn_normalize(value: str) -> str:
    """MRNs are compared trimmed and upper-cased: ' nda-1234 ' is NDA-1234."""
    return (value or "").strip().upper()


def mrn_pattern() -> re.Pattern:
    """What an MRN looks like here (the PATIENT_MRN_PATTERN setting)."""
    return re.compile(getattr(settings, "PATIENT_MRN_PATTERN", DEFAULT_MRN_PATTERN))


def mrn_validate(value: str) -> None:
    if not mrn_pattern().fullmatch(value or ""):
        raise ValidationError(E_MRN_FORMAT, code="mrn_format")


def date_not_in_future(value: date) -> None:
    if value and value > today():
        raise ValidationError(E_DATE_FUTURE, code="future")


def date_not_before_1900(value: date) -> None:
    if value and value < MIN_DATE:
        raise ValidationError(E_DATE_BEFORE_1900, code="before_1900")


def date_not_before_birth(value: date | None, born: date | None) -> None:
    if value and born and value < born:
        raise ValidationError(E_DATE_BEFORE_BIRTH, code="before_birth")


def date_within_life(value: date | None, patient) -> None:
    """A clinical event happens between the patient's birth and death."""
    date_not_before_birth(value, patient.date_of_birth)
    if value and patient.date_of_death and value > patient.date_of_death:
        raise ValidationError(E_DATE_AFTER_DEATH, code="after_death")


def phone_normalize(value: str) -> str:
    """A phone number in E.164 form (+447700900123); '' stays ''."""
    value = (value or "").strip()
    if not value:
        return ""
    shortcut = phone_parse_e164(value)
    number = shortcut
    if number is None:
        region = getattr(settings, "PHONE_DEFAULT_REGION", "GB")
        try:
            number = phonenumbers.parse(value, region)
        except phonenumbers.NumberParseException:
            raise ValidationError(E_PHONE, code="phone") from None
    if not phone_is_valid(number):
        raise ValidationError(E_PHONE, code="phone")
    if shortcut is not None:
        return value  # already its E.164 form (the tests hold format_number to it)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# "+" and 3 to 17 ASCII digits, the first not 0: a calling code can be read off.
E164_SHAPE = re.compile(r"\+[1-9][0-9]{2,16}")


def phone_parse_e164(value: str) -> phonenumbers.PhoneNumber | None:
    """What phonenumbers.parse() makes of a number written in E.164 form (as NDAS
    stores and exports them), without the steps that form makes idle; None when
    the text is not in that form, or when one of those steps might not be idle
    (a national prefix after the calling code): then parse() it.

    parse() is the larger part of what a phone cell costs in an import; the tests
    hold this to parse()'s answer for every calling code.
    """
    if not E164_SHAPE.fullmatch(value):
        return None
    digits = value[1:]
    # The calling code: the shortest prefix that is one, as parse() reads it.
    for size in (1, 2, 3):
        code = int(digits[:size])
        if code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            break
    else:
        return None
    national = digits[size:]
    if not 2 <= len(national) <= 17:
        return None
    metadata = _metadata(code, phonenumbers.region_code_for_country_code(code))
    if metadata is None:
        return None
    prefix = metadata.national_prefix_for_parsing
    if prefix and _pattern(prefix).match(national):
        return None  # parse() may strip it: let it decide
    number = phonenumbers.PhoneNumber(country_code=code, national_number=int(national))
    if len(national) > 1 and national[0] == "0":
        number.italian_leading_zero = True
        zeros = 1
        while zeros < len(national) - 1 and national[zeros] == "0":
            zeros += 1
        if zeros != 1:
            number.number_of_leading_zeros = zeros
    return number


def phone_is_valid(number: phonenumbers.PhoneNumber) -> bool:
    """phonenumbers.is_valid_number, doing its work once, with fewer patterns.

    For a calling code shared by several regions (44: GB, GG, IM, JE), the library
    first finds the region by checking the number against each region's types,
    then checks the number against the region it found: the same check twice.
    Here the region that matches on its types is the answer, and a region's
    types are checked with one pattern (see _type_pattern). The tests hold it to
    the library's own answer on many numbers.
    """
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(number.country_code)
    if not regions:
        return False
    national = phonenumbers.national_significant_number(number)
    if len(regions) == 1:
        return _valid_for_region(number.country_code, regions[0], national)
    for region in regions:
        metadata = _metadata(number.country_code, region)
        if metadata is None:
            continue
        if metadata.leading_digits is not None:
            # A region known by its leading digits is the number's region.
            if _pattern(metadata.leading_digits).match(national):
                return _valid_for_region(number.country_code, region, national)
        elif _valid_for_region(number.country_code, region, national):
            return True
    return False


def _valid_for_region(country_code: int, region: str, national: str) -> bool:
    """phonenumbers.is_valid_number_for_region, for a region of the number's
    calling code: the national number fits the region's general description and
    the description of one of its types."""
    metadata = _metadata(country_code, region)
    if metadata is None:
        return False
    general = metadata.general_desc
    if not _fits(general, national):
        return False
    pattern = _type_pattern(country_code, region, len(national))
    return pattern is not None and pattern.fullmatch(national) is not None


def _fits(desc, national: str) -> bool:
    """The library's _is_number_matching_desc."""
    if desc is None or not desc.national_number_pattern:
        return False
    if desc.possible_length and len(national) not in desc.possible_length:
        return False
    return _pattern(desc.national_number_pattern).fullmatch(national) is not None


@functools.cache
def _metadata(country_code: int, region: str):
    """The library's metadata of a region (or of a non-geographic calling code),
    looked up once: a phone cell asks for it up to three times."""
    return phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code(
        country_code, region.upper()
    )


# The library's patterns, compiled once: re's own cache costs a lookup per call.
_pattern = functools.cache(re.compile)


@functools.cache
def _type_pattern(country_code: int, region: str, length: int) -> re.Pattern | None:
    """One pattern for every type a national number of this length may be in
    the region: a number is of some type (valid) when it matches.

    The library tries the types one by one, in the order that names the type;
    validity only asks whether one matches. Mobile counts only where its
    pattern differs from the fixed lines' (the library skips it otherwise)."""
    metadata = _metadata(country_code, region)
    kinds = [
        "premium_rate",
        "toll_free",
        "shared_cost",
        "voip",
        "personal_number",
        "pager",
        "uan",
        "voicemail",
        "fixed_line",
    ]
    if not metadata.same_mobile_and_fixed_line_pattern:
        kinds.append("mobile")
    patterns = []
    for kind in kinds:
        desc = getattr(metadata, kind)
        if desc is None or not desc.national_number_pattern:
            continue
        if desc.possible_length and length not in desc.possible_length:
            continue
        patterns.append(f"(?:{desc.national_number_pattern})")
    return re.compile("|".join(patterns)) if patterns else None


# Valid total-score ranges per instrument (inclusive). Instruments without a single
# total (a free "other") accept any score from 0 to 9999.
SCORE_RANGES: dict[str, tuple[Decimal, Decimal]] = {
    # Prechtl GMA: the Motor Optimality Score, revised (MOS-R).
    "prechtl_gma": (Decimal(5), Decimal(28)),
    "hine": (Decimal(0), Decimal(78)),
    # Bayley-4 composite scores.
    "bayley4": (Decimal(40), Decimal(160)),
    # ASQ-3: five domains of 0-60 points.
    "asq3": (Decimal(0), Decimal(300)),
    "mchat_rf": (Decimal(0), Decimal(20)),
    # Griffiths III General Development Quotient.
    "griffiths3": (Decimal(40), Decimal(160)),
    "other": (Decimal(0), Decimal(9999)),
}


def score_validate(*, instrument: str, score: Decimal | None, label: str) -> None:
    if score is None or instrument not in SCORE_RANGES:
        return
    low, high = SCORE_RANGES[instrument]
    if not low <= score <= high:
        raise ValidationError(
            E_SCORE_RANGE.format(instrument=label, low=low, high=high),
            code="score_range",
        )
