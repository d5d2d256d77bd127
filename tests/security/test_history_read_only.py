"""History pages show past versions and never write one back: simple-history's
"revert" saved the posted form for anyone who could view the history (an auditor
made themselves superuser), past the services' checks and audit."""

import pytest
from django.contrib import admin
from django.urls import reverse
from simple_history.admin import SimpleHistoryAdmin

from admin_ext.admin.history import ReadOnlyHistoryMixin
from records.users.models import User
from tests.helpers import client_for

pytestmark = pytest.mark.django_db


def test_every_history_admin_is_read_only():
    admins = [
        a for a in admin.site._registry.values() if isinstance(a, SimpleHistoryAdmin)
    ]
    assert len(admins) >= 5
    for model_admin in admins:
        assert isinstance(model_admin, ReadOnlyHistoryMixin), model_admin
        assert type(model_admin).__mro__.index(ReadOnlyHistoryMixin) < type(
            model_admin
        ).__mro__.index(SimpleHistoryAdmin)


def _version_url(obj) -> str:
    opts = obj._meta
    version = obj.history.order_by("-history_id").first()
    return reverse(
        f"admin:{opts.app_label}_{opts.model_name}_simple_history",
        args=[obj.pk, version.history_id],
    )


def test_an_auditor_cannot_revert_a_user_to_make_a_superuser(world):
    auditor = world.users["auditor"]
    client = client_for(auditor)
    url = _version_url(auditor)
    assert client.get(url).status_code == 200  # reading a past version
    response = client.post(url, {"is_superuser": "on", "change_reason": "revert"})
    assert response.status_code == 403
    auditor.refresh_from_db()
    assert not auditor.is_superuser


@pytest.mark.parametrize("name", ["patient", "assessment", "visit", "media"])
def test_no_chart_record_is_reverted_even_by_an_administrator(world, name):
    obj = getattr(world, name)
    client = client_for(world.users["administrator"])
    url = _version_url(obj)
    assert client.get(url).status_code == 200
    version = type(obj).objects.get(pk=obj.pk).version if hasattr(obj, "version") else 0
    assert client.post(url, {"change_reason": "revert"}).status_code == 403
    if version:
        assert type(obj).objects.get(pk=obj.pk).version == version


def test_the_page_offers_no_revert(world):
    client = client_for(world.users["administrator"])
    page = client.get(_version_url(User.objects.get(username="chief")))
    assert page.context["revert_disabled"] is True
