"""unfold callbacks: the environment badge and the dashboard's figures."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Q
from django.http import HttpRequest
from django.utils import timezone

from admin_ext.admin.counts import figure_text
from admin_ext.dashboard_panels import role_panels

from records.clinical_records.repositories import clinical_records_visible_to
from records.patients.models import PatientStatus
from records.patients.repositories import assessments_visible_to, patients_visible_to
from records.users import roles
from records.users.models import User

RECENT_SIGN_INS = 10

BADGE_COLOURS = {"production": "danger", "staging": "warning"}


def environment_callback(request: HttpRequest) -> list[str]:
    """[label, colour] of the header badge, from NDAS_ENVIRONMENT."""
    name = settings.NDAS_ENVIRONMENT
    return [name.capitalize(), BADGE_COLOURS.get(name.lower(), "info")]


def users_by_role() -> list[dict]:
    """Active users in each role, in the order the roles are defined (one query)."""
    counts = dict(
        User.objects.filter(is_active=True, groups__name__in=roles.ROLES)
        .values_list("groups__name")
        .annotate(n=Count("id", distinct=True))
    )
    return [{"role": role, "count": counts.get(role, 0)} for role in roles.ROLES]


def recent_sign_ins(limit: int = RECENT_SIGN_INS) -> list[User]:
    return list(
        User.objects.filter(last_login__isnull=False)
        .only(
            "username",
            "first_name",
            "last_name",
            "last_login",
            "last_login_ip",
            "last_login_device",
        )
        .order_by("-last_login")[:limit]
    )


def chart_figures(user) -> dict[str, str]:
    """What the dashboard counts of charts: only what this user may open, exact
    up to a thousand and estimated beyond (no COUNT of a large table: counting
    a million charts cost a quarter of a second a page)."""
    since = timezone.localdate() - timedelta(days=30)
    return {
        "patients": figure_text(
            patients_visible_to(user).filter(status=PatientStatus.ACTIVE)
        ),
        "assessments": figure_text(
            assessments_visible_to(user).filter(performed_on__gte=since)
        ),
        "visits": figure_text(
            clinical_records_visible_to(user).filter(visit_date__gte=since)
        ),
    }


def roles_held(user) -> set[str]:
    return set(user.groups.filter(name__in=roles.ROLES).values_list("name", flat=True))


def dashboard_callback(request: HttpRequest, context: dict) -> dict:
    if request.user.has_perm("patients.view_patient"):
        context["chart_figures"] = chart_figures(request.user)
    # The lists fitted to each role the user holds (admin_ext/dashboard_panels.py).
    context["panels"] = role_panels(request.user, roles_held(request.user))
    if not request.user.has_perm("users.view_user"):
        return context
    totals = User.objects.aggregate(
        active=Count("id", filter=Q(is_active=True)),
        inactive=Count("id", filter=Q(is_active=False)),
    )
    context.update(
        {
            "user_totals": totals,
            "users_by_role": users_by_role(),
            "recent_sign_ins": recent_sign_ins(),
        }
    )
    return context
