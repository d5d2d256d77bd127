"""The chart read model: growth alerts, series, diagnoses, follow-ups, timeline, and
a fixed number of queries whatever the chart's size."""

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from records.charts import summary
from records.clinical_records.models import ClinicalRecord
from records.patients import services
from records.patients.models import Patient
from records.users.models import User
from tests import factories

pytestmark = pytest.mark.django_db
TODAY = date.today()
PNG = (
    Path(__file__).resolve().parents[3] / "fixtures" / "demo_media" / "sample.png"
).read_bytes()


def v(pk, on, **figures):
    return ClinicalRecord(pk=pk, visit_date=on, **figures)


def test_weight_faltering_two_centile_spaces():
    first = v(1, date(2024, 1, 1), weight_sds=Decimal("0.50"), weight_centile=69)
    # 1.33 SD is two centile spaces (UK-WHO's lines are 2/3 SD apart).
    fell = v(2, date(2024, 6, 1), weight_sds=Decimal("-0.84"), weight_centile=20)
    alerts = summary.growth_alerts([fell, first])
    assert [a.kind for a in alerts] == ["weight_faltering"]
    assert "69th to the 20th centile" in alerts[0].message
    # Just under two spaces: no alert; rising never is.
    near = v(2, date(2024, 6, 1), weight_sds=Decimal("-0.83"), weight_centile=20)
    assert summary.growth_alerts([first, near]) == []
    rose = v(2, date(2024, 6, 1), weight_sds=Decimal("2.5"), weight_centile=99)
    assert summary.growth_alerts([first, rose]) == []


def test_head_crossing_either_way_and_extremes():
    a = v(
        1,
        date(2024, 1, 1),
        head_circumference_sds=Decimal("0"),
        head_circumference_centile=Decimal("50"),
    )
    b = v(
        2,
        date(2024, 3, 1),
        head_circumference_sds=Decimal("1.4"),
        head_circumference_centile=Decimal("91.9"),
    )
    assert [x.kind for x in summary.growth_alerts([a, b])] == ["head_crossing"]
    low = v(
        3,
        date(2024, 5, 1),
        head_circumference_sds=Decimal("-2.8"),
        head_circumference_centile=Decimal("0.3"),
    )
    kinds = [x.kind for x in summary.growth_alerts([a, b, low])]
    assert kinds.count("head_crossing") == 2 and kinds[0] == "head_crossing"
    assert "head_low" in kinds
    high = v(
        4,
        date(2024, 7, 1),
        head_circumference_sds=Decimal("2.8"),
        head_circumference_centile=Decimal("99.7"),
    )
    assert "head_high" in [x.kind for x in summary.growth_alerts([high])]
    edge = v(
        5,
        date(2024, 7, 1),
        head_circumference_sds=Decimal("-2.65"),
        head_circumference_centile=Decimal("0.4"),
    )
    assert summary.growth_alerts([edge]) == []


def test_diagnoses_and_follow_ups():
    visits = [
        v(1, date(2024, 1, 1), diagnoses=["F84.0"], follow_up_date=date(2024, 3, 1)),
        v(
            2,
            date(2024, 3, 2),
            diagnoses=["F84.0", "R62.0"],
            follow_up_date=TODAY + timedelta(days=9),
        ),
        v(3, date(2024, 2, 1), diagnoses=[], follow_up_date=date(2024, 2, 15)),
    ]
    found = summary.diagnoses_seen(visits)
    assert [(d.code, d.first_seen, d.last_seen, d.visits) for d in found] == [
        ("R62.0", date(2024, 3, 2), date(2024, 3, 2), 1),
        ("F84.0", date(2024, 1, 1), date(2024, 3, 2), 2),
    ]
    assert found[1].title.startswith("Childhood autism")
    due = summary.follow_ups_due(visits, TODAY)
    # 1 March was met by the visit of 2 March; 15 February too.
    assert [(f.due, f.overdue) for f in due] == [(TODAY + timedelta(days=9), False)]


@pytest.fixture
def doctor():
    return factories.clinician()


def make_chart(doctor, visits: int) -> Patient:
    patient = factories.patient(
        acting_user=doctor, sex="male", date_of_birth=TODAY - timedelta(days=3000)
    )
    for n in range(visits):
        factories.visit(
            acting_user=doctor,
            patient=patient,
            visit_date=TODAY - timedelta(days=2900 - n * 90),
            weight_kg=Decimal("4") + Decimal(n) * Decimal("0.7"),
            height_cm=None,
            diagnoses=["F84.0"],
            follow_up_date=TODAY + timedelta(days=n),
        )
    for n in range(min(visits, 5)):
        factories.assessment(
            acting_user=doctor,
            patient=patient,
            performed_on=TODAY - timedelta(days=10 + n),
        )
    services.media_upload(
        acting_user=doctor,
        patient=patient,
        uploaded_file=SimpleUploadedFile("a.png", PNG),
    )
    return patient


# The chart, its visits, assessments and media, its teams, how the user reaches it
# (permissions in one query, team grant, emergency grant): the same for 3 visits
# or 30.
QUERIES = 9


@pytest.mark.parametrize("visits", [3, 30])
def test_a_fixed_number_of_queries(
    doctor, visits, django_assert_num_queries, s3_storage
):
    patient = make_chart(doctor, visits)
    summary.growth_series(patient, [])  # the reference's lines are read once
    user = User.objects.get(pk=doctor.pk)
    with django_assert_num_queries(QUERIES):
        result = summary.chart_summary(user=user, pk=patient.pk)
        list(result.timeline)
    assert result.counts["visits"] == visits
    assert len(result.growth[0]["points"]) == visits


def test_summary_series_and_timeline(doctor, s3_storage):
    patient = make_chart(doctor, 3)
    result = summary.chart_summary(user=doctor, pk=patient.pk)
    weight = result.growth[0]
    assert weight["name"] == "weight" and len(weight["points"]) == 3
    assert [line["centile"] for line in weight["lines"]][0] == 0.4
    assert weight["points"][0]["label"].startswith("4 kg, ")
    kinds = [e.kind for e in result.timeline]
    assert kinds.count("visit") == 3 and kinds.count("media") == 1
    assert [e.on for e in result.timeline] == sorted(
        (e.on for e in result.timeline), reverse=True
    )
    assert result.trends and result.trends[0]["label"] == "HINE"
    assert result.reach == "care" and not result.emergency
    assert result.care_teams == [f"Team of {doctor.username}"]


def test_summary_only_of_a_visible_chart(doctor):
    patient = factories.patient(acting_user=doctor)
    stranger = factories.clinician()
    with pytest.raises(Patient.DoesNotExist):
        summary.chart_summary(user=stranger, pk=patient.pk)


def test_the_timeline_writes_only_the_entries_read():
    from types import SimpleNamespace
    from unittest import mock

    from django.core.paginator import Paginator

    day = date(2024, 3, 1)
    visits = [SimpleNamespace(pk=n, visit_date=day) for n in (1, 2)]
    assessments = [SimpleNamespace(pk=3, performed_on=day)]
    older = [
        SimpleNamespace(pk=n, visit_date=day - timedelta(days=n)) for n in range(4, 60)
    ]
    timeline = summary.Timeline(
        [(v.visit_date, "visit", v) for v in visits + older]
        + [(a.performed_on, "assessment", a) for a in assessments]
    )
    written = mock.Mock(side_effect=lambda on, kind, obj: (on, kind, obj.pk))
    with mock.patch.object(summary, "_entry", written):
        page = Paginator(timeline, summary.TIMELINE_PAGE_SIZE).get_page(1)
        shown = list(page)
    assert len(timeline) == 59 and page.paginator.num_pages == 3
    assert written.call_count == summary.TIMELINE_PAGE_SIZE  # not all 59
    # Newest day first; on one day visits before assessments, the newest first.
    assert shown[:4] == [
        (day, "visit", 2),
        (day, "visit", 1),
        (day, "assessment", 3),
        (day - timedelta(days=4), "visit", 4),
    ]
