"""Synthetic demo charts for development machines: invented patients and their records.

Why one module past 500 lines: it is one job (the demo builder) whose move to
records/demo/, split by what it builds, is part of the restructure (issue #14).

Everything here is made up from syllables and a seeded random generator; nothing is
drawn from lists of real names, places or people. Rows are written through the domain
services, so each one has the history a real chart would have.
"""

import contextlib
import io
import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import Storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from records.clinical_records import services as visit_services
from records.clinical_records.models import VisitType
from records.clinical_records.validators import VITAL_RANGES, icd10_validate
from records.patients import services as patient_services
from records.patients.demo_worklist import demo_worklist_add
from records.patients.models import (
    Assessment,
    GuardianRelationship,
    Instrument,
    Outcome,
    Patient,
    PatientStatus,
    Sex,
)
from records.patients.validators import today as clinic_today
from records.users import roles
from records.users.demo import DEMO_ACCOUNTS
from records.users.models import CareTeam, User
from records.users.services import care_team_create, care_team_set_members

E_NOT_DEBUG = "Demo charts are only created with DEBUG on; this looks like production."

DEMO_MRN_PREFIX = "DEMO-"
DEMO_REASON = "Demo data"
DEMO_TEAMS = ("Neonatal follow-up", "Autism assessment", "General paediatrics")
DEMO_SEED = 20261126
DEMO_COUNT = 300
DEMO_MEDIA_DIR = Path(settings.BASE_DIR) / "fixtures" / "demo_media"

# Assessors and clinicians are the demo accounts of these roles, looked up by username;
# where an account is missing, the acting user stands in for it.
CLINICIAN_USERNAME = next(u for u, role in DEMO_ACCOUNTS if role == roles.CLINICIAN)
ADMIN_USERNAME = next(u for u, role in DEMO_ACCOUNTS if role == roles.ADMINISTRATOR)

# Ofcom keeps 020 7946 0000-0999 for drama. Its mobile drama range, 07700 900xxx, would
# be the natural choice, but libphonenumber (so PhoneNumberField) refuses it as invalid.
DEMO_PHONE_PREFIX = "+442079460"

OLDEST_BIRTH = date(2014, 1, 1)
YOUNGEST_AGE_DAYS = 30
DAYS_PER_MONTH = 365.25 / 12

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

# --- Growth series --------------------------------------------------------------------

# A few charts (by number, all in the demo clinician's teams) follow a growth series
# drawn from the reference itself (rcpchgrowth's measurement for an SDS at the
# child's corrected age) rather than the rough vitals: (sex, weeks+days, birth
# weight g, age in days today, growth reference, visit ages in days, SDS of weight,
# height and head circumference at each visit).
# fmt: off
GROWTH_SERIES: dict[int, dict[str, Any]] = {
    # A 29+3-week girl: on her centiles once corrected for gestation.
    1: {"sex": Sex.FEMALE, "gestation": (29, 3), "grams": 1250, "age": 610,
        "reference": "uk-who",
        "visits": (14, 60, 110, 170, 240, 320, 400, 480, 560),
        "sds": ((-0.6, -0.8, -0.3),) * 9},
    # A term boy whose weight falls through the centiles in his second year.
    3: {"sex": Sex.MALE, "gestation": (40, 0), "grams": 3500, "age": 1150,
        "reference": "uk-who",
        "visits": (20, 120, 250, 370, 480, 600, 760, 920, 1100),
        "sds": ((0.6, 0.3, 0.2), (0.6, 0.3, 0.2), (0.5, 0.3, 0.2), (0.4, 0.3, 0.2),
                (-0.2, 0.2, 0.2), (-1.9, 0.0, 0.1), (-2.0, -0.1, 0.1),
                (-1.9, -0.2, 0.1), (-1.8, -0.2, 0.1))},
    # A girl with Down syndrome, measured against the Trisomy 21 charts.
    4: {"sex": Sex.FEMALE, "gestation": (38, 2), "grams": 3000, "age": 1500,
        "reference": "trisomy-21",
        "visits": (30, 180, 365, 550, 730, 1000, 1250, 1480),
        "sds": ((0.1, -0.2, 0.0),) * 8},
}
# fmt: on


def _growth_value(spec: dict, method: str, sds: float, born: date, on: date):
    """The reference's measurement at `sds` for the child's corrected age."""
    from rcpchgrowth.date_calculations import corrected_decimal_age
    from rcpchgrowth.global_functions import measurement_from_sds

    weeks, days = spec["gestation"]
    age = corrected_decimal_age(
        birth_date=born, observation_date=on, gestation_weeks=weeks, gestation_days=days
    )
    return measurement_from_sds(
        reference=spec["reference"],
        requested_sds=sds,
        measurement_method=method,
        sex=str(spec["sex"]),
        age=age,
    )


# --- Assessments ----------------------------------------------------------------------

ASSESSMENT_COUNTS = ((0, 20), (1, 35), (2, 28), (3, 14), (4, 3))
VISIT_COUNTS = ((0, 15), (1, 25), (2, 25), (3, 18), (4, 12), (5, 5))
FINAL_SHARE = 2 / 3
ASSESSMENT_MAX_AGE_DAYS = 6 * 365
# (instrument, youngest, oldest age in days at which it is used, weight)
INSTRUMENT_AGES = (
    (Instrument.PRECHTL_GMA, 0, 140, 3),
    (Instrument.HINE, 60, 730, 3),
    (Instrument.BAYLEY4, 16, 1277, 3),
    (Instrument.ASQ3, 30, 2007, 3),
    (Instrument.MCHAT_RF, 480, 913, 3),
    (Instrument.GRIFFITHS3, 0, 2190, 2),
)
OTHER_INSTRUMENT_SHARE = 0.05
OUTCOMES = (
    (Outcome.TYPICAL, 60),
    (Outcome.BORDERLINE, 22),
    (Outcome.ATYPICAL, 13),
    (Outcome.NOT_CLASSIFIABLE, 5),
)
# (typical, borderline, atypical) total score bands; each lies within SCORE_RANGES.
SCORE_BANDS: dict[str, tuple[tuple[int, int], ...]] = {
    Instrument.PRECHTL_GMA: ((25, 28), (20, 24), (5, 19)),
    Instrument.HINE: ((67, 78), (57, 66), (20, 56)),
    Instrument.BAYLEY4: ((90, 130), (70, 89), (40, 69)),
    Instrument.ASQ3: ((220, 300), (160, 219), (40, 159)),
    Instrument.MCHAT_RF: ((0, 2), (3, 7), (8, 20)),
    Instrument.GRIFFITHS3: ((90, 130), (70, 89), (40, 69)),
}
BANDED_OUTCOMES = (Outcome.TYPICAL, Outcome.BORDERLINE, Outcome.ATYPICAL)

FINDINGS = {
    Outcome.TYPICAL: (
        "Skills within the expected range in every domain assessed.",
        "Age-adequate motor repertoire; engaged and cooperative throughout.",
        "Steady progress since the last review; no new concerns.",
    ),
    Outcome.BORDERLINE: (
        "Mild delay in expressive language; other domains within range.",
        "Some asymmetry of posture, not consistent across the session.",
        "Fine motor skills slightly behind; gross motor within range.",
    ),
    Outcome.ATYPICAL: (
        "Marked delay in gross motor skills with increased lower-limb tone.",
        "Limited joint attention and few communicative gestures.",
        "Reduced variety of movement; findings discussed with the family.",
    ),
    Outcome.NOT_CLASSIFIABLE: (
        "Child unsettled for most of the session; assessment incomplete.",
        "Recording too short to classify.",
    ),
}
RECOMMENDATIONS = {
    Outcome.TYPICAL: ("Routine surveillance.", "Review at the next scheduled visit."),
    Outcome.BORDERLINE: (
        "Repeat the assessment in three months.",
        "Home activity programme; review in clinic.",
    ),
    Outcome.ATYPICAL: (
        "Refer to physiotherapy and early intervention.",
        "Refer to speech and language therapy; repeat assessment in six months.",
    ),
    Outcome.NOT_CLASSIFIABLE: ("Repeat the assessment within four weeks.",),
}

# --- Visits ---------------------------------------------------------------------------

VISIT_TYPES = (
    (VisitType.FOLLOW_UP, 70),
    (VisitType.URGENT, 15),
    (VisitType.TELEHEALTH, 15),
)
# (ICD-10 code, youngest age in days at which it is given, weight); checked with
# icd10_validate before anything is written.
LONG_TERM_DIAGNOSES = (
    ("F84.0", 540, 10),
    ("F80.1", 730, 10),
    ("F80.2", 730, 4),
    ("F82", 365, 10),
    ("F90.0", 1460, 6),
    ("G80.1", 365, 5),
    ("R62.0", 180, 14),
    ("Q90.9", 0, 2),
    ("E66.9", 730, 3),
    ("J45.9", 730, 4),
    ("R63.3", 0, 4),
    ("H90.3", 0, 1),
)
DIAGNOSIS_COUNTS = ((0, 35), (1, 45), (2, 20))
EXTREMELY_PRETERM_CODE = "P07.2"  # before 28 weeks
PRETERM_CODE = "P07.3"  # 28 to 36 weeks
PRETERM_CODE_UNTIL_DAYS = 730
COMPLAINTS = {
    VisitType.NEW: (
        ("Referral for developmental assessment", None),
        ("Concern about late walking", None),
        ("Concern about speech and language", None),
        ("Review after discharge from the neonatal unit", None),
        ("Concern about social communication", None),
    ),
    VisitType.FOLLOW_UP: (
        ("Routine developmental review", None),
        ("Review of motor progress", None),
        ("Review after a block of therapy", None),
        ("Growth and feeding review", None),
    ),
    VisitType.URGENT: (
        ("Fever and irritability", "R50.9"),
        ("Ear pain and fever", "H66.9"),
        ("Cough and runny nose", "J06.9"),
        ("Brief episode of stiffening, recovered fully", "R56.8"),
    ),
    VisitType.TELEHEALTH: (
        ("Telephone review with the family", None),
        ("Video review of the home programme", None),
    ),
}
HISTORIES = (
    "Family report steady progress with the home programme.",
    "Sleeping and feeding well; no intercurrent illness.",
    "New words and gestures since the last visit, per the family.",
    "Nursery staff raised concerns about play and attention.",
    "Unwell for two days; fluids taken, wet nappies normal.",
)
EXAMINATIONS = (
    "Alert and interactive. Tone symmetrical; reflexes normal.",
    "Well, playful. Mild increase in tone at both ankles.",
    "Chest clear, ears normal, no rash. Moving all limbs well.",
    "Growth along the centiles. No dysmorphic features.",
)
PLANS = (
    "Continue the current programme; review in clinic.",
    "Refer for hearing assessment; review with the result.",
    "Safety-netting advice given; return if worse.",
    "Discuss at the multidisciplinary meeting.",
)
FOLLOW_UP_SHARE = 0.6

# --- Media ----------------------------------------------------------------------------

MEDIA_SHARE = 0.1
# (fixture file, neutral upload name, description, share attached to an assessment)
MEDIA_FILES = (
    ("sample.webm", "gm-recording.webm", "General movements recording", 1.0),
    ("sample.png", "growth-chart.png", "Growth chart", 0.3),
    ("sample.pdf", "referral-letter.pdf", "Referral letter", 0.0),
)


@dataclass(frozen=True)
class DemoChartsResult:
    """How many rows one call created; all zero when demo charts already existed."""

    patients: int = 0
    assessments: int = 0
    visits: int = 0
    media: int = 0


def demo_charts_ensure(
    *,
    acting_user: User,
    count: int = DEMO_COUNT,
    seed: int = DEMO_SEED,
    today: date | None = None,
) -> DemoChartsResult:
    """Create `count` synthetic charts unless demo charts (MRN DEMO-...) exist already.

    The same seed, count and `today` (default: the clinic's date) give the same data.
    Assessors and clinicians are the demo "clinician" and "admin" accounts, or the
    acting user where those do not exist. Refused with DEBUG off.
    """
    if not settings.DEBUG:
        raise ImproperlyConfigured(E_NOT_DEBUG)
    if Patient.objects.filter(mrn__startswith=DEMO_MRN_PREFIX).exists():
        return DemoChartsResult()
    builder = _ChartBuilder(
        rng=random.Random(seed),
        acting_user=acting_user,
        today=today or clinic_today(),
    )
    try:
        with transaction.atomic():
            result = builder.build(count)
            # The demo clinician's worklist shows each of its parts.
            added = demo_worklist_add(
                acting_user=acting_user,
                clinician=builder.clinician,
                today=builder.today,
                prefix=DEMO_MRN_PREFIX,
                reason=DEMO_REASON,
            )
            return replace(result, visits=result.visits + added)
    except BaseException:
        # The rollback removes the rows; the stored files would be left unreferenced.
        for storage, name in builder.stored:
            storage.delete(name)
        raise


def demo_diagnosis_codes() -> list[str]:
    """Every ICD-10 code the demo may write, for checking before anything is."""
    codes = [code for code, *_ in LONG_TERM_DIAGNOSES]
    codes += [code for pairs in COMPLAINTS.values() for _, code in pairs if code]
    return [*codes, EXTREMELY_PRETERM_CODE, PRETERM_CODE]


def _weighted(rng: random.Random, pairs: Sequence[tuple[Any, int]]) -> Any:
    values, weights = zip(*pairs)
    return rng.choices(values, weights=weights)[0]


def _weighted_sample(
    rng: random.Random, pairs: Sequence[tuple[Any, int]], k: int
) -> list[Any]:
    """Up to k distinct values, each drawn by weight from those not yet drawn."""
    remaining, chosen = list(pairs), []
    while remaining and len(chosen) < k:
        value = _weighted(rng, remaining)
        chosen.append(value)
        remaining = [pair for pair in remaining if pair[0] != value]
    return chosen


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


def _months(days: int) -> float:
    return days / DAYS_PER_MONTH


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


def _measure(field: str, value: float, step: str) -> Decimal:
    """A measurement rounded to `step`, kept within the field's accepted range (the
    smallest preterm babies would otherwise fall just below it)."""
    _, low, high, _ = VITAL_RANGES[field]
    return min(high, max(low, Decimal(str(value)).quantize(Decimal(step))))


def _reference_value(patient: Patient, method: str, sds: float, on: date):
    """The growth reference's measurement at `sds` for the child at `on`, or None
    where no reference covers them (sex unknown, before 23 weeks, past 20 years)."""
    if patient.sex not in (Sex.MALE, Sex.FEMALE):
        return None
    spec = {
        "sex": patient.sex,
        "gestation": (
            patient.gestational_age_weeks or 40,
            patient.gestational_age_days or 0,
        ),
        "reference": patient.growth_reference,
    }
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # it prints its refusals
            return _growth_value(spec, method, sds, patient.date_of_birth, on)
    except Exception:  # no reference data at that age
        return None


def _vitals(
    rng: random.Random,
    *,
    patient: Patient,
    age_days: int,
    febrile: bool,
    sds: tuple[float, float, float] | None = None,
) -> dict[str, Any]:
    """Measurements that grow with the child; preterm children by corrected age."""
    weeks = patient.gestational_age_weeks or 40
    birth_kg = (patient.birth_weight_grams or 3400) / 1000
    months = max(0.0, _months(age_days) - max(0, 40 - weeks) / 4.35)
    years = months / 12
    if months < 4:
        weight = birth_kg + 0.75 * months
    elif months < 12:
        weight = birth_kg + 3 + 0.45 * (months - 4)
    elif months < 24:
        weight = birth_kg + 6.6 + 0.2 * (months - 12)
    else:
        weight = max(birth_kg + 9, 2 * years + 8)
    birth_cm = 50 - 1.5 * max(0, 40 - weeks)
    birth_head = 35 - 0.8 * max(0, 40 - weeks)
    if months < 12:
        height = birth_cm + (75 - birth_cm) * months / 12
        head = birth_head + (46 - birth_head) * months / 12
    elif months < 24:
        height, head = 75 + (months - 12), 46 + 2 * (months - 12) / 12
    else:
        height, head = 87 + 6 * (years - 2), min(54, 48 + 0.4 * (years - 2))
    by_age = 0 if months < 12 else 1 if months < 36 else 2 if months < 72 else 3
    heart = ((110, 160), (95, 140), (80, 120), (70, 110))[by_age]
    breaths = ((30, 50), (24, 40), (20, 30), (16, 24))[by_age]
    temperature = rng.uniform(37.8, 39.4) if febrile else rng.uniform(36.4, 37.4)
    weight *= rng.gauss(1, 0.07)
    height *= rng.gauss(1, 0.025)
    head *= rng.gauss(1, 0.02)
    # Where the growth reference covers the child, the measurement at the child's
    # own SDS (and a little noise): the rough curves above are implausible for the
    # smallest babies, and rcpchgrowth refuses what is beyond 8 SD.
    on = patient.date_of_birth + timedelta(days=age_days)
    own = sds or (0.0, 0.0, 0.0)
    weight, height, head = (
        _reference_value(patient, method, own[i] + rng.gauss(0, 0.15), on) or rough
        for i, (method, rough) in enumerate(
            (("weight", weight), ("height", height), ("ofc", head))
        )
    )
    return {
        "weight_kg": _measure("weight_kg", weight, "0.01"),
        "height_cm": _measure("height_cm", height, "0.1"),
        "head_circumference_cm": (
            _measure("head_circumference_cm", head, "0.1") if months < 60 else None
        ),
        "temperature_c": _measure("temperature_c", temperature, "0.1"),
        "heart_rate": rng.randint(*heart) + (15 if febrile else 0),
        "respiratory_rate": rng.randint(*breaths),
        "spo2": rng.choice((96, 97, 98, 98, 99, 99, 100)),
    }


class _ChartBuilder:
    """Draws every value from one generator, in a fixed order, and writes as it goes."""

    def __init__(self, *, rng: random.Random, acting_user: User, today: date):
        self.rng = rng
        self.acting_user = acting_user
        self.today = today
        self.stored: list[tuple[Storage, str]] = []
        found = {
            user.username: user
            for user in User.objects.filter(
                username__in=(CLINICIAN_USERNAME, ADMIN_USERNAME)
            )
        }
        self.clinician = found.get(CLINICIAN_USERNAME, acting_user)
        self.admin = found.get(ADMIN_USERNAME, acting_user)
        self.media_bytes = {
            fixture: (DEMO_MEDIA_DIR / fixture).read_bytes()
            for fixture, *_ in MEDIA_FILES
        }
        self.assessments = self.visits = self.media = 0
        self.teams = self.care_teams()

    def care_teams(self) -> list[CareTeam]:
        """The demo's care teams; the demo clinician belongs to all but the last,
        so that signing in as them shows access at work."""
        teams = []
        for name in DEMO_TEAMS:
            team = CareTeam.objects.filter(name=name).first()
            if team is None:
                team = care_team_create(acting_user=self.admin, name=name)
            teams.append(team)
        for team in teams[:-1]:
            members = list(team.group.user_set.all())
            if self.clinician not in members:
                care_team_set_members(
                    acting_user=self.admin,
                    team=team,
                    members=[*members, self.clinician],
                    reason=DEMO_REASON,
                )
        return teams

    def build(self, count: int) -> DemoChartsResult:
        for code in demo_diagnosis_codes():
            icd10_validate(code)
        rng = self.rng
        deceased = 0 if count < 10 else 1 if count < 150 else 2
        archived = 0 if count < 10 else max(1, round(count * 0.02))
        special = rng.sample(range(count), deceased + archived)
        ends_deceased = set(special[:deceased])
        ends_archived = set(special[deceased:])
        # Sampled rather than rolled per chart, so that a dozen charts include some.
        with_media = set(rng.sample(range(count), round(count * MEDIA_SHARE)))
        for index in range(count):
            self.chart(
                number=index + 1,
                deceased=index in ends_deceased,
                archived=index in ends_archived,
                with_media=index in with_media,
            )
        return DemoChartsResult(
            patients=count,
            assessments=self.assessments,
            visits=self.visits,
            media=self.media,
        )

    def staff(self) -> User:
        return self.clinician if self.rng.random() < 0.8 else self.admin

    def chart(
        self, *, number: int, deceased: bool, archived: bool, with_media: bool
    ) -> None:
        rng = self.rng
        patient = patient_services.patient_create(
            acting_user=self.acting_user,
            data=self.patient_data(number),
            # By number, not drawn: the other values stay as they were without teams.
            care_teams=[self.teams[number % len(self.teams)]],
            reason=DEMO_REASON,
        )
        span = (self.today - patient.date_of_birth).days
        death = None
        if deceased:
            death = patient.date_of_birth + timedelta(
                days=rng.randint(min(YOUNGEST_AGE_DAYS, span), span)
            )
        end = death or self.today
        lived = (end - patient.date_of_birth).days
        count = _weighted(rng, ASSESSMENT_COUNTS)
        if with_media:
            # Media come from assessments: a chart with uploads has at least one.
            count = max(1, count)
        ages = sorted(
            rng.randint(min(7, lived), min(lived, ASSESSMENT_MAX_AGE_DAYS))
            for _ in range(count)
        )
        assessments = [self.assessment(patient, age) for age in ages]
        if number in GROWTH_SERIES:
            self.growth_series_visits(patient, GROWTH_SERIES[number], end)
        else:
            self.chart_visits(patient, end)
        if with_media:
            self.chart_media(patient, assessments)
        if death:
            patient_services.patient_update(
                acting_user=self.acting_user,
                patient=patient,
                data={"status": PatientStatus.DECEASED, "date_of_death": death},
                reason=f"{DEMO_REASON}: date of death recorded",
            )
        elif archived:
            patient_services.patient_archive(
                acting_user=self.acting_user,
                patient=patient,
                reason=f"{DEMO_REASON}: discharged from follow-up",
            )

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

    def growth_series_birth(self, number: int) -> dict[str, Any]:
        """A growth-series chart's own birth details (drawn ones for the others)."""
        spec = GROWTH_SERIES.get(number)
        if spec is None:
            return {}
        weeks, days = spec["gestation"]
        return {
            "date_of_birth": self.today - timedelta(days=spec["age"]),
            "sex": spec["sex"],
            "gestational_age_weeks": weeks,
            "gestational_age_days": days,
            "birth_weight_grams": spec["grams"],
            "growth_reference": spec["reference"],
        }

    def assessment(self, patient: Patient, age: int) -> Assessment:
        """One assessment at `age` days, with an instrument used at that age."""
        rng = self.rng
        eligible = [
            (instrument, weight)
            for instrument, youngest, oldest, weight in INSTRUMENT_AGES
            if youngest <= age <= oldest
        ]
        if not eligible or rng.random() < OTHER_INSTRUMENT_SHARE:
            instrument = Instrument.OTHER
        else:
            instrument = _weighted(rng, eligible)
        outcome = _weighted(rng, OUTCOMES)
        score = None
        if instrument in SCORE_BANDS and outcome in BANDED_OUTCOMES:
            band = SCORE_BANDS[instrument][BANDED_OUTCOMES.index(outcome)]
            score = Decimal(rng.randint(*band))
        final = rng.random() < FINAL_SHARE
        if not final and rng.random() < 0.4:
            # A draft written up during the session: the outcome is still to come.
            outcome, score = "", score if rng.random() < 0.5 else None
        findings = rng.choice(FINDINGS[outcome]) if outcome else ""
        recommendations = rng.choice(RECOMMENDATIONS[outcome]) if outcome else ""
        assessment = patient_services.assessment_create(
            acting_user=self.acting_user,
            data={
                "patient": patient,
                "instrument": instrument,
                "performed_on": patient.date_of_birth + timedelta(days=age),
                "assessor": self.staff(),
                "total_score": score,
                "outcome": outcome,
                "findings": findings,
                "recommendations": recommendations,
            },
            reason=DEMO_REASON,
        )
        self.assessments += 1
        if final:
            patient_services.assessment_finalize(
                acting_user=self.acting_user, assessment=assessment
            )
        return assessment

    def long_term_codes(self, patient: Patient, end: date) -> list[tuple[str, int]]:
        """Lasting diagnoses of the chart, with the age from which visits list each."""
        rng = self.rng
        age_at_end = (end - patient.date_of_birth).days
        eligible = [
            ((code, youngest), weight)
            for code, youngest, weight in LONG_TERM_DIAGNOSES
            if youngest <= age_at_end
        ]
        codes = _weighted_sample(rng, eligible, _weighted(rng, DIAGNOSIS_COUNTS))
        weeks = patient.gestational_age_weeks
        if weeks is not None and weeks < 37:
            code = EXTREMELY_PRETERM_CODE if weeks < 28 else PRETERM_CODE
            codes.insert(0, (code, 0))
        return codes

    def growth_series_visits(self, patient: Patient, spec: dict, end: date) -> None:
        """Visits measuring the child along a series of SDS (see GROWTH_SERIES)."""
        rng = self.rng
        born = patient.date_of_birth
        for position, (age, sds) in enumerate(zip(spec["visits"], spec["sds"])):
            visit_date = born + timedelta(days=age)
            if visit_date > end:
                break
            values = {}
            for (field, step), method, value_sds in zip(
                (
                    ("weight_kg", "0.01"),
                    ("height_cm", "0.1"),
                    ("head_circumference_cm", "0.1"),
                ),
                ("weight", "height", "ofc"),
                sds,
            ):
                value = _growth_value(
                    spec, method, value_sds + rng.gauss(0, 0.08), born, visit_date
                )
                if value is not None and (method != "ofc" or age < 5 * 365):
                    values[field] = _measure(field, value, step)
            visit_services.clinical_record_create(
                acting_user=self.acting_user,
                data={
                    "patient": patient,
                    "visit_date": visit_date,
                    "visit_type": (
                        VisitType.NEW if position == 0 else VisitType.FOLLOW_UP
                    ),
                    "clinician": self.staff(),
                    "chief_complaint": "Growth and development review",
                    "examination": rng.choice(EXAMINATIONS),
                    **values,
                    "assessment_and_plan": rng.choice(PLANS),
                },
                reason=DEMO_REASON,
            )
            self.visits += 1

    def chart_visits(self, patient: Patient, end: date) -> None:
        rng = self.rng
        visits = _weighted(rng, VISIT_COUNTS)
        if not visits:
            return
        codes = self.long_term_codes(patient, end)
        # Where the child sits on the growth charts: weight, height, head.
        own_sds = (rng.gauss(0, 0.8), rng.gauss(0, 0.8), rng.gauss(0, 0.8))
        span = (end - patient.date_of_birth).days
        for position, age in enumerate(
            sorted(rng.randint(0, span) for _ in range(visits))
        ):
            visit_type = VisitType.NEW if position == 0 else _weighted(rng, VISIT_TYPES)
            complaint, acute_code = rng.choice(COMPLAINTS[visit_type])
            diagnoses = [
                code
                for code, youngest in codes
                if youngest <= age
                and not (code.startswith("P07") and age > PRETERM_CODE_UNTIL_DAYS)
            ]
            if acute_code and acute_code not in diagnoses:
                diagnoses.append(acute_code)
            visit_date = patient.date_of_birth + timedelta(days=age)
            vitals = {}
            if visit_type != VisitType.TELEHEALTH:
                vitals = _vitals(
                    rng,
                    patient=patient,
                    age_days=age,
                    febrile=acute_code in ("R50.9", "H66.9"),
                    sds=own_sds,
                )
            follow_up = None
            if rng.random() < FOLLOW_UP_SHARE:
                follow_up = visit_date + timedelta(weeks=rng.randint(4, 26))
            record = visit_services.clinical_record_create(
                acting_user=self.acting_user,
                data={
                    "patient": patient,
                    "visit_date": visit_date,
                    "visit_type": visit_type,
                    "clinician": self.staff(),
                    "chief_complaint": complaint,
                    "clinical_history": rng.choice(HISTORIES),
                    "examination": rng.choice(EXAMINATIONS),
                    **vitals,
                    "diagnoses": diagnoses,
                    "assessment_and_plan": rng.choice(PLANS),
                    "follow_up_date": follow_up,
                },
                reason=DEMO_REASON,
            )
            self.visits += 1
            if rng.random() < FINAL_SHARE:
                visit_services.clinical_record_finalize(
                    acting_user=self.acting_user, record=record
                )

    def chart_media(self, patient: Patient, assessments: list[Assessment]) -> None:
        rng = self.rng
        for fixture, name, description, attach_share in rng.sample(
            MEDIA_FILES, rng.choice((1, 1, 2))
        ):
            assessment = None
            if assessments and rng.random() < attach_share:
                # A recording belongs with the general movements assessment, if any.
                gma = [a for a in assessments if a.instrument == Instrument.PRECHTL_GMA]
                assessment = rng.choice(gma or assessments)
            media = patient_services.media_upload(
                acting_user=self.acting_user,
                patient=patient,
                uploaded_file=SimpleUploadedFile(name, self.media_bytes[fixture]),
                assessment=assessment,
                description=description,
            )
            self.stored.append((media.file.storage, media.file.name))
            self.media += 1
