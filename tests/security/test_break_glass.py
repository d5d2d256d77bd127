"""Emergency access is a time-limited grant to read and record: its holder can never
change who may open the chart, nor the chart itself, nor other staff's records,
whichever way they write (the admin's forms, the services, imports)."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from records.clinical_records import services as visit_services
from records.imports import services as import_services
from records.patients import repositories, services
from records.patients.models import BreakGlassGrant
from records.patients.services.access import E_EMERGENCY_READ_AND_RECORD
from tests import factories
from tests.helpers import PNG, admin_form_data, client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def glass(world):
    """The emergency-access holder, in a care team of their own (which the chart
    is not in)."""
    user = world.users["clinician_break_glass"]
    own = factories.team("Glass's own team", user)
    return user, own


def test_the_patient_form_cannot_put_the_chart_in_the_holders_team(world, glass):
    user, own = glass
    client = client_for(user)
    url = reverse("admin:patients_patient_change", args=[world.patient.pk])
    page = client.get(url)
    assert page.status_code == 200  # they read the chart
    assert not page.context["has_change_permission"]  # ... shown read-only
    response = client.post(
        url,
        {"care_teams": [own.pk], "given_name": "Changed", "change_reason": "x"},
    )
    assert response.status_code == 403
    world.patient.refresh_from_db()
    assert world.patient.given_name != "Changed"
    assert own not in services.patient_care_teams(world.patient)
    # When the grant lapses, nothing of it is left.
    BreakGlassGrant.objects.filter(pk=world.grant.pk).update(
        expires_at=world.grant.granted_at
    )
    assert not repositories.patients_visible_to(user).exists()


@pytest.mark.parametrize(
    "write",
    [
        lambda u, p, t: services.patient_set_care_teams(
            acting_user=u, patient=p, teams=[t]
        ),
        lambda u, p, t: services.patient_assign_care_team(
            acting_user=u, patient=p, team=t
        ),
        lambda u, p, t: services.patient_update(
            acting_user=u, patient=p, data={"given_name": "Changed"}
        ),
        lambda u, p, t: services.patient_archive(
            acting_user=u, patient=p, reason="Moved away"
        ),
    ],
    ids=["set_care_teams", "assign_care_team", "update", "archive"],
)
def test_services_refuse_the_holder_any_change_of_the_chart(world, glass, write):
    user, own = glass
    with pytest.raises(PermissionDenied) as refused:
        write(user, world.patient, own)
    assert refused.value.args[0] == E_EMERGENCY_READ_AND_RECORD
    world.patient.refresh_from_db()
    assert world.patient.given_name != "Changed"
    assert world.patient.status == "active"
    assert list(services.patient_care_teams(world.patient)) == [world.team]


def test_no_care_team_change_without_reaching_the_chart(world):
    """The service held this only through the admin's choice of charts before."""
    outsider = world.users["clinician_outside"]
    their_team = factories.team("Autism assessment")
    with pytest.raises(PermissionDenied):
        services.patient_assign_care_team(
            acting_user=outsider, patient=world.patient, team=their_team
        )
    with pytest.raises(PermissionDenied):
        services.patient_set_care_teams(
            acting_user=outsider, patient=world.patient, teams=[their_team]
        )
    assert list(services.patient_care_teams(world.patient)) == [world.team]


def test_the_holder_records_notes_and_changes_only_their_own(world, glass):
    user, _ = glass
    mine = factories.assessment(acting_user=user, patient=world.patient)
    services.assessment_update(
        acting_user=user, assessment=mine, data={"findings": "Post-ictal"}
    )
    mine.refresh_from_db()
    assert mine.findings == "Post-ictal"
    visit = factories.visit(acting_user=user, patient=world.patient)
    visit_services.clinical_record_update(
        acting_user=user, record=visit, data={"examination": "Admit"}
    )
    media = services.media_upload(
        acting_user=user,
        patient=world.patient,
        uploaded_file=SimpleUploadedFile("eeg.png", PNG),
    )
    assert media.pk
    # Another clinician's records are read, not changed.
    with pytest.raises(PermissionDenied):
        services.assessment_update(
            acting_user=user, assessment=world.assessment, data={"findings": "x"}
        )
    with pytest.raises(PermissionDenied):
        visit_services.clinical_record_update(
            acting_user=user, record=world.visit, data={"examination": "x"}
        )
    world.assessment.refresh_from_db()
    assert world.assessment.findings != "x"


def test_another_clinicians_record_is_read_only_in_the_admin(world, glass):
    user, _ = glass
    client = client_for(user)
    url = reverse("admin:patients_assessment_change", args=[world.assessment.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert not page.context["has_change_permission"]
    assert client.post(url, {"findings": "x"}).status_code == 403
    mine = factories.assessment(acting_user=user, patient=world.patient)
    own_page = client.get(reverse("admin:patients_assessment_change", args=[mine.pk]))
    assert own_page.context["has_change_permission"]
    response = client.post(
        reverse("admin:patients_assessment_change", args=[mine.pk]),
        admin_form_data(own_page, findings="Recorded in emergency"),
    )
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.findings == "Recorded in emergency"


def test_an_expired_grant_records_nothing(world):
    user = world.users["clinician_expired_glass"]
    with pytest.raises(PermissionDenied):
        factories.assessment(acting_user=user, patient=world.patient)


def test_imports_are_not_a_way_round(world, glass):
    """Even given the import permission, a clinician who opens charts by team or
    emergency grant cannot import: an import writes any chart its file names."""
    user, _ = glass
    user.user_permissions.add(
        Permission.objects.get(
            codename="import_records", content_type__app_label="imports"
        )
    )
    user = type(user).objects.get(pk=user.pk)
    data = (
        "patient_mrn,instrument,performed_on,assessor,total_score,outcome\n"
        f"{world.patient.mrn},hine,{date.today() - timedelta(days=2)},"
        f"{user.username},{Decimal('50')},typical\n"
    ).encode()
    with pytest.raises(PermissionDenied):
        import_services.import_validate(
            acting_user=user,
            entity="assessments",
            file_name="a.csv",
            data=data,
            reason="Emergency notes",
        )


def test_a_clinician_cannot_leave_a_chart_without_a_team(world):
    from records.patients.services.access import E_LAST_TEAM

    inside = world.users["clinician_in_team"]
    with pytest.raises(ValidationError) as refused:
        services.patient_set_care_teams(
            acting_user=inside, patient=world.patient, teams=[]
        )
    assert refused.value.message_dict["care_teams"] == [E_LAST_TEAM]
    assert list(services.patient_care_teams(world.patient)) == [world.team]
    # An administrator may (they, and the data managers, still open it).
    services.patient_set_care_teams(
        acting_user=world.users["administrator"], patient=world.patient, teams=[]
    )
    assert not services.patient_care_teams(world.patient).exists()
