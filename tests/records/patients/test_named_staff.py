"""Assessors and visit clinicians are active clinical staff when they are named,
whoever names them (a form, a service call, an import), and a record keeps the
one it names after they leave."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from records.clinical_records import services as visit_services

from records.imports.entities import E_UNKNOWN_USER
from records.imports.exports import export_csv
from records.patients import services
from records.patients.models import Assessment
from records.patients.services.access import E_NOT_CLINICAL_STAFF
from records.users import roles
from records.users.repositories import clinical_staff
from tests import factories
from tests.helpers import run

pytestmark = pytest.mark.django_db
TODAY = date.today()


@pytest.fixture
def staff(make_user):
    doctor = make_user("doctor", roles=[roles.CLINICIAN])
    return {
        "doctor": doctor,
        "locum": make_user("locum", roles=[roles.CLINICIAN]),
        "boss": make_user("boss", roles=[roles.ADMINISTRATOR]),
        "manager": make_user("manager", roles=[roles.DATA_MANAGER]),
        "patient": factories.patient(
            acting_user=doctor, date_of_birth=TODAY - timedelta(300)
        ),
    }


def leave(user) -> None:
    user.is_active = False
    user.save(update_fields=["is_active"])


def test_clinical_staff_are_active_clinicians_and_administrators(staff):
    leave(staff["locum"])
    assert set(clinical_staff()) == {staff["doctor"], staff["boss"]}


def test_only_clinical_staff_are_named_on_new_records(staff):
    doctor, patient = staff["doctor"], staff["patient"]
    with pytest.raises(ValidationError) as error:
        factories.assessment(
            acting_user=doctor, patient=patient, assessor=staff["manager"]
        )
    assert error.value.message_dict == {"assessor": [E_NOT_CLINICAL_STAFF]}
    leave(staff["locum"])
    with pytest.raises(ValidationError) as error:
        factories.visit(acting_user=doctor, patient=patient, clinician=staff["locum"])
    assert error.value.message_dict == {"clinician": [E_NOT_CLINICAL_STAFF]}
    visit = factories.visit(
        acting_user=doctor, patient=patient, clinician=staff["boss"]
    )
    assert visit.clinician == staff["boss"]


def test_a_record_keeps_naming_staff_who_left(staff):
    doctor, patient, locum = staff["doctor"], staff["patient"], staff["locum"]
    exam = factories.assessment(acting_user=doctor, patient=patient, assessor=locum)
    visit = factories.visit(acting_user=doctor, patient=patient, clinician=locum)
    leave(locum)
    services.assessment_update(
        acting_user=doctor, assessment=exam, data={"findings": "Fidgety movements"}
    )
    visit_services.clinical_record_update(
        acting_user=doctor, record=visit, data={"examination": "Alert"}
    )
    services.assessment_finalize(acting_user=doctor, assessment=exam)
    services.assessment_amend(
        acting_user=doctor,
        assessment=exam,
        data={"recommendations": "Review at 6 months"},
        reason="Added advice",
    )
    exam.refresh_from_db()
    assert exam.assessor == locum and exam.recommendations == "Review at 6 months"
    # Naming someone else is naming, whichever service saves it.
    draft = factories.assessment(acting_user=doctor, patient=patient)
    draft.assessor = staff["manager"]
    with pytest.raises(ValidationError) as error:
        services.assessment_finalize(acting_user=doctor, assessment=draft)
    assert error.value.message_dict == {"assessor": [E_NOT_CLINICAL_STAFF]}
    with pytest.raises(ValidationError) as error:
        services.assessment_amend(
            acting_user=doctor,
            assessment=exam,
            data={"assessor": staff["manager"]},
            reason="Wrong assessor",
        )
    assert error.value.message_dict == {"assessor": [E_NOT_CLINICAL_STAFF]}


def test_the_admin_offers_clinicians_and_keeps_a_record_s_own(staff, client):
    doctor, patient, locum = staff["doctor"], staff["patient"], staff["locum"]
    exam = factories.assessment(acting_user=doctor, patient=patient, assessor=locum)
    leave(locum)
    client.force_login(staff["boss"])
    add = client.get(reverse("admin:patients_assessment_add"))
    offered = set(add.context["adminform"].form.fields["assessor"].queryset)
    assert offered == {doctor}  # not the administrator
    url = reverse("admin:patients_assessment_change", args=[exam.pk])
    change = client.get(url)
    offered = set(change.context["adminform"].form.fields["assessor"].queryset)
    assert offered == {doctor, locum}


def test_imports_follow_the_same_rule(staff):
    doctor, patient, manager = staff["doctor"], staff["patient"], staff["manager"]
    header_line = "patient_mrn,instrument,performed_on,assessor_username\n"
    row = f"{patient.mrn},hine,{TODAY - timedelta(days=3)},manager\n"
    job = run(manager, (header_line + row).encode(), entity="assessments")
    assert [(e["column"], e["value"], e["message"]) for e in job.errors] == [
        ("assessor_username", "manager", E_NOT_CLINICAL_STAFF)
    ]
    job = run(
        manager,
        (header_line + row.replace("manager", "nobody")).encode(),
        entity="assessments",
    )
    assert [e["message"] for e in job.errors] == [E_UNKNOWN_USER]
    assert not Assessment.objects.exists()
    # A record naming someone who has left imports back as it is.
    factories.assessment(acting_user=doctor, patient=patient, assessor=staff["locum"])
    factories.visit(acting_user=doctor, patient=patient, clinician=staff["locum"])
    leave(staff["locum"])
    for entity in ("assessments", "clinical_records"):
        data = b"".join(export_csv(user=manager, entity=entity))
        job = run(manager, data, entity=entity)
        assert (job.invalid, job.unchanged, job.changed) == (0, 1, 0), job.errors
    # Changed in another cell, the record still names them; a new one may not.
    data = b"".join(export_csv(user=manager, entity="assessments")).decode()
    header, stored = data.splitlines()[:2]
    changed = stored.replace(",60", ",61", 1)  # the total score
    assert changed != stored
    job = run(manager, f"{header}\n{changed}\n".encode(), entity="assessments")
    assert (job.invalid, job.changed) == (0, 1), job.errors
    new = row.replace("manager", "locum")
    job = run(manager, (header_line + new).encode(), entity="assessments")
    assert [(e["value"], e["message"]) for e in job.errors] == [
        ("locum", E_NOT_CLINICAL_STAFF)
    ]
