"""Reads of patient charts. Every query for patient data starts from what the user may
see (`patients_visible_to`); no other module filters patients by access.
(One module past 400 lines: access is decided here alone, with the reads built on it.)
"""

from dataclasses import dataclass
from datetime import date, datetime

from django.contrib.postgres.search import TrigramSimilarity
from django.db import connection
from django.db.models import (
    BooleanField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Value,
)
from django.db.models.functions import Concat
from django.utils import timezone
from django.utils.formats import get_format

from records.common.context import request_memo_var
from records.common.search import search_bound
from records.patients import validators
from records.patients.models import (
    Assessment,
    BreakGlassGrant,
    MediaFile,
    NotSameChild,
    Patient,
    PatientGroupObjectPermission,
    PatientUserObjectPermission,
)
from records.users.models import User
from records.users.roles import ROLES_OPENING_EVERY_CHART

DUPLICATE_NAME_THRESHOLD = 0.45
DUPLICATE_LIMIT = 10


@dataclass(frozen=True)
class _Grants:
    """What a clinician's access is made of, read in one round trip: their groups
    (roles and care teams), the id of view_patient, and the charts granted to
    them alone (live emergency grants; django-guardian's per-user grants, which
    NDAS's services make none of but guardian honours)."""

    group_ids: list[int]
    view_permission_id: int
    own_chart_ids: list[int]


_GRANTS_SQL = """
SELECT ARRAY(SELECT group_id FROM {user_groups} WHERE user_id = %(user)s),
       p.id,
       ARRAY(SELECT patient_id FROM {emergency}
             WHERE user_id = %(user)s AND expires_at > %(now)s
             UNION
             SELECT content_object_id FROM {user_grants}
             WHERE user_id = %(user)s AND permission_id = p.id)
FROM auth_permission p JOIN django_content_type ct ON ct.id = p.content_type_id
WHERE ct.app_label = 'patients' AND p.codename = 'view_patient'
"""


def _grants_of(user) -> _Grants:
    """The user's grants, read once per GET request (records.common.context): a
    chart page asks for them for the chart and for each of its tabs."""
    memo = request_memo_var.get()
    key = ("chart grants", user.pk)
    if memo is not None and key in memo:
        return memo[key]
    sql = _GRANTS_SQL.format(
        user_groups=User.groups.through._meta.db_table,
        emergency=BreakGlassGrant._meta.db_table,
        user_grants=PatientUserObjectPermission._meta.db_table,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, {"user": user.pk, "now": timezone.now()})
        groups, permission, own = cursor.fetchone()
    grants = _Grants(sorted(groups), permission, sorted(own))
    if memo is not None:
        memo[key] = grants
    return grants


def _team_grants(grants: _Grants, chart: OuterRef) -> Exists:
    """A grant to one of the user's groups (care teams) on the chart `chart`
    names. The groups and permission go as values, not subqueries: PostgreSQL
    then knows how many charts each team holds, and plans accordingly."""
    return Exists(
        PatientGroupObjectPermission.objects.filter(
            content_object_id=chart,
            permission_id=grants.view_permission_id,
            group_id__in=grants.group_ids,
        )
    )


def _team_reach(grants: _Grants, chart: str) -> Q:
    condition = Q(_team_grants(grants, OuterRef(chart)))
    if grants.own_chart_ids:
        condition |= Q(**{f"{chart}__in": grants.own_chart_ids})
    return condition


def chart_access_filter(user, chart: str = "pk") -> Q | None:
    """The condition on rows whose chart (the field `chart` names: "pk" on
    patients, "patient_id" on their records) the user may open; Q() for every
    chart, None for none. The single place where access is decided.

    Administrators, data managers and auditors open every chart (view_all_patients);
    clinicians those of their care teams (django-guardian's group grants), and any
    chart they hold a live emergency grant for (its expiry checked now, at query
    time) or a per-user guardian grant.

    The teams' grants are one EXISTS on an indexed table, never `id IN (SELECT
    ...)` over the table: PostgreSQL may walk the list's index in its order,
    testing each row's grant (a clinician who sees most charts), or start from
    the grants (one who sees few).
    """
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    if opens_every_chart(user):
        return Q()
    if not user.has_perm("patients.view_patient"):
        return None
    return _team_reach(_grants_of(user), chart)


def _visible(model, user, chart: str) -> QuerySet:
    condition = chart_access_filter(user, chart)
    if condition is None:
        return model.objects.none()
    return model.objects.filter(condition)


def patients_by_team(user) -> QuerySet[Patient]:
    """Charts assigned to one of the user's care teams (django-guardian grants)."""
    return Patient.objects.filter(_team_grants(_grants_of(user), OuterRef("pk")))


def patients_visible_to(user) -> QuerySet[Patient]:
    """The charts this user may open (see chart_access_filter)."""
    return _visible(Patient, user, "pk")


def live_emergency_grants(user) -> QuerySet[BreakGlassGrant]:
    """The user's emergency grants that have not lapsed, checked now."""
    return BreakGlassGrant.objects.filter(user=user, expires_at__gt=timezone.now())


# How a user reaches a chart: as one of its carers (every chart, or their care
# team's), or only through a live emergency grant.
REACH_CARE = "care"
REACH_EMERGENCY = "emergency"


def chart_reach(user, patient_id: int) -> str | None:
    """REACH_CARE, REACH_EMERGENCY, or None when the user may not open the chart.

    Emergency access is a time-limited grant to read and record; whatever would
    change who may open the chart, or the chart itself, needs REACH_CARE."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    if opens_every_chart(user):
        return REACH_CARE
    if not user.has_perm("patients.view_patient"):
        return None
    if patients_by_team(user).filter(pk=patient_id).exists():
        return REACH_CARE
    if live_emergency_grants(user).filter(patient_id=patient_id).exists():
        return REACH_EMERGENCY
    return None


def opens_every_chart(user) -> bool:
    """Whether the user may open every chart, deleted ones' history included."""
    return user.is_superuser or user.has_perm("patients.view_all_patients")


def assessments_visible_to(user) -> QuerySet[Assessment]:
    return _visible(Assessment, user, "patient_id")


def media_visible_to(user) -> QuerySet[MediaFile]:
    return _visible(MediaFile, user, "patient_id")


def records_visible_to(model, user) -> QuerySet:
    """Rows of any model of a chart (a `patient` foreign key) the user may open."""
    return _visible(model, user, "patient_id")


def media_of_assessment(assessment: Assessment) -> list[MediaFile]:
    """The media of an assessment the caller already obtained through this module:
    media inherit the chart's access, so no further check applies."""
    return list(assessment.media_files.order_by("-uploaded_at", "-pk"))


def patient_get(*, user, pk) -> Patient:
    """One chart, or Patient.DoesNotExist when it does not exist *or* is not visible."""
    return patients_visible_to(user).get(pk=pk)


def media_get(*, user, pk) -> MediaFile:
    return media_visible_to(user).select_related("patient").get(pk=pk)


def _parse_date(text: str) -> date | None:
    """A search typed as a date, in any format the forms take (17/05/2023,
    2023-05-17, 17 May 2023...): the clinic's DATE_INPUT_FORMATS.

    Deliberately not records.imports.entities._date, the other date parser: a
    search takes what a person types in a form (month names too) and is no date
    when none fits, while an import file's cell takes a fixed, locale-free set
    (ISO, or DD/MM/YYYY with / . -) and is refused with a reason (issue #14)."""
    for fmt in get_format("DATE_INPUT_FORMATS"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def patient_search_ranks(query: str) -> bool:
    """Whether patient_search ranks the matches of `query` (a name or MRN search;
    a date of birth, or nothing, is not ranked)."""
    query = search_bound(query).text
    return bool(query) and _parse_date(query) is None


def patient_search(
    *, user, query: str, queryset: QuerySet | None = None, ranked: bool = True
) -> QuerySet:
    """Find charts by exact MRN, date of birth, name prefix or similar-looking name.

    A date finds by date of birth. Anything else matches an MRN exactly, or the
    charts where every word of the query starts a given, family or preferred name
    or looks like a given or family name (trigram similarity, so that 'Smiht'
    finds Smith); a word that is a date asks for that date of birth. So each word
    narrows the search: 'Harris Oliver' finds the Olivers named Harris.

    Ranked, the closest names come first. Ranking reads every match (a common
    name's first letters match 20,000 of a million charts): `ranked=False` lists
    them newest chart first, for a caller that knows they are many (the patient
    list ranks up to a thousand). By id, not by name: walking the primary key,
    PostgreSQL meets a name's charts evenly and stops after a page of them; in
    name order it read 750,000 charts before the first 'Rich...' (2.5 s).
    """
    base = patients_visible_to(user) if queryset is None else queryset
    query = search_bound(query).text
    if not query:
        return base
    born = _parse_date(query)
    if born:
        return base.filter(date_of_birth=born)
    exact_mrn = Q(mrn=validators.mrn_normalize(query))
    names = []
    every_word = Q()
    for word in query.split(" "):
        on = _parse_date(word)
        if on:
            every_word &= Q(date_of_birth=on)
            continue
        if not any(character.isalnum() for character in word):
            # No name holds a word of punctuation alone ('%', '-'), and no index
            # answers one (it has no trigrams: PostgreSQL read every chart).
            return base.filter(exact_mrn).order_by("-pk")
        names.append(word)
        # ILIKE 'word%' and the % operator: both answered from the trigram GIN
        # indexes.
        every_word &= (
            Q(family_name__iprefix=word)
            | Q(given_name__iprefix=word)
            | Q(preferred_name__iprefix=word)
            | Q(family_name__trigram_similar=word)
            | Q(given_name__trigram_similar=word)
        )
    matches = base.filter(exact_mrn | every_word)
    if not ranked:
        return matches.order_by("-pk")
    return matches.annotate(
        similarity=TrigramSimilarity(
            Concat("given_name", Value(" "), "family_name"), " ".join(names) or query
        )
    ).order_by(F("similarity").desc(), "family_name", "given_name", "pk")


def patient_duplicates(
    *,
    user,
    date_of_birth: date | None,
    given_name: str,
    family_name: str,
    guardian_phone: str = "",
    exclude_pk: int | None = None,
) -> list[Patient]:
    """Likely duplicates of a registration: the same date of birth and a similar
    name. A warning for staff, never a refusal.

    A shared guardian phone alone is a sibling, not a duplicate: it only says
    more about a match (each result's `same_phone`). Charts marked "not the same
    child" as `exclude_pk` (twins, say) are left out, for everyone.
    """
    name = f"{given_name} {family_name}".strip()
    if not (date_of_birth and name):
        return []
    candidates = (
        patients_visible_to(user)
        .filter(date_of_birth=date_of_birth)
        .annotate(
            name_similarity=TrigramSimilarity(
                Concat("given_name", Value(" "), "family_name"), name
            ),
            same_phone=(
                ExpressionWrapper(
                    Q(guardian_phone=guardian_phone), output_field=BooleanField()
                )
                if guardian_phone
                else Value(False, output_field=BooleanField())
            ),
        )
        .filter(name_similarity__gte=DUPLICATE_NAME_THRESHOLD)
    )
    if exclude_pk:
        marked = NotSameChild.objects.filter(
            Q(first_id=exclude_pk, second_id=OuterRef("pk"))
            | Q(first_id=OuterRef("pk"), second_id=exclude_pk)
        )
        candidates = candidates.exclude(pk=exclude_pk).exclude(Exists(marked))
    return list(
        candidates.order_by("-same_phone", "-name_similarity", "pk")[:DUPLICATE_LIMIT]
    )


# --- who could open a chart, on a past date -----------------------------------------


@dataclass(frozen=True)
class ChartAccess:
    user_id: int
    username: str
    reasons: tuple[str, ...]


def patient_access_at(*, patient: Patient, at: datetime) -> list[ChartAccess]:
    """Everyone who could open this chart at `at`, and why, from history alone:
    roles and care-team memberships (user history), the chart's team assignments
    (grant history) and emergency grants live at that moment."""
    from django.contrib.auth.models import Group

    user_history = User.history.model
    latest_users = (
        user_history.objects.filter(history_date__lte=at)
        .order_by("id", "-history_date", "-history_id")
        .distinct("id")
        .values("history_id")
    )
    users = list(
        user_history.objects.filter(history_id__in=latest_users).exclude(
            history_type="-"
        )
    )
    # The group memberships each of those history rows recorded.
    memberships = user_history._meta.get_field("historicaluser_groups").related_model
    held_by: dict[int, set[int]] = {}
    for history_id, group_id in memberships.objects.filter(
        history_id__in=[record.history_id for record in users]
    ).values_list("history_id", "group_id"):
        held_by.setdefault(history_id, set()).add(group_id)
    grant_history = PatientGroupObjectPermission.history.model
    latest_grants = (
        grant_history.objects.filter(
            content_object_id=patient.pk,
            permission__codename="view_patient",
            history_date__lte=at,
        )
        .order_by("group_id", "-history_date", "-history_id")
        .distinct("group_id")
    )
    teams = {row.group_id for row in latest_grants if row.history_type != "-"}
    groups = dict(Group.objects.values_list("pk", "name"))
    wide_roles = {
        pk for pk, name in groups.items() if name in ROLES_OPENING_EVERY_CHART
    }
    emergency = set(
        BreakGlassGrant.objects.filter(
            patient=patient, granted_at__lte=at, expires_at__gt=at
        ).values_list("user_id", flat=True)
    )
    result = []
    for record in users:
        if not record.is_active:
            continue
        held = held_by.get(record.history_id, set())
        reasons = []
        if record.is_superuser:
            reasons.append("superuser")
        reasons += [f"role: {groups[pk]}" for pk in sorted(held & wide_roles)]
        reasons += [f"care team: {groups[pk]}" for pk in sorted(held & teams)]
        if record.id in emergency:
            reasons.append("emergency access")
        if reasons:
            result.append(ChartAccess(record.id, record.username, tuple(reasons)))
    return sorted(result, key=lambda entry: entry.username)
