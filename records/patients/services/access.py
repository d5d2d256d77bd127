"""Who may open a chart: care teams and emergency (break-the-glass) access."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from records.audit.models import Action
from records.audit.services import audit_object
from records.common.errors import ServiceError
from records.common.services import history_note
from records.common.text import visible
from records.patients import validators
from records.patients.models import (
    BreakGlassGrant,
    BreakGlassUse,
    Patient,
    PatientGroupObjectPermission,
)
from records.patients.repositories import (
    REACH_CARE,
    REACH_EMERGENCY,
    chart_reach,
    live_emergency_grants,
    opens_every_chart,
    patients_by_team,
)
from records.users.models import CareTeam
from records.users.repositories import clinical_staff
from records.users.services import care_team_set_members, care_teams_of

# A team's grant on a chart: open it and change it.
TEAM_PERMISSIONS = ("view_patient", "change_patient")
BREAK_GLASS_MIN_REASON = 15

E_NOT_YOUR_TEAM = "You can only assign charts to care teams you belong to."
E_TEAM_REQUIRED = "Choose one of your care teams for this patient."
E_LAST_TEAM = (
    "A chart keeps at least one care team: without one, no clinician could open it. "
    "Add the team that takes it over first."
)
E_BREAK_GLASS_REASON = (
    "State the emergency in at least 15 characters; the reason is reviewed."
)
E_BREAK_GLASS_NOT_FOUND = "No patient has this MRN. Check it and try again."
E_BREAK_GLASS_NOT_ALLOWED = "Your role cannot request emergency access."
BREAK_GLASS_NOTE_MAX = 1000  # BreakGlassGrant.review_note's bound
E_ALREADY_ACKNOWLEDGED = "This emergency access was already acknowledged."
E_CHART_NOT_WRITABLE = "You may not change this chart."
E_EMERGENCY_READ_AND_RECORD = (
    "Emergency access lets you read this chart and add assessments, visits and "
    "media (and change those you added); it does not let you change the patient's "
    "details, care teams or other staff's records."
)
E_NOT_CLINICAL_STAFF = "Only an active clinician or administrator can be named here."
# Fields that name the clinician responsible for a record.
STAFF_FIELDS = ("assessor", "clinician")


def named_staff_check(*, instance, current=None) -> None:
    """The assessor or clinician a record names is active clinical staff when
    named (`current`: the record as stored). A record keeps the one it had when
    they leave: it is only checked when it changes."""
    for name in STAFF_FIELDS:
        user_id = getattr(instance, f"{name}_id", None)
        if user_id is None:
            continue  # none on this model, or required: full_clean says so
        if current is not None and getattr(current, f"{name}_id") == user_id:
            continue
        if not clinical_staff().filter(pk=user_id).exists():
            raise ServiceError({name: E_NOT_CLINICAL_STAFF})


def chart_write_check(*, acting_user, instance) -> None:
    """The rule behind every write to a chart (a patient, or a record of one): the
    user's role may add or change this kind of record, and the chart is one they
    may open. The admin offers only such charts; this is where the rule is kept.

    Emergency access is a time-limited grant to read and record: its holder may
    add assessments, visits and media, and change those they created, but not the
    patient (details, status, care teams) nor anyone else's record."""
    opts = instance._meta
    action = "add" if instance.pk is None else "change"
    patient_id = instance.pk if isinstance(instance, Patient) else instance.patient_id
    if not acting_user.has_perm(f"{opts.app_label}.{action}_{opts.model_name}"):
        raise PermissionDenied(E_CHART_NOT_WRITABLE)
    if patient_id is None:
        return
    reach = chart_reach(acting_user, patient_id)
    if reach is None:
        raise PermissionDenied(E_CHART_NOT_WRITABLE)
    if reach == REACH_EMERGENCY and not _emergency_may_write(acting_user, instance):
        raise PermissionDenied(E_EMERGENCY_READ_AND_RECORD)


def _emergency_may_write(user, instance) -> bool:
    if isinstance(instance, Patient):
        return False
    if instance.pk is None:
        return True
    # The author as stored, not as the unsaved instance says.
    stored = type(instance)._default_manager.filter(pk=instance.pk)
    author = "uploaded_by_id" if hasattr(instance, "uploaded_by_id") else "created_by"
    return stored.filter(**{author: user.pk}).exists()


def chart_manage_check(*, acting_user, patient: Patient) -> None:
    """Who may change who opens a chart (its care teams): its carers with the right
    to change it; never an emergency grant, which would outlive itself."""
    chart_write_check(acting_user=acting_user, instance=patient)
    if chart_reach(acting_user, patient.pk) != REACH_CARE:
        raise PermissionDenied(E_EMERGENCY_READ_AND_RECORD)


def _manages_all_teams(user) -> bool:
    return user.is_superuser or user.has_perm("users.change_careteam")


def care_teams_assignable_by(user):
    """The teams `user` may place charts in: their own, or (administrators) all."""
    return CareTeam.objects.all() if _manages_all_teams(user) else care_teams_of(user)


def care_team_check(*, acting_user, team: CareTeam) -> None:
    """Clinicians assign charts to their own teams; administrators to any."""
    if _manages_all_teams(acting_user):
        return
    if not acting_user.groups.filter(pk=team.group_id).exists():
        raise PermissionDenied(E_NOT_YOUR_TEAM)


def registration_team_check(*, acting_user, team: CareTeam | None) -> None:
    """A clinician who registers a patient must place it in one of their teams
    (or they could not open the chart they just made)."""
    if team is None:
        if opens_every_chart(acting_user):
            return
        raise ServiceError({"care_teams": E_TEAM_REQUIRED}, code="team_required")
    care_team_check(acting_user=acting_user, team=team)


def team_permissions():
    """The permissions a care team's grant on a chart gives."""
    return Permission.objects.filter(
        content_type__app_label="patients", codename__in=TEAM_PERMISSIONS
    )


@transaction.atomic
def patient_assign_care_team(
    *, acting_user, patient: Patient, team: CareTeam, reason: str = ""
) -> None:
    chart_manage_check(acting_user=acting_user, patient=patient)
    _assign_care_team(
        acting_user=acting_user, patient=patient, team=team, reason=reason
    )


def _assign_care_team(*, acting_user, patient: Patient, team: CareTeam, reason: str):
    care_team_check(acting_user=acting_user, team=team)
    for permission in team_permissions():
        if PatientGroupObjectPermission.objects.filter(
            group_id=team.group_id, permission=permission, content_object=patient
        ).exists():
            continue
        grant = PatientGroupObjectPermission(
            group_id=team.group_id, permission=permission, content_object=patient
        )
        history_note(grant, user=acting_user, reason=reason or f"Assigned to {team}")
        grant.save()
        audit_object(
            action=Action.GRANT,
            actor=acting_user,
            obj=grant,
            details={"team_id": team.pk, "permission": permission.codename},
        )


@transaction.atomic
def patient_unassign_care_team(
    *, acting_user, patient: Patient, team: CareTeam, reason: str = ""
) -> None:
    chart_manage_check(acting_user=acting_user, patient=patient)
    _unassign_care_team(
        acting_user=acting_user, patient=patient, team=team, reason=reason
    )


def _unassign_care_team(*, acting_user, patient: Patient, team: CareTeam, reason: str):
    care_team_check(acting_user=acting_user, team=team)
    grants = PatientGroupObjectPermission.objects.filter(
        group_id=team.group_id, content_object=patient
    )
    _grants_revoke(
        acting_user=acting_user,
        team=team,
        grants=grants,
        reason=reason or f"Removed from {team}",
    )


def _grants_revoke(*, acting_user, team: CareTeam, grants, reason: str) -> None:
    """Take a team's grants away, each with its history and an audit event."""
    for grant in grants.select_related("permission"):
        history_note(grant, user=acting_user, reason=reason)
        audit_object(
            action=Action.REVOKE,
            actor=acting_user,
            obj=grant,
            details={"team_id": team.pk, "permission": grant.permission.codename},
        )
        grant.delete()


@transaction.atomic
def care_team_delete(*, acting_user, team: CareTeam, reason: str = "") -> None:
    """Close a care team: its chart grants go, its members leave (each with history
    and, for grants, an audit event), then the team and its group go. Deleting the
    team row alone would keep the group, and with it every member's access."""
    if not acting_user.has_perm("users.delete_careteam"):
        raise PermissionDenied
    reason = reason or f"Team {team.name} closed"
    grants = PatientGroupObjectPermission.objects.filter(group_id=team.group_id)
    _grants_revoke(acting_user=acting_user, team=team, grants=grants, reason=reason)
    care_team_set_members(acting_user=acting_user, team=team, members=[], reason=reason)
    group = team.group
    history_note(team, user=acting_user, reason=reason)
    team.delete()
    group.delete()


def patient_care_teams(patient: Patient):
    return CareTeam.objects.filter(
        group__patientgroupobjectpermission__content_object=patient
    ).distinct()


@transaction.atomic
def patient_set_care_teams(
    *, acting_user, patient: Patient, teams, reason: str = ""
) -> None:
    """Make `teams` the chart's teams, among those the acting user may manage: a
    clinician's choice leaves the chart's other teams as they are."""
    chart_manage_check(acting_user=acting_user, patient=patient)
    _set_care_teams(
        acting_user=acting_user, patient=patient, teams=teams, reason=reason
    )


def care_teams_register(*, acting_user, patient: Patient, teams, reason: str) -> None:
    """The first teams of a chart just registered by `acting_user` (who checked
    them with registration_team_check): nobody opens it yet, so no reach to ask."""
    _set_care_teams(
        acting_user=acting_user, patient=patient, teams=teams, reason=reason
    )


def _set_care_teams(*, acting_user, patient: Patient, teams, reason: str) -> None:
    wanted = {team.pk: team for team in teams}
    current = {team.pk: team for team in patient_care_teams(patient)}
    if current and not wanted and not _manages_all_teams(acting_user):
        own = set(care_teams_of(acting_user).values_list("pk", flat=True))
        if not current.keys() - own:
            # No clinician would open the chart again, its author included.
            raise ServiceError({"care_teams": E_LAST_TEAM}, code="last_team")
    if not _manages_all_teams(acting_user):
        own = set(care_teams_of(acting_user).values_list("pk", flat=True))
        current = {pk: team for pk, team in current.items() if pk in own}
    for pk in wanted.keys() - current.keys():
        _assign_care_team(
            acting_user=acting_user, patient=patient, team=wanted[pk], reason=reason
        )
    for pk in current.keys() - wanted.keys():
        _unassign_care_team(
            acting_user=acting_user, patient=patient, team=current[pk], reason=reason
        )


# --- break the glass ---------------------------------------------------------------


@transaction.atomic
def break_glass_open(*, acting_user, mrn: str, reason: str) -> BreakGlassGrant:
    """Grant emergency access to one chart, found by its exact MRN only, for
    BREAK_GLASS_HOURS. Expiry is checked whenever the chart is read: no job needed."""
    if not acting_user.has_perm("patients.add_breakglassgrant"):
        raise PermissionDenied(E_BREAK_GLASS_NOT_ALLOWED)
    reason = visible(reason)  # control characters are not a stated emergency
    if len(reason) < BREAK_GLASS_MIN_REASON:
        raise ServiceError({"reason": E_BREAK_GLASS_REASON}, code="reason")
    patient = Patient.objects.filter(mrn=validators.mrn_normalize(mrn)).first()
    if patient is None:
        raise ServiceError({"mrn": E_BREAK_GLASS_NOT_FOUND}, code="not_found")
    now = timezone.now()
    grant = BreakGlassGrant(
        user=acting_user,
        patient=patient,
        reason=reason,
        granted_at=now,
        expires_at=now + timedelta(hours=settings.BREAK_GLASS_HOURS),
    )
    grant.full_clean()  # the reason's length among the rest
    grant.save()
    audit_object(
        action=Action.BREAK_GLASS,
        actor=acting_user,
        obj=grant,
        details={"expires_at": grant.expires_at.isoformat()},
    )
    return grant


def break_glass_use_record(*, user, patient_id: int, action: str) -> None:
    """Record an opening of a chart that the user reaches only through a live grant."""
    # Every chart opening passes here: the live-grant lookup (indexed, and nearly
    # always empty) comes first; team membership is asked only when there is one.
    grant = (
        live_emergency_grants(user)
        .filter(patient_id=patient_id)
        .order_by("-expires_at")
        .first()
    )
    if grant is None or patients_by_team(user).filter(pk=patient_id).exists():
        return
    BreakGlassUse.objects.create(grant=grant, action=action)


def break_glass_acknowledge(
    *, acting_user, grant: BreakGlassGrant, note: str = ""
) -> BreakGlassGrant:
    """The auditor's review of a grant, with an optional note (kept on the
    grant; the audit event says only that there is one)."""
    if not acting_user.has_perm("patients.acknowledge_breakglassgrant"):
        raise PermissionDenied
    note = visible(note or "")[:BREAK_GLASS_NOTE_MAX]
    updated = BreakGlassGrant.objects.filter(
        pk=grant.pk, acknowledged_at__isnull=True
    ).update(
        acknowledged_by=acting_user, acknowledged_at=timezone.now(), review_note=note
    )
    if not updated:
        raise ServiceError(E_ALREADY_ACKNOWLEDGED)
    grant.refresh_from_db()
    audit_object(
        action=Action.UPDATE,
        actor=acting_user,
        obj=grant,
        summary=f"emergency access #{grant.pk} acknowledged",
        details={"note": bool(note)},
    )
    return grant
