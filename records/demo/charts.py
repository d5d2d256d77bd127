"""Synthetic demo charts for development machines: invented patients and their records.

The chart builder draws every value from one seeded generator, in a fixed order; what
it builds is in the modules beside this one (people, growth, assessments, visits,
media, worklist). Everything is made up from syllables and that generator; nothing is
drawn from lists of real names, places or people. Rows are written through the domain
services, so each one has the history a real chart would have.
"""

import random
from dataclasses import dataclass, replace
from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import Storage
from django.db import transaction

from records.clinical_records.validators import icd10_validate
from records.demo.accounts import DEMO_ACCOUNTS
from records.demo.assessments import (
    ASSESSMENT_MAX_AGE_DAYS,
    ASSESSMENT_COUNTS,
    _Assessments,
)
from records.demo.constants import (
    DEMO_COUNT,
    DEMO_MEDIA_DIR,
    DEMO_MRN_PREFIX,
    DEMO_REASON,
    DEMO_SEED,
    DEMO_TEAMS,
    E_NOT_DEBUG,
)
from records.demo.draws import _weighted
from records.demo.growth import GROWTH_SERIES, _GrowthSeries
from records.demo.media import MEDIA_FILES, MEDIA_SHARE, _Media
from records.demo.people import YOUNGEST_AGE_DAYS, _People
from records.demo.visits import _Visits, demo_diagnosis_codes
from records.demo.worklist import demo_worklist_add
from records.patients import services as patient_services
from records.patients.models import Patient, PatientStatus
from records.patients.validators import today as clinic_today
from records.users import roles
from records.users.models import CareTeam, User
from records.users.services import care_team_create, care_team_set_members

# Assessors and clinicians are the demo accounts of these roles, looked up by username;
# where an account is missing, the acting user stands in for it.
CLINICIAN_USERNAME = next(u for u, role in DEMO_ACCOUNTS if role == roles.CLINICIAN)
ADMIN_USERNAME = next(u for u, role in DEMO_ACCOUNTS if role == roles.ADMINISTRATOR)


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


class _ChartBuilder(_People, _GrowthSeries, _Assessments, _Visits, _Media):
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
