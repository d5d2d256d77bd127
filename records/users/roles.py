"""Roles are groups with model permissions, defined here and kept in sync on migrate."""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission
from django.db import transaction

ADMINISTRATOR = "Administrator"
CLINICIAN = "Clinician"
DATA_MANAGER = "Data manager"
AUDITOR = "Auditor"
ROLES = (ADMINISTRATOR, CLINICIAN, DATA_MANAGER, AUDITOR)
# Roles that open every chart, whatever its care teams (view_all_patients).
ROLES_OPENING_EVERY_CHART = (ADMINISTRATOR, DATA_MANAGER, AUDITOR)

ALL = "__all__"
VIEW_ONLY = "__view__"

# The permission matrix. Apps that arrive later add their codenames here; a role's
# permissions are replaced by this definition on every migrate.
CHART_MODELS = (
    "patients.patient",
    "patients.assessment",
    "patients.mediafile",
    "clinical_records.clinicalrecord",
)


def _perms(actions: tuple[str, ...], models: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(
        f"{model.split('.')[0]}.{action}_{model.split('.')[1]}"
        for model in models
        for action in actions
    )


ROLE_PERMISSIONS: dict[str, str | tuple[str, ...]] = {
    ADMINISTRATOR: ALL,
    # Clinical work on their care teams' charts; emergency access to others.
    CLINICIAN: _perms(("view", "add", "change"), CHART_MODELS)
    + ("patients.add_breakglassgrant",),
    # Reads every chart to import and export; signs nothing off.
    DATA_MANAGER: _perms(("view",), CHART_MODELS)
    + (
        "patients.view_all_patients",
        "imports.import_records",
        "imports.export_records",
        "imports.view_importjob",
        "imports.view_exportjob",
    ),
    # Every view_* permission (every chart included); acknowledges emergency access.
    AUDITOR: (VIEW_ONLY, "patients.acknowledge_breakglassgrant"),
}

# What each role allows, in the words the roles page shows (keep in step with
# ROLE_PERMISSIONS above).
ROLE_SUMMARIES: dict[str, tuple[str, ...]] = {
    ADMINISTRATOR: (
        "Everything in NDAS: every chart, imports and exports, the audit trail.",
        "Adds users, gives them a role and care teams, unlocks accounts and "
        "resets second factors.",
        "Creates care teams and chooses their members.",
    ),
    CLINICIAN: (
        "Opens the charts of their care teams' children: patients, visits, "
        "assessments and media.",
        "Adds and changes patients, visits, assessments and media on those charts.",
        "May open another child's chart in an emergency, with a reason that "
        "auditors review.",
    ),
    DATA_MANAGER: (
        "Reads every chart (without changing it).",
        "Imports spreadsheets of records and exports data sets.",
    ),
    AUDITOR: (
        "Reads everything (every chart, the audit trail, sign-in events), "
        "changes nothing.",
        "Reviews and acknowledges emergency access to charts.",
    ),
}


def _permissions_for(spec: str | tuple[str, ...]):
    if spec == ALL:
        return Permission.objects.all()
    ids = []
    for code in spec:
        if code == VIEW_ONLY:
            ids += Permission.objects.filter(codename__startswith="view_").values_list(
                "pk", flat=True
            )
            continue
        app, codename = code.split(".", 1)
        ids.append(
            Permission.objects.get(content_type__app_label=app, codename=codename).pk
        )
    return Permission.objects.filter(pk__in=ids)


@transaction.atomic
def role_permissions_sync() -> None:
    """Create any missing role group and set each one's permissions to the matrix."""
    for role in ROLES:
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set(_permissions_for(ROLE_PERMISSIONS[role]))


def role_permissions_sync_receiver(*, apps=global_apps, using="default", **kwargs):
    """post_migrate: permissions only exist once every app has been migrated."""
    for app_config in global_apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using, apps=apps)
    role_permissions_sync()
