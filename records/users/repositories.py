"""Reads of users that rules depend on."""

from django.db.models import QuerySet

from records.users import roles
from records.users.models import User

CLINICAL_ROLES = (roles.CLINICIAN, roles.ADMINISTRATOR)


def clinical_staff() -> QuerySet[User]:
    """Who may be named as an assessment's assessor or a visit's clinician:
    active clinicians and administrators."""
    return User.objects.filter(
        is_active=True,
        pk__in=User.objects.filter(groups__name__in=CLINICAL_ROLES).values("pk"),
    )


def clinicians() -> QuerySet[User]:
    """Whom the assessor and clinician pickers offer: active clinicians (an
    administrator may still be named, by an import or on a record already naming
    them, as clinical_staff allows)."""
    return User.objects.filter(
        is_active=True,
        pk__in=User.objects.filter(groups__name=roles.CLINICIAN).values("pk"),
    )
