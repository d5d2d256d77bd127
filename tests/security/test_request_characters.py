"""A NUL in any field of a request is refused as a bad request (400), never a
server error: every list's filters, ordering and ids included."""

import pytest
from django.urls import reverse

from tests.helpers import client_for

pytestmark = pytest.mark.django_db

FILTERED = [
    ("audit_auditevent", "actor_username__icontains"),
    ("audit_auditevent", "ip__icontains"),
    ("audit_auditevent", "action__exact"),
    ("users_loginevent", "ip__icontains"),
    ("imports_importjob", "entity__exact"),
    ("imports_exportjob", "entity__exact"),
    ("patients_patient", "status__exact"),
    ("patients_patient", "o"),
]


@pytest.mark.parametrize("name, parameter", FILTERED)
def test_a_nul_in_a_filter_is_a_bad_request(world, name, parameter):
    client = client_for(world.users["superuser"])
    client.raise_request_exception = False
    url = reverse(f"admin:{name}_changelist")
    response = client.get(url, {parameter: "a\x00b"})
    assert response.status_code == 400
    assert "cannot read this request" in response.content.decode()
    assert client.get(url, {parameter: "ab"}).status_code in (200, 302)


def test_a_nul_in_a_posted_action_is_a_bad_request(world):
    client = client_for(world.users["auditor"])
    client.raise_request_exception = False
    response = client.post(
        reverse("admin:patients_breakglassgrant_changelist"),
        {"action": "acknowledge", "_selected_action": ["1\x00"]},
    )
    assert response.status_code == 400


def test_no_patient_list_filters_by_date_of_birth(world):
    """A filter is a GET form: its value would go into the address."""
    client = client_for(world.users["administrator"])
    response = client.get(reverse("admin:patients_patient_changelist"))
    names = {spec.title.lower() for spec in response.context["cl"].filter_specs}
    assert not any("birth" in name for name in names)
