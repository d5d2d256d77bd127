"""The demo's visits (clinical records): types, diagnoses, complaints and texts, and
the growth-series charts' visits."""

from datetime import date, timedelta

from records.clinical_records import services as visit_services
from records.clinical_records.models import VisitType
from records.demo.constants import DEMO_REASON
from records.demo.assessments import FINAL_SHARE
from records.demo.draws import _weighted, _weighted_sample
from records.demo.growth import _growth_value, _measure, _vitals
from records.patients.models import Patient

VISIT_COUNTS = ((0, 15), (1, 25), (2, 25), (3, 18), (4, 12), (5, 5))
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


def demo_diagnosis_codes() -> list[str]:
    """Every ICD-10 code the demo may write, for checking before anything is."""
    codes = [code for code, *_ in LONG_TERM_DIAGNOSES]
    codes += [code for pairs in COMPLAINTS.values() for _, code in pairs if code]
    return [*codes, EXTREMELY_PRETERM_CODE, PRETERM_CODE]


class _Visits:
    """A chart's lasting diagnoses and visits, growth series included (mixed into
    the chart builder)."""

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
