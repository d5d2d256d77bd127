"""The demo's assessments: instruments by age, outcomes, scores and their texts."""

from datetime import timedelta
from decimal import Decimal

from records.demo.constants import DEMO_REASON
from records.demo.draws import _weighted
from records.patients import services as patient_services
from records.patients.models import Assessment, Instrument, Outcome, Patient

ASSESSMENT_COUNTS = ((0, 20), (1, 35), (2, 28), (3, 14), (4, 3))
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


class _Assessments:
    """One assessment of a chart (mixed into the chart builder)."""

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
