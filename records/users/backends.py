"""A user's permissions read in one query, for Django's ModelBackend.

Every page asks what its user may do, and Django's ModelBackend answers the first
question of a request with two queries (the user's own permissions, then their
roles'), each built by the ORM afresh. This backend, listed just before it, reads
both in one statement written once and keeps them where ModelBackend keeps them
(`user._perm_cache`), so that ModelBackend, asked next, finds them read.

It answers nothing else: sign-in, the session's user, superusers (all
permissions, Django's query), inactive and anonymous users (none) and object
permissions (django-guardian's) stay with the backends that answered them, and
sessions keep naming ModelBackend as the one that signed them in.
"""

from functools import cache

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection


@cache
def _all_permissions_sql() -> str:
    """The user's own permissions and their roles', as (app label, codename)."""
    user_model = get_user_model()
    own = user_model.user_permissions.field
    roles = user_model.groups.field
    granted = Permission.group_set.field  # a role's permissions
    return (
        f"SELECT ct.app_label, p.codename FROM {Permission._meta.db_table} p "
        f"JOIN {ContentType._meta.db_table} ct ON ct.id = p.content_type_id "
        f"WHERE p.id IN ("
        f"SELECT {own.m2m_reverse_name()} FROM {own.m2m_db_table()} "
        f"WHERE {own.m2m_column_name()} = %s "
        f"UNION SELECT g.{granted.m2m_reverse_name()} FROM {granted.m2m_db_table()} g "
        f"JOIN {roles.m2m_db_table()} r "
        f"ON r.{roles.m2m_reverse_name()} = g.{granted.m2m_column_name()} "
        f"WHERE r.{roles.m2m_column_name()} = %s)"
    )


class PermissionsBackend:
    """It signs no one in (`login()` records the backend that authenticated,
    ModelBackend) and has no `get_user`, so Django's test client's force_login,
    which takes the first backend with one, skips it too."""

    def authenticate(self, request, **credentials):
        return None  # signing in is ModelBackend's

    def get_all_permissions(self, user_obj, obj=None) -> set[str]:
        if (
            obj is not None
            or not user_obj.is_active
            or user_obj.is_anonymous
            or user_obj.is_superuser  # ModelBackend's: every permission there is
        ):
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            with connection.cursor() as cursor:
                cursor.execute(_all_permissions_sql(), [user_obj.pk, user_obj.pk])
                user_obj._perm_cache = {f"{app}.{code}" for app, code in cursor}
        return user_obj._perm_cache

    def has_perm(self, user_obj, perm: str, obj=None) -> bool:
        return perm in self.get_all_permissions(user_obj, obj)
