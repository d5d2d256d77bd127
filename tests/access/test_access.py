"""Access in practice: what each persona sees, IDOR probes, care teams, emergency
access, and who could open a chart on a past date. (One module past 400 lines:
the personas' one world fixture, probed from every side.)"""

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from records.patients import repositories, services
from records.patients.models import (
    Assessment,
    BreakGlassUse,
    PatientGroupObjectPermission,
)
from records.patients.services import access
from records.users.services import care_team_set_members, care_team_update
from tests import factories
from tests.helpers import admin_form_data, client_for

pytestmark = pytest.mark.django_db


def changelist_mrns(client, name="patients_patient") -> list:
    response = client.get(reverse(f"admin:{name}_changelist"))
    return [
        getattr(o, "mrn", None) or o.patient.mrn
        for o in response.context["cl"].result_list
    ]


@pytest.mark.parametrize(
    "persona, sees",
    [
        ("superuser", True),
        ("administrator", True),
        ("clinician_in_team", True),
        ("clinician_outside", False),
        ("clinician_break_glass", True),
        ("clinician_expired_glass", False),
        ("data_manager", True),
        ("auditor", True),
    ],
)
def test_every_list_shows_only_reachable_charts(world, persona, sees):
    client = client_for(world.users[persona])
    expected = [world.patient.mrn] if sees else []
    for name in (
        "patients_patient",
        "patients_assessment",
        "clinical_records_clinicalrecord",
        "patients_mediafile",
    ):
        assert changelist_mrns(client, name) == expected, name
    search = client.get(
        reverse("admin:patients_patient_changelist"),
        {"q": world.patient.mrn},
        follow=True,
    )
    assert len(search.context["cl"].result_list) == (1 if sees else 0)
    autocomplete = client.post(
        reverse("admin:autocomplete"),
        {"app_label": "patients", "model_name": "assessment", "field_name": "patient"},
    ).json()
    assert [r["id"] for r in autocomplete["results"]] == (
        [str(world.patient.pk)] if sees else []
    )
    dashboard = client.get(reverse("admin:index")).context["chart_figures"]
    assert dashboard["patients"] == ("1" if sees else "0")


def test_idor_probes_answer_404(world):
    client = client_for(world.users["clinician_outside"])
    other = factories.patient(acting_user=world.users["clinician_outside"])
    urls = [
        reverse("admin:patients_patient_change", args=[pk])
        for pk in (world.patient.pk, other.pk + 1, 999999)
    ] + [
        reverse("admin:patients_assessment_change", args=[world.assessment.pk]),
        reverse("admin:clinical_records_clinicalrecord_change", args=[world.visit.pk]),
        reverse("admin:patients_mediafile_change", args=[world.media.pk]),
        reverse("admin:patients_mediafile_download", args=[world.media.pk]),
        reverse("admin:patients_mediafile_download", args=[world.media.pk + 1]),
        reverse("admin:patients_patient_history", args=[world.patient.pk]),
    ]
    for url in urls:
        assert client.get(url).status_code == 404, url
    assert (
        client.get(
            reverse("admin:patients_patient_change", args=[other.pk])
        ).status_code
        == 200
    )


def test_posting_another_teams_patient_id_is_refused(world):
    outsider = world.users["clinician_outside"]
    client = client_for(outsider)
    page = client.get(reverse("admin:patients_assessment_add"))
    data = admin_form_data(
        page,
        patient=world.patient.pk,
        instrument="hine",
        performed_on=str(timezone.localdate()),
        assessor=outsider.pk,
    )
    response = client.post(reverse("admin:patients_assessment_add"), data)
    assert response.status_code == 200
    assert "patient" in response.context["adminform"].form.errors
    assert Assessment.objects.count() == 1


# --- care teams ----------------------------------------------------------------------


def test_clinicians_assign_charts_to_their_own_teams_only(world):
    outsider = world.users["clinician_outside"]
    with pytest.raises(PermissionDenied):
        services.patient_assign_care_team(
            acting_user=outsider, patient=world.patient, team=world.team
        )
    with pytest.raises(ValidationError) as error:
        services.patient_create(
            acting_user=outsider, data=factories.patient_data(), care_teams=[]
        )
    assert "care_teams" in error.value.message_dict


def test_clinicians_keep_other_teams_assignments(world):
    inside = world.users["clinician_in_team"]
    other = factories.team("Autism assessment")
    services.patient_assign_care_team(
        acting_user=world.users["administrator"], patient=world.patient, team=other
    )
    services.patient_set_care_teams(
        acting_user=inside, patient=world.patient, teams=[world.team]
    )
    assert set(services.patient_care_teams(world.patient)) == {world.team, other}


def test_assignments_keep_history_with_who_and_why(world):
    admin = world.users["administrator"]
    services.patient_unassign_care_team(
        acting_user=admin, patient=world.patient, team=world.team, reason="Discharged"
    )
    history = PatientGroupObjectPermission.history.filter(
        content_object_id=world.patient.pk, history_type="-"
    )
    assert history.count() == 2  # view and change
    assert {(h.history_user, h.history_change_reason) for h in history} == {
        (admin, "Discharged")
    }
    assert not repositories.patients_visible_to(
        world.users["clinician_in_team"]
    ).exists()


def test_who_could_open_a_chart_on_a_past_date(world):
    admin = world.users["administrator"]
    newcomer = factories.clinician("newcomer")
    before = timezone.now()
    with time_machine.travel(before + timedelta(days=1)):
        care_team_set_members(
            acting_user=admin,
            team=world.team,
            members=[world.users["clinician_in_team"], newcomer],
        )
    with time_machine.travel(before + timedelta(days=2)):
        services.patient_unassign_care_team(
            acting_user=admin, patient=world.patient, team=world.team, reason="x"
        )

    def who(at):
        return {
            entry.username: entry.reasons
            for entry in repositories.patient_access_at(patient=world.patient, at=at)
        }

    now = who(before)
    assert now["inside"] == ("care team: Neonatal follow-up",)
    assert "newcomer" not in now and "outside" not in now
    assert now["glass"] == ("emergency access",)
    assert now["audit"] == ("role: Auditor",)
    assert now["root"] == ("superuser",)
    assert "expired" not in now
    later = who(before + timedelta(days=1, hours=1))
    assert later["newcomer"] == ("care team: Neonatal follow-up",)
    after = who(before + timedelta(days=3))
    assert "inside" not in after and "newcomer" not in after
    assert after["data"] == ("role: Data manager",)
    page = client_for(world.users["auditor"]).get(
        reverse("admin:patients_patient_access", args=[world.patient.pk]),
        {"on": str((before - timedelta(days=400)).date())},
    )
    assert page.status_code == 200 and page.context["entries"] == []


# --- emergency access ---------------------------------------------------------------


@pytest.fixture
def stranger(world):
    return world.users["clinician_outside"]


def test_emergency_access_needs_the_exact_mrn_and_a_reason(world, stranger):
    for mrn in (world.patient.mrn[:-1], world.patient.family_name):
        with pytest.raises(ValidationError) as error:
            services.break_glass_open(
                acting_user=stranger, mrn=mrn, reason="Status epilepticus in ED"
            )
        assert error.value.message_dict == {"mrn": [access.E_BREAK_GLASS_NOT_FOUND]}
    with pytest.raises(ValidationError) as error:
        services.break_glass_open(
            acting_user=stranger, mrn=world.patient.mrn, reason="urgent"
        )
    assert error.value.message_dict == {"reason": [access.E_BREAK_GLASS_REASON]}
    with pytest.raises(PermissionDenied):
        services.break_glass_open(
            acting_user=world.users["data_manager"],
            mrn=world.patient.mrn,
            reason="Status epilepticus in ED",
        )
    assert not repositories.patients_visible_to(stranger).exists()


def test_emergency_access_expires_after_four_hours_without_a_job(world, stranger):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        grant = services.break_glass_open(
            acting_user=stranger,
            mrn=world.patient.mrn.lower(),
            reason="Status epilepticus in ED",
        )
        assert grant.expires_at == start + timedelta(hours=4)
        assert repositories.patients_visible_to(stranger).get() == world.patient
        traveller.shift(timedelta(hours=3, minutes=59))
        assert repositories.patients_visible_to(stranger).exists()
        traveller.shift(timedelta(minutes=2))
        assert not repositories.patients_visible_to(stranger).exists()


def test_emergency_access_through_the_admin_records_each_use(world, stranger):
    client = client_for(stranger)
    url = reverse("admin:patients_patient_break_glass")
    response = client.post(url, {"mrn": world.patient.mrn, "reason": "short"})
    assert response.status_code == 200
    assert access.E_BREAK_GLASS_REASON in response.content.decode()
    response = client.post(
        url, {"mrn": world.patient.mrn, "reason": "Status epilepticus in ED"}
    )
    # It lands on the chart's summary, as any opening of a patient does.
    summary = reverse("admin:patients_patient_summary", args=[world.patient.pk])
    assert response.status_code == 302 and response["Location"] == summary
    chart = reverse("admin:patients_patient_change", args=[world.patient.pk])
    client.get(chart)
    client.get(reverse("admin:patients_assessment_change", args=[world.assessment.pk]))
    client.get(reverse("admin:patients_mediafile_download", args=[world.media.pk]))
    uses = BreakGlassUse.objects.filter(grant__user=stranger)
    assert sorted(uses.values_list("action", flat=True)) == [
        "assessment",
        "mediafile download",
        "patient",
    ]
    # A team member's openings are ordinary: nothing is recorded as emergency use.
    client_for(world.users["clinician_in_team"]).get(chart)
    assert BreakGlassUse.objects.count() == 3


def test_auditors_acknowledge_emergency_access(world):
    auditor = world.users["auditor"]
    with pytest.raises(PermissionDenied):
        services.break_glass_acknowledge(
            acting_user=world.users["clinician_in_team"], grant=world.grant
        )
    client = client_for(auditor)
    # The action first shows the grants with a field for an optional note.
    url = reverse("admin:patients_breakglassgrant_changelist")
    chosen = {"action": "acknowledge", "_selected_action": [world.grant.pk]}
    response = client.post(url, chosen)
    assert response.status_code == 200 and "Review note" in response.content.decode()
    world.grant.refresh_from_db()
    assert world.grant.acknowledged_at is None
    response = client.post(url, {**chosen, "apply": "1", "note": ""})
    assert response.status_code == 302
    world.grant.refresh_from_db()
    assert world.grant.acknowledged_by == auditor
    assert world.grant.acknowledged_at is not None
    with pytest.raises(ValidationError):
        services.break_glass_acknowledge(acting_user=auditor, grant=world.grant)


def test_administrators_make_care_teams_with_members(world):
    admin = world.users["administrator"]
    client = client_for(admin)
    url = reverse("admin:users_careteam_add")
    page = client.get(url)
    response = client.post(
        url,
        admin_form_data(
            page,
            name="Auditor",  # a role's name: refused
            members=[world.users["clinician_outside"].pk],
        ),
    )
    assert response.status_code == 200
    assert "name" in response.context["adminform"].form.errors
    response = client.post(
        url,
        admin_form_data(
            page,
            name="Sleep clinic",
            members=[world.users["clinician_outside"].pk],
            change_reason="New service",
        ),
    )
    assert response.status_code == 302
    from records.users.models import CareTeam

    team = CareTeam.objects.get(name="Sleep clinic")
    assert list(team.group.user_set.all()) == [world.users["clinician_outside"]]
    outside = world.users["clinician_outside"]
    entry = outside.history.order_by("-history_id").first()
    assert entry.history_user == admin
    assert entry.history_change_reason == "New service"
    # Described anew: the service keeps who and why; an unchanged save keeps nothing.
    url = reverse("admin:users_careteam_change", args=[team.pk])
    data = {
        "description": "Sleep studies",
        "members": [outside.pk],
        "change_reason": "Scope agreed",
    }
    for _ in range(2):
        response = client.post(url, data)
        assert response.status_code == 302, response.context["adminform"].form.errors
    described = team.history.order_by("-history_id")
    assert described.count() == 2  # created, described once
    assert described[0].description == "Sleep studies"
    assert (described[0].history_user, described[0].history_change_reason) == (
        admin,
        "Scope agreed",
    )


def test_the_services_write_only_to_charts_the_user_may_change(world, stranger):
    """The admin offers only the user's charts; the services keep the rule for
    every caller (a script, an import of code, a future page)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from records.clinical_records import services as visit_services

    patient, exam, visit = world.patient, world.assessment, world.visit
    refused = [
        lambda: factories.assessment(acting_user=stranger, patient=patient),
        lambda: factories.visit(acting_user=stranger, patient=patient),
        lambda: services.media_upload(
            acting_user=stranger,
            patient=patient,
            uploaded_file=SimpleUploadedFile("x.png", b"\x89PNG\r\n\x1a\n"),
        ),
        lambda: services.assessment_update(
            acting_user=stranger, assessment=exam, data={"findings": "x"}
        ),
        lambda: visit_services.clinical_record_finalize(
            acting_user=stranger, record=visit
        ),
        lambda: services.patient_update(
            acting_user=world.users["auditor"],  # sees every chart, changes none
            patient=patient,
            data={"city": "Elsewhere"},
        ),
    ]
    for write in refused:
        with pytest.raises(PermissionDenied, match=access.E_CHART_NOT_WRITABLE):
            write()
    patient.refresh_from_db()
    assert patient.version == 1 and patient.city != "Elsewhere"
    # The same writes by someone in the chart's team go through.
    inside = world.users["clinician_in_team"]
    services.assessment_update(
        acting_user=inside, assessment=exam, data={"findings": "Symmetric"}
    )
    assert exam.version == 2
    # Moved to a chart they may not change, the record stays where it was.
    elsewhere = factories.patient(acting_user=stranger)
    with pytest.raises(PermissionDenied, match=access.E_CHART_NOT_WRITABLE):
        services.assessment_update(
            acting_user=inside, assessment=exam, data={"patient": elsewhere}
        )
    exam.refresh_from_db()
    assert exam.patient_id == patient.pk and exam.version == 2


def test_closing_a_care_team_ends_its_members_access(world):
    from django.contrib.auth.models import Group

    from records.patients.models import PatientGroupObjectPermission
    from records.users.models import CareTeam

    inside = world.users["clinician_in_team"]
    assert repositories.patients_visible_to(inside).filter(pk=world.patient.pk)
    client = Client()
    client.force_login(world.users["administrator"])
    delete = reverse("admin:users_careteam_delete", args=[world.team.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 302
    assert not CareTeam.objects.filter(pk=world.team.pk).exists()
    assert not Group.objects.filter(pk=world.team.group_id).exists()
    assert not PatientGroupObjectPermission.objects.filter(
        group_id=world.team.group_id
    ).exists()
    inside = type(inside).objects.get(pk=inside.pk)  # a fresh permission cache
    assert not repositories.patients_visible_to(inside).filter(pk=world.patient.pk)
    assert inside.history.latest("history_id").history_change_reason == (
        "Team Neonatal follow-up closed"
    )
    with pytest.raises(PermissionDenied):
        services.care_team_delete(
            acting_user=inside, team=factories.team("Another", inside)
        )
    # Closed from the list's bulk action, a team goes the same way.
    another = CareTeam.objects.get(name="Another")
    changelist = reverse("admin:users_careteam_changelist")
    selected = {"action": "delete_selected", "_selected_action": [another.pk]}
    assert client.post(changelist, {**selected, "post": "yes"}).status_code == 302
    assert not Group.objects.filter(pk=another.group_id).exists()
    assert not PatientGroupObjectPermission.objects.filter(
        group_id=another.group_id
    ).exists()
    with pytest.raises(PermissionDenied):
        care_team_update(
            acting_user=inside,
            team=factories.team("Third", inside),
            description="Ours now",
        )


def test_joining_and_leaving_a_team_are_in_the_audit_trail(world):
    from records.audit.models import AuditEvent
    from records.audit.verify import audit_chain_verify

    admin = world.users["administrator"]
    newcomer = factories.clinician("newcomer")
    inside = world.users["clinician_in_team"]
    start = AuditEvent.objects.latest("pk").pk

    care_team_set_members(acting_user=admin, team=world.team, members=[newcomer])

    events = AuditEvent.objects.filter(pk__gt=start).order_by("pk")
    assert [(e.action, e.object_id, e.actor_id) for e in events] == [
        ("grant", str(newcomer.pk), admin.pk),
        ("revoke", str(inside.pk), admin.pk),
    ]
    assert events[0].details == {"team_id": world.team.pk, "member_id": newcomer.pk}
    assert events[0].summary == "newcomer joined care team Neonatal follow-up"

    # Closing the team: its last member leaves, in the trail too.
    access.care_team_delete(acting_user=admin, team=world.team, reason="Merged")
    last = AuditEvent.objects.filter(object_type="users.user").latest("pk")
    assert (last.action, last.object_id) == ("revoke", str(newcomer.pk))
    assert audit_chain_verify().intact
