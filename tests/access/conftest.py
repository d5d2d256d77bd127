"""Personas and a chart for the access tests: every role, in and out of the team."""

from dataclasses import dataclass
from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from records.audit.models import AuditEvent
from records.common.models import ScheduledRun
from records.imports import services as import_services
from records.imports.models import ExportJob
from records.patients import services
from records.patients.models import BreakGlassGrant
from records.users import roles
from records.users.models import LoginEvent, User
from tests import factories
from tests.admin_ext.test_chart_admin import PNG

PERSONAS = (
    "anonymous",
    "superuser",
    "administrator",
    "clinician_in_team",
    "clinician_outside",
    "clinician_break_glass",
    "clinician_expired_glass",
    "data_manager",
    "auditor",
)


@dataclass
class World:
    users: dict
    patient: object
    assessment: object
    visit: object
    media: object
    team: object
    grant: object
    event: object
    attempt: object
    access_log: object
    failure_log: object
    role: object
    import_job: object
    export_job: object
    audit_event: object
    scheduled_run: object = None


def _user(username, *role_names, **fields):
    user = User.objects.create_user(
        username=username,
        password="correct-horse-battery-staple",
        is_staff=True,
        **fields,
    )
    for name in role_names:
        user.groups.add(Group.objects.get(name=name))
    return user


@pytest.fixture
def world(db, s3_storage) -> World:
    users = {
        "superuser": _user("root", is_superuser=True),
        "administrator": _user("chief", roles.ADMINISTRATOR),
        "clinician_in_team": _user("inside", roles.CLINICIAN),
        "clinician_outside": _user("outside", roles.CLINICIAN),
        "clinician_break_glass": _user("glass", roles.CLINICIAN),
        "clinician_expired_glass": _user("expired", roles.CLINICIAN),
        "data_manager": _user("data", roles.DATA_MANAGER),
        "auditor": _user("audit", roles.AUDITOR),
    }
    inside = users["clinician_in_team"]
    team = factories.team("Neonatal follow-up", inside)
    factories.team("Autism assessment", users["clinician_outside"])
    patient = factories.patient(acting_user=inside, care_teams=[team])
    assessment = factories.assessment(acting_user=inside, patient=patient)
    visit = factories.visit(acting_user=inside, patient=patient)
    media = services.media_upload(
        acting_user=inside,
        patient=patient,
        assessment=assessment,
        uploaded_file=SimpleUploadedFile("gm.png", PNG),
    )
    grant = services.break_glass_open(
        acting_user=users["clinician_break_glass"],
        mrn=patient.mrn,
        reason="Seizure in the emergency department",
    )
    old = services.break_glass_open(
        acting_user=users["clinician_expired_glass"],
        mrn=patient.mrn,
        reason="Seizure in the emergency department",
    )
    BreakGlassGrant.objects.filter(pk=old.pk).update(
        granted_at=timezone.now() - timedelta(hours=9),
        expires_at=timezone.now() - timedelta(hours=5),
    )
    event = LoginEvent.objects.create(kind="failure", username="someone")
    attempt = AccessAttempt.objects.create(
        username="someone", ip_address="192.0.2.1", failures_since_start=1
    )
    access_log = AccessLog.objects.create(username="someone", ip_address="192.0.2.1")
    failure_log = AccessFailureLog.objects.create(
        username="someone", ip_address="192.0.2.1"
    )
    manager = users["data_manager"]
    import_job = import_services.import_validate(
        acting_user=manager,
        entity="patients",
        file_name="bad.csv",
        data=b"mrn,given_name,family_name,date_of_birth,sex\nx,A,B,2025-01-01,m\n",
        reason="Quarterly upload",
    )
    export_job = ExportJob.objects.create(
        user=manager, entity="patients", file_format="csv"
    )
    return World(
        users=users,
        patient=patient,
        assessment=assessment,
        visit=visit,
        media=media,
        team=team,
        grant=grant,
        event=event,
        attempt=attempt,
        access_log=access_log,
        failure_log=failure_log,
        role=Group.objects.get(name=roles.AUDITOR),
        import_job=import_job,
        export_job=export_job,
        audit_event=AuditEvent.objects.order_by("-id").first(),
        scheduled_run=ScheduledRun.objects.create(
            task="verify_audit", started_at=timezone.now(), succeeded=False
        ),
    )
