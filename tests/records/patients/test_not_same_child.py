"""Issue #17, point 8: siblings are not duplicates; twins are flagged until a
clinician who may change both charts marks them "not the same child"."""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from records.audit.models import AuditEvent
from records.common.errors import ServiceError
from records.patients import repositories, services
from records.patients.models import NotSameChild
from records.users import roles
from tests import factories

pytestmark = pytest.mark.django_db

BORN = date(2024, 2, 29)
PHONE = "+44 20 7946 0555"


@pytest.fixture
def clinician():
    return factories.clinician("twins-doctor")


@pytest.fixture
def family(clinician):
    """Twins (same birthday, similar names), and an older sibling: all three
    with the same guardian phone, in the clinician's care team."""
    make = factories.patient
    return {
        "ava": make(
            acting_user=clinician,
            given_name="Ava",
            family_name="Brelling",
            date_of_birth=BORN,
            guardian_phone=PHONE,
        ),
        "eva": make(
            acting_user=clinician,
            given_name="Eva",
            family_name="Brelling",
            date_of_birth=BORN,
            guardian_phone=PHONE,
        ),
        "sibling": make(
            acting_user=clinician,
            given_name="Ava",
            family_name="Brelling",
            date_of_birth=date(2021, 6, 1),
            guardian_phone=PHONE,
        ),
    }


def duplicates_of(user, patient) -> list:
    return repositories.patient_duplicates(
        user=user,
        date_of_birth=patient.date_of_birth,
        given_name=patient.given_name,
        family_name=patient.family_name,
        guardian_phone=patient.guardian_phone,
        exclude_pk=patient.pk,
    )


def test_siblings_sharing_a_phone_are_not_flagged(clinician, family):
    assert duplicates_of(clinician, family["sibling"]) == []


def test_twins_are_flagged_with_why_until_marked(clinician, family, make_user):
    ava, eva = family["ava"], family["eva"]
    [found] = duplicates_of(clinician, ava)
    assert found == eva and found.same_phone is True
    assert duplicates_of(clinician, eva) == [ava]

    services.patient_pair_mark_distinct(acting_user=clinician, patient=eva, other=ava)

    # Gone for that pair, both ways, for everyone (a data manager too).
    manager = make_user("manager", roles=[roles.DATA_MANAGER])
    for user in (clinician, manager):
        assert duplicates_of(user, ava) == []
        assert duplicates_of(user, eva) == []


def test_a_pair_is_one_row_whichever_side_it_is_marked_from(clinician, family):
    ava, eva = family["ava"], family["eva"]
    first = services.patient_pair_mark_distinct(
        acting_user=clinician, patient=eva, other=ava
    )
    again = services.patient_pair_mark_distinct(
        acting_user=clinician, patient=ava, other=eva
    )
    assert again.pk == first.pk
    pair = NotSameChild.objects.get()
    assert (pair.first_id, pair.second_id) == tuple(sorted((ava.pk, eva.pk)))
    assert pair.marked_by == clinician and pair.marked_at is not None
    # Kept in history like other chart data, with who and why.
    [record] = pair.history.all()
    assert record.history_user_id == clinician.pk
    assert record.history_change_reason == "Marked not the same child"


def test_marking_writes_an_audit_event_on_each_chart(clinician, family):
    ava, eva = family["ava"], family["eva"]
    pair = services.patient_pair_mark_distinct(
        acting_user=clinician, patient=ava, other=eva
    )
    events = AuditEvent.objects.filter(object_type="patients.notsamechild")
    assert sorted(events.values_list("patient_id", flat=True)) == sorted(
        [ava.pk, eva.pk]
    )
    for event in events:
        assert (event.action, event.actor_id) == ("create", clinician.pk)
        assert event.object_id == str(pair.pk)


def test_a_clinician_who_cannot_reach_both_charts_cannot_mark(clinician, family):
    other_team = factories.clinician("other-team")
    stranger = factories.patient(
        acting_user=other_team, given_name="Ava", date_of_birth=BORN
    )
    with pytest.raises(PermissionDenied):
        services.patient_pair_mark_distinct(
            acting_user=clinician, patient=family["ava"], other=stranger
        )
    assert not NotSameChild.objects.exists()
    assert not AuditEvent.objects.filter(object_type="patients.notsamechild").exists()


def test_emergency_access_is_not_enough_to_mark(clinician, family):
    other_team = factories.clinician("other-team")
    stranger = factories.patient(
        acting_user=other_team, given_name="Ava", date_of_birth=BORN
    )
    services.break_glass_open(
        acting_user=clinician,
        mrn=stranger.mrn,
        reason="Seizure in clinic, chart needed now",
    )
    with pytest.raises(PermissionDenied):
        services.patient_pair_mark_distinct(
            acting_user=clinician, patient=family["ava"], other=stranger
        )
    assert not NotSameChild.objects.exists()


def test_an_auditor_cannot_mark(family, make_user):
    auditor = make_user("auditor", roles=[roles.AUDITOR])
    with pytest.raises(PermissionDenied):
        services.patient_pair_mark_distinct(
            acting_user=auditor, patient=family["ava"], other=family["eva"]
        )
    assert not NotSameChild.objects.exists()


def test_a_chart_is_not_marked_against_itself(clinician, family):
    with pytest.raises(ServiceError):
        services.patient_pair_mark_distinct(
            acting_user=clinician, patient=family["ava"], other=family["ava"]
        )
    assert not NotSameChild.objects.exists()


def test_deleting_a_chart_takes_its_marks_with_it_on_the_record(
    clinician, family, make_user
):
    ava, eva = family["ava"], family["eva"]
    pair = services.patient_pair_mark_distinct(
        acting_user=clinician, patient=ava, other=eva
    )
    admin = make_user("chief", roles=[roles.ADMINISTRATOR])
    ava_id = ava.pk  # the deleted instance loses its pk
    services.patient_delete(acting_user=admin, patient=ava, reason="Registered twice")
    assert not NotSameChild.objects.exists()
    gone = NotSameChild.history.filter(id=pair.pk, history_type="-").get()
    assert gone.history_user_id == admin.pk
    assert gone.history_change_reason == "Registered twice"
    event = AuditEvent.objects.get(object_type="patients.notsamechild", action="delete")
    assert (event.patient_id, event.actor_id) == (ava_id, admin.pk)
    assert event.details == {"other_patient_id": eva.pk}


# --- the chart page --------------------------------------------------------------


def chart_url(patient) -> str:
    return reverse("admin:patients_patient_change", args=[patient.pk])


def mark_url(patient, other) -> str:
    return reverse("admin:patients_patient_not_same_child", args=[patient.pk, other.pk])


def test_the_chart_warns_with_why_and_the_mark_ends_it(client, clinician, family):
    ava, eva = family["ava"], family["eva"]
    client.force_login(clinician)
    page = client.get(chart_url(ava)).content.decode()
    assert "Possible duplicate" in page
    assert "the same date of birth and a similar name" in page
    assert "and the same guardian phone" in page
    assert mark_url(ava, eva) in page
    # The sibling's chart: no warning at all.
    assert (
        "Possible duplicate"
        not in client.get(chart_url(family["sibling"])).content.decode()
    )

    comparison = client.get(mark_url(ava, eva))
    assert comparison.status_code == 200
    assert "29 Feb 2024" in comparison.content.decode()
    response = client.post(mark_url(ava, eva))
    assert response.status_code == 302 and response["Location"] == chart_url(ava)

    assert NotSameChild.objects.count() == 1
    for chart in (ava, eva):
        assert "Possible duplicate" not in client.get(chart_url(chart)).content.decode()


def test_the_page_refuses_a_clinician_outside_one_chart(client, family, make_user):
    ava, eva = family["ava"], family["eva"]
    outsider = factories.clinician("outsider")
    factories.team(f"Team of {outsider.username}", outsider)
    client.force_login(outsider)
    assert client.post(mark_url(ava, eva)).status_code == 404  # not even seen
    manager = make_user("manager", roles=[roles.DATA_MANAGER])
    client.force_login(manager)
    # Sees both, changes neither: no link, and the page refuses.
    assert mark_url(ava, eva) not in client.get(chart_url(ava)).content.decode()
    assert client.post(mark_url(ava, eva)).status_code == 403
    assert not NotSameChild.objects.exists()
