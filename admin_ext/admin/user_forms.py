"""The user page's forms in the clinic's words: one role, care teams apart, no raw
permissions or superuser (superusers are made by `createsuperuser`)."""

from django import forms
from django.contrib.auth.forms import UserChangeForm as BaseUserChangeForm
from django.contrib.auth.models import Group
from unfold.forms import UserCreationForm
from unfold.widgets import (
    UnfoldAdminCheckboxSelectMultipleWidget,
    UnfoldAdminSelectWidget,
)

from admin_ext.admin.shared import reason_field
from records.users import roles
from records.users.models import CareTeam

HELP_ACTIVE = (
    "Untick when someone leaves: they can no longer sign in, and their name stays "
    "on everything they recorded."
)
HELP_ROLE = "What this person may do in NDAS (the Roles page says what each allows)."
HELP_TEAMS = "Clinicians open the charts of their care teams' children."
HELP_FIRST_PASSWORD = (
    "A first password for this person: at least 12 characters, not a common "
    "password and not close to their name or username. Give it to them in person "
    "or by phone, never by email."
)
HELP_USERNAME = (
    "What they type to sign in: letters, digits and @ . + - _ only, no spaces."
)
NO_ROLE = "No role (can sign in, but open nothing)"


def role_groups():
    return Group.objects.filter(name__in=roles.ROLES).order_by("name")


def team_groups():
    return Group.objects.filter(care_team__isnull=False)


class UserForm(BaseUserChangeForm):
    role = forms.ModelChoiceField(
        queryset=role_groups(),
        required=False,
        empty_label=NO_ROLE,
        widget=UnfoldAdminSelectWidget,
        help_text=HELP_ROLE,
    )
    care_teams = forms.ModelMultipleChoiceField(
        label="Care teams",
        queryset=CareTeam.objects.all(),
        required=False,
        widget=UnfoldAdminCheckboxSelectMultipleWidget,
        help_text=HELP_TEAMS,
    )
    change_reason = reason_field(help_text="Kept in the account's history.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "is_active" in self.fields:
            self.fields["is_active"].label = "Active"
            self.fields["is_active"].help_text = HELP_ACTIVE
        if "email" in self.fields:
            self.fields["email"].label = "Email"
        if "username" in self.fields:
            self.fields["username"].help_text = HELP_USERNAME
        user = self.instance
        if user.pk:
            self.fields["role"].initial = (
                role_groups().filter(user=user).values_list("pk", flat=True).first()
            )
            self.fields["care_teams"].initial = list(
                CareTeam.objects.filter(group__user=user).values_list("pk", flat=True)
            )

    def groups_wanted(self) -> set[int]:
        """The user's groups after this form: the role and teams chosen, and any
        other group they were in (kept as it was)."""
        role = self.cleaned_data.get("role")
        teams = self.cleaned_data.get("care_teams") or []
        managed = set(role_groups().values_list("pk", flat=True)) | set(
            team_groups().values_list("pk", flat=True)
        )
        current = set(self.instance.groups.values_list("pk", flat=True))
        wanted = {team.group_id for team in teams}
        if role is not None:
            wanted.add(role.pk)
        return (current - managed) | wanted


class UserAddForm(UserCreationForm):
    """New users sign in with a password: no 'Password-based authentication'
    choice (NDAS has no single sign-on), and the rules said in a sentence."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.pop("usable_password", None)
        self.fields["username"].help_text = HELP_USERNAME
        self.fields["password1"].label = "First password"
        self.fields["password1"].help_text = HELP_FIRST_PASSWORD
        self.fields["password2"].label = "First password again"
        self.fields["password2"].help_text = ""

    def save(self, commit=True):
        # Every NDAS account is back-office staff: the admin is the whole site.
        self.instance.is_staff = True
        return super().save(commit=commit)
