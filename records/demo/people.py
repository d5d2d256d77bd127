"""The demo's invented people: names, addresses, guardians and birth details, made up
from syllables and a seeded random generator (nothing drawn from lists of real names,
places or people)."""

import random
from datetime import date, timedelta
from typing import Any

from records.demo.constants import DEMO_MRN_PREFIX, DEMO_PHONE_PREFIX
from records.demo.draws import _weighted
from records.patients.models import GuardianRelationship, Sex

OLDEST_BIRTH = date(2014, 1, 1)
YOUNGEST_AGE_DAYS = 30

# --- Invented names -------------------------------------------------------------------

# fmt: off
GIVEN_STARTS = (
    "Tal", "Or", "Bry", "Cael", "Ys", "Fen", "Lor", "Sev", "Kae", "Nim", "Rho", "Ev",
    "Mav", "Quil", "Ser", "Ula", "Ien", "Wyn", "Jor", "Thes", "Ael", "Pav", "Zel",
    "Hesk", "Ilo", "Dov", "Aub", "Cer",
)
GIVEN_ENDS = (
    "vi", "rin", "wen", "lo", "dra", "sel", "mar", "nis", "ric", "wyn", "uin", "ka",
    "nor", "ys", "ame", "ette", "ard", "eth", "ion", "ai",
)
FAMILY_STARTS = (
    "Quen", "Vel", "Thal", "Brom", "Corv", "Dresk", "Ymb", "Fenn", "Ost", "Grav",
    "Mor", "Pell", "Wex", "Zan", "Tor", "Lisk", "Ard", "Kell", "Sorv", "Bax", "Hob",
    "Nyr", "Ulv", "Carr", "Drav", "Eskel",
)
FAMILY_ENDS = (
    "nard", "march", "thorn", "ridge", "vane", "mire", "stock", "wold", "garth",
    "combe", "lis", "ett", "oway", "ander", "hollin", "sey", "ick", "emar",
)
STREET_ENDS = ("Road", "Lane", "Close", "Gardens", "Way", "Crescent", "Row", "Walk")
CITIES = (
    "Marrowby", "Quellhaven", "Ostravale", "Thesselford", "Brennmouth", "Velcaster",
    "Orrisham", "Kestrowe",
)
# fmt: on
# Real UK postcodes never start with Q, V or X, so these only look like postcodes.
POSTCODE_AREAS = ("QX", "QV", "VX", "XQ", "VQ")
POSTCODE_INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"

RELATIONSHIPS = (
    (GuardianRelationship.MOTHER, 60),
    (GuardianRelationship.FATHER, 25),
    (GuardianRelationship.GRANDPARENT, 5),
    (GuardianRelationship.FOSTER_CARER, 4),
    (GuardianRelationship.LEGAL_GUARDIAN, 3),
    (GuardianRelationship.OTHER, 3),
)
SEXES = ((Sex.FEMALE, 48), (Sex.MALE, 50), (Sex.OTHER, 1), (Sex.UNKNOWN, 1))

# --- Birth ----------------------------------------------------------------------------

PRETERM_SHARE = 0.15
GESTATION_UNKNOWN_SHARE = 0.04
PRETERM_WEEKS = ((range(22, 28), 15), (range(28, 32), 20), (range(32, 37), 65))
TERM_WEEKS = ((37, 8), (38, 18), (39, 30), (40, 28), (41, 13), (42, 3))
# Rough median birth weight (g) by completed weeks; interpolated between points.
# fmt: off
BIRTH_WEIGHT_MEDIANS = (
    (22, 500), (24, 650), (26, 850), (28, 1100), (30, 1450), (32, 1800),
    (34, 2300), (36, 2800), (38, 3200), (40, 3500), (42, 3650),
)
# fmt: on


def _given_name(rng: random.Random) -> str:
    return rng.choice(GIVEN_STARTS) + rng.choice(GIVEN_ENDS)


def _family_name(rng: random.Random) -> str:
    return rng.choice(FAMILY_STARTS) + rng.choice(FAMILY_ENDS)


def _postcode(rng: random.Random) -> str:
    letters = POSTCODE_INWARD_LETTERS
    return (
        f"{rng.choice(POSTCODE_AREAS)}{rng.randint(1, 29)} "
        f"{rng.randint(0, 9)}{rng.choice(letters)}{rng.choice(letters)}"
    )


def _birth_weight(rng: random.Random, weeks: int, sex: str) -> int:
    median = BIRTH_WEIGHT_MEDIANS[-1][1]
    for (low_w, low_g), (high_w, high_g) in zip(
        BIRTH_WEIGHT_MEDIANS, BIRTH_WEIGHT_MEDIANS[1:]
    ):
        if low_w <= weeks <= high_w:
            median = low_g + (high_g - low_g) * (weeks - low_w) / (high_w - low_w)
            break
    if sex == Sex.MALE:
        median *= 1.03
    grams = round(median * rng.gauss(1, 0.12), -1)
    return int(min(6500, max(300, grams)))


class _People:
    """The chart builder's patient details (mixed into the chart builder)."""

    def patient_data(self, number: int) -> dict[str, Any]:
        rng = self.rng
        newest = self.today - timedelta(days=YOUNGEST_AGE_DAYS)
        oldest = (newest - OLDEST_BIRTH).days
        # Weighted towards infants and toddlers: most referrals come in the first years.
        low, high = _weighted(
            rng, (((0, 730), 50), ((730, 1826), 25), ((1826, oldest), 25))
        )
        date_of_birth = newest - timedelta(
            days=rng.randint(min(low, oldest), min(high, oldest))
        )
        sex = _weighted(rng, SEXES)
        weeks = days = grams = None
        if rng.random() >= GESTATION_UNKNOWN_SHARE:
            if rng.random() < PRETERM_SHARE:
                weeks = rng.choice(_weighted(rng, PRETERM_WEEKS))
            else:
                weeks = _weighted(rng, TERM_WEEKS)
            days = rng.randint(0, 6)
            grams = _birth_weight(rng, weeks, sex)
        given, family = _given_name(rng), _family_name(rng)
        guardian_given = _given_name(rng)
        guardian_family = family if rng.random() < 0.8 else _family_name(rng)
        return {
            "mrn": f"{DEMO_MRN_PREFIX}{number:05d}",
            "given_name": given,
            "family_name": family,
            "preferred_name": given[:3] if rng.random() < 0.1 else "",
            "date_of_birth": date_of_birth,
            "sex": sex,
            "gestational_age_weeks": weeks,
            "gestational_age_days": days,
            "birth_weight_grams": grams,
            "guardian_name": f"{guardian_given} {guardian_family}",
            "guardian_relationship": _weighted(rng, RELATIONSHIPS),
            "guardian_phone": f"{DEMO_PHONE_PREFIX}{rng.randint(0, 999):03d}",
            "guardian_email": (
                f"{guardian_given}.{guardian_family}{rng.randint(1, 99)}@example.org"
            ).lower(),
            "address_line1": (
                f"{rng.randint(1, 180)} {_family_name(rng)} {rng.choice(STREET_ENDS)}"
            ),
            "address_line2": (
                f"Flat {rng.randint(1, 24)}" if rng.random() < 0.15 else ""
            ),
            "city": rng.choice(CITIES),
            "postcode": _postcode(rng),
            **self.growth_series_birth(number),
        }
