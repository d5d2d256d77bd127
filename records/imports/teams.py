"""The care team new patients of an import join, or the explicit choice of none.

A chart in no care team is open to no clinician: only administrators, data
managers and auditors (who open every chart) see it. An import never makes such
charts unless its user said so, on every path (the upload page, import_records,
the Resource API), because the rule is kept here and applied in the service.
"""

from django.core.exceptions import PermissionDenied

from records.imports.models import Entity
from records.patients.repositories import opens_every_chart
from records.patients.services.access import (
    E_NOT_YOUR_TEAM,
    care_teams_assignable_by,
)
from records.users.models import CareTeam

NO_TEAM_LABEL = "No team: only administrators, data managers and auditors will see them"
E_TEAM_CHOICE = (
    "New patients in this file: {count}. They would be in no care team, and no "
    "clinician could open their charts: choose the care team new patients join, "
    "or choose no team "
    "(only administrators, data managers and auditors will see them)."
)
E_TEAM_REQUIRED = (
    "Choose the care team new patients join, or no team (only administrators, "
    "data managers and auditors will see them)."
)


def import_care_teams(user):
    """The teams `user` may put imported patients in: any, for one who opens
    every chart (as importing needs: services.import_allowed), since no team's
    charts are beyond them; otherwise the teams they may place charts in. The
    team named is in the import's audit event and in each grant's history."""
    if opens_every_chart(user):
        return CareTeam.objects.order_by("name")
    return care_teams_assignable_by(user)


def import_team_check(*, acting_user, team: CareTeam) -> None:
    """Refuses a team the importer may not put new patients in."""
    if not import_care_teams(acting_user).filter(pk=team.pk).exists():
        raise PermissionDenied(E_NOT_YOUR_TEAM)


def new_patients_team_refused(job, outcome, no_care_team: bool) -> bool:
    """Whether `outcome` (of `job`) would make patients in no care team that its
    user did not choose so: the import's error then, and nothing is written."""
    if job.entity != Entity.PATIENTS or job.care_team_id or no_care_team:
        return False
    if not outcome.new:
        return False
    outcome.error(1, "", "", E_TEAM_CHOICE.format(count=f"{outcome.new:,}"))
    return True


def team_refused(job) -> bool:
    """Whether `job` was refused for making patients in no care team unasked."""
    suffix = E_TEAM_CHOICE.split("{count}")[1]
    return any(error["message"].endswith(suffix) for error in job.errors)
