"""The clinician's worklist: their drafts, follow-ups due and overdue, charts opened
lately, emergency access held and growth alerts, only ever on charts they may open."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone
from rcpchgrowth.date_calculations import corrected_decimal_age
from rcpchgrowth.global_functions import measurement_from_sds

from records.audit.models import Action
from records.audit.services import audit_record
from records.charts import worklist
from records.patients.services import access
from records.users import roles
from tests import factories

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


def weight_at(patient, on, sds: float) -> Decimal:
    """The weight at `sds` for the child at `on` (UK-WHO), to 10 g."""
    age = corrected_decimal_age(
        birth_date=patient.date_of_birth,
        observation_date=on,
        gestation_weeks=40,
        gestation_days=0,
    )
    value = measurement_from_sds(
        reference="uk-who",
        requested_sds=sds,
        measurement_method="weight",
        sex=patient.sex,
        age=age,
    )
    return Decimal(str(value)).quantize(Decimal("0.01"))


def faltering(*, acting_user, patient, clinician, recent_days=5):
    """Two visits: on the 50th centile, then two centile spaces and more below."""
    for days, sds in ((80, 0.0), (recent_days, -1.6)):
        on = TODAY - timedelta(days=days)
        factories.visit(
            acting_user=acting_user,
            patient=patient,
            clinician=clinician,
            visit_date=on,
            weight_kg=weight_at(patient, on, sds),
        )


@pytest.fixture
def world(make_user):
    """`me` in the team "Ours"; `boss` (an administrator) records on a chart of
    the team "Theirs" as if by me: none of it may reach my worklist."""
    me = make_user("me", roles=[roles.CLINICIAN], first_name="Mia", last_name="Ek")
    boss = make_user("boss", roles=[roles.ADMINISTRATOR])
    ours = factories.team("Ours", me)
    theirs = factories.team("Theirs")
    mine = factories.patient(acting_user=boss, care_teams=[ours])
    other = factories.patient(acting_user=boss, care_teams=[theirs])
    return me, boss, mine, other


def test_drafts_are_mine_on_charts_i_may_open(world):
    me, boss, mine, other = world
    draft = factories.visit(acting_user=me, patient=mine, clinician=me)
    assessment = factories.assessment(acting_user=me, patient=mine, assessor=me)
    factories.visit(acting_user=boss, patient=mine, clinician=boss)  # not mine
    factories.visit(acting_user=boss, patient=other, clinician=me)  # not my chart
    drafts = worklist.drafts_awaiting_sign_off(me)
    assert {d.record.pk for d in drafts.rows} == {draft.pk, assessment.pk}
    assert {d.patient.pk for d in drafts.rows} == {mine.pk}
    assert not drafts.more


def test_drafts_bounded_with_more(world):
    me, _, mine, _ = world
    for _ in range(worklist.LIST_SIZE + 1):
        factories.visit(acting_user=me, patient=mine, clinician=me)
    drafts = worklist.drafts_awaiting_sign_off(me)
    assert len(drafts.rows) == worklist.LIST_SIZE and drafts.more
    dates = [d.on for d in drafts.rows]
    assert dates == sorted(dates, reverse=True)


def test_follow_ups_due_and_overdue_not_met_nor_outside(world):
    me, boss, mine, other = world
    second = factories.patient(acting_user=boss, care_teams=[mine_team(me)])

    def visit(patient, days_ago, follow_up_in, clinician=me, user=me):
        return factories.visit(
            acting_user=user,
            patient=patient,
            clinician=clinician,
            visit_date=TODAY - timedelta(days=days_ago),
            follow_up_date=TODAY + timedelta(days=follow_up_in),
        )

    due = visit(mine, 30, 7)
    overdue = visit(second, 60, -10)
    visit(mine, 40, worklist.FOLLOW_UP_DUE_DAYS + 5)  # too far ahead
    visit(second, 200, -(worklist.FOLLOW_UP_OVERDUE_DAYS + 5))  # too long ago
    met = visit(second, 100, -70)  # the visit 60 days ago met it
    visit(other, 20, 3, user=boss)  # not my chart
    visit(mine, 35, 2, clinician=boss, user=boss)  # not my follow-up
    rows = worklist.follow_ups_due(me, TODAY).rows
    assert [(r.visit.pk, r.overdue) for r in rows] == [
        (overdue.pk, True),
        (due.pk, False),
    ]
    assert met.pk not in {r.visit.pk for r in rows}


def mine_team(user):
    return factories.team("Ours", user)


def test_charts_opened_recently_newest_first_and_still_open(world):
    me, boss, mine, other = world
    second = factories.patient(acting_user=boss, care_teams=[mine_team(me)])
    for chart in (mine, second, mine):
        audit_record(action=Action.VIEW, actor=me, patient_id=chart.pk)
    audit_record(action=Action.VIEW, actor=me, patient_id=other.pk)  # lost access
    audit_record(action=Action.VIEW, actor=boss, patient_id=second.pk)  # not mine
    audit_record(action=Action.UPDATE, actor=me, patient_id=second.pk)
    opened = worklist.charts_opened_recently(me).rows
    assert [o.patient.pk for o in opened] == [mine.pk, second.pk]


def test_charts_opened_recently_reads_the_views_index_alone(world):
    """The newest RECENT_VIEWS_READ openings of the user, read backwards from the
    partial index of chart openings (index only), never the whole trail."""
    me = world[0]
    sql, params = worklist.recent_views(me).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert plan.startswith("Limit")
    assert "Index Only Scan Backward using audit_actor_views_idx" in plan


def test_emergency_access_held_until_it_lapses(world):
    me, _, _, other = world
    grant = access.break_glass_open(
        acting_user=me, mrn=other.mrn, reason="Seen in the emergency department"
    )
    held = worklist.emergency_access_held(me).rows
    assert [g.pk for g in held] == [grant.pk]
    type(grant).objects.filter(pk=grant.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    assert worklist.emergency_access_held(me).rows == []


def test_growth_alerts_on_reachable_recent_charts_only(world):
    me, boss, mine, other = world
    faltering(acting_user=me, patient=mine, clinician=me)
    faltering(acting_user=boss, patient=other, clinician=boss)
    old = factories.patient(acting_user=boss, care_teams=[mine_team(me)])
    # Raised long ago: on the chart's summary, not news for the worklist.
    faltering(
        acting_user=boss,
        patient=old,
        clinician=boss,
        recent_days=worklist.GROWTH_ALERT_DAYS + 10,
    )
    rows = worklist.worklist_growth_alerts(me, TODAY).rows
    assert [(r.patient.pk, r.alert.kind) for r in rows] == [
        (mine.pk, "weight_faltering")
    ]
    assert "centile" in rows[0].alert.message
    # Emergency access opens the chart, and its alerts, while it lasts.
    access.break_glass_open(
        acting_user=me, mrn=other.mrn, reason="Seen in the emergency department"
    )
    charts = {r.patient.pk for r in worklist.worklist_growth_alerts(me, TODAY).rows}
    assert charts == {mine.pk, other.pk}


def test_whole_worklist_for_someone_with_no_charts(make_user):
    nobody = make_user("new", roles=[roles.CLINICIAN])
    work = worklist.worklist(user=nobody)
    for part in (
        work.drafts,
        work.follow_ups,
        work.recent_charts,
        work.emergency,
        work.alerts,
    ):
        assert part.rows == [] and part.more is False
