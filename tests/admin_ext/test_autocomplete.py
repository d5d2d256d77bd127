"""The patient autocomplete is asked by POST: what is typed (part of a name, an
MRN) never reaches an address. Only charts the user may open are offered."""

import re

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse
from unfold.admin import ModelAdmin

from admin_ext.admin import autocomplete
from records.users.models import User
from tests import factories

pytestmark = pytest.mark.django_db

QUERY = {"app_label": "patients", "model_name": "assessment", "field_name": "patient"}


@pytest.fixture
def clinician():
    return factories.clinician()


@pytest.fixture
def charts(clinician):
    mine = factories.patient(acting_user=clinician, family_name="Quennard")
    theirs = factories.patient(
        acting_user=factories.clinician(), family_name="Quennell"
    )
    return mine, theirs


def test_a_posted_term_finds_the_users_own_charts_only(clinician, charts):
    mine, _ = charts
    client = Client()
    client.force_login(clinician)

    response = client.post(reverse("admin:autocomplete"), {**QUERY, "term": "Quenn"})

    assert response.status_code == 200
    assert [r["id"] for r in response.json()["results"]] == [str(mine.pk)]


def test_a_term_in_the_address_is_refused(clinician, charts):
    client = Client()
    client.force_login(clinician)

    response = client.get(reverse("admin:autocomplete"), {**QUERY, "term": "Quenn"})

    assert response.status_code == 405
    assert b"Quenn" not in response.content


def test_a_post_needs_the_pages_csrf_token(clinician, charts):
    client = Client(enforce_csrf_checks=True)
    client.force_login(clinician)
    url = reverse("admin:autocomplete")
    assert client.post(url, {**QUERY, "term": "Quenn"}).status_code == 403

    page = client.get(reverse("admin:patients_assessment_add")).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    response = client.post(url, {**QUERY, "term": "Quenn"}, HTTP_X_CSRFTOKEN=token)

    assert response.status_code == 200
    assert len(response.json()["results"]) == 1


def test_the_patient_field_posts_with_the_token_script(clinician):
    client = Client()
    client.force_login(clinician)

    page = client.get(reverse("admin:patients_assessment_add")).content.decode()

    field = re.search(r"<select[^>]*name=\"patient\"[^>]*>", page).group(0)
    assert 'data-ajax--type="POST"' in field
    assert "admin_ext/autocomplete" in page  # sends the CSRF token with it


def test_every_autocomplete_of_the_admin_posts(rf, clinician):
    """The view answers POSTs only: a picker that asked by GET would be broken.
    Every admin and inline, foreign keys and many-to-many fields alike."""
    request = rf.get("/")
    request.user = clinician
    checked = 0
    for model, model_admin in admin.site._registry.items():
        for admin_ in [model_admin, *model_admin.get_inline_instances(request)]:
            for name in admin_.get_autocomplete_fields(request):
                field = admin_.model._meta.get_field(name)
                formfield = admin_.formfield_for_dbfield(field, request)
                widget = getattr(formfield.widget, "widget", formfield.widget)
                assert isinstance(widget, autocomplete._Posted), (admin_, name)
                checked += 1
    assert checked >= 3  # assessments, visits and media files name a patient


def test_any_admin_with_the_mixin_posts_many_to_many_too(rf, clinician):
    class TeamsAdmin(autocomplete.PostedAutocompleteMixin, ModelAdmin):
        autocomplete_fields = ["groups"]

    request = rf.get("/")
    request.user = clinician
    model_admin = TeamsAdmin(User, admin.site)
    field = User._meta.get_field("groups")
    widget = model_admin.formfield_for_dbfield(field, request).widget
    assert isinstance(getattr(widget, "widget", widget), autocomplete._Posted)
