"""model_update writes only whitelisted, changed fields, after validation."""

import pytest
from django.core.exceptions import ValidationError

from records.common.services import model_update
from records.users.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def user(make_user):
    return make_user("update-me", first_name="Ada")


def test_changes_whitelisted_fields_and_reports_it(user):
    _, changed = model_update(
        instance=user, fields=["first_name"], data={"first_name": "Grace"}
    )
    assert changed
    assert User.objects.get(pk=user.pk).first_name == "Grace"


def test_ignores_fields_outside_the_whitelist(user):
    _, changed = model_update(
        instance=user,
        fields=["first_name"],
        data={"first_name": "Ada", "is_superuser": True},
    )
    assert not changed
    assert User.objects.get(pk=user.pk).is_superuser is False


def test_validates_before_saving(user):
    with pytest.raises(ValidationError):
        model_update(instance=user, fields=["email"], data={"email": "not-an-email"})
    assert User.objects.get(pk=user.pk).email == ""


def test_save_false_leaves_the_database_alone(user):
    instance, changed = model_update(
        instance=user, fields=["last_name"], data={"last_name": "Lovelace"}, save=False
    )
    assert changed and instance.last_name == "Lovelace"
    assert User.objects.get(pk=user.pk).last_name == ""
