"""The clinic letter as a parent and a GP read it (finding 21 of the new-user walk):
addressed to the child's guardian (or parents), signed with the signer's title
under their name, and saying when and why an amended record was amended; the file
still named by id alone."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from records.clinical_records import services as visit_services
from records.patients import services
from records.users import roles
from tests import factories
from tests.helpers import letter_url, pdf_text

pytestmark = pytest.mark.django_db
TODAY = date.today()


@pytest.fixture
def clinician(client, make_user):
    user = make_user(
        "adoc", roles=[roles.CLINICIAN], first_name="Ada", last_name="Lovelace"
    )
    client.force_login(user)
    return user


def final_visit(clinician, patient):
    record = factories.visit(
        acting_user=clinician,
        patient=patient,
        visit_date=TODAY - timedelta(days=10),
        weight_kg=Decimal("11.5"),
        assessment_and_plan="Review in clinic.",
    )
    return visit_services.clinical_record_finalize(acting_user=clinician, record=record)


def test_letter_to_the_guardian_signed_with_a_title(client, clinician):
    patient = factories.patient(
        acting_user=clinician,
        given_name="Orrin",
        family_name="Pell",
        sex="male",
        date_of_birth=TODAY - timedelta(days=700),
        guardian_name="Mara Pell",
        guardian_relationship="mother",
        address_line1="2 Mill Lane",
        city="Riverton",
        postcode="RV1 1AA",
    )
    visit = final_visit(clinician, patient)
    response = client.get(letter_url(visit))
    text = pdf_text(response)
    assert "To: Mara Pell (mother), for Orrin Pell 2 Mill Lane Riverton RV1 1AA" in text
    assert "Ada Lovelace Clinician" in text  # the role under the name
    assert "Amended on" not in text
    disposition = response["Content-Disposition"]
    assert disposition == f'attachment; filename="ndas-letter-visit-{visit.pk}.pdf"'


def test_letter_without_a_guardian_goes_to_the_parents(client, clinician):
    patient = factories.patient(
        acting_user=clinician,
        given_name="Ines",
        family_name="Vale",
        guardian_name="",
        address_line1="",
        address_line2="",
        city="",
        postcode="",
    )
    text = pdf_text(client.get(letter_url(final_visit(clinician, patient))))
    assert "To: the parents or guardians of Ines Vale" in text


def test_an_amended_record_says_when_and_why(client, clinician):
    patient = factories.patient(acting_user=clinician)
    visit = final_visit(clinician, patient)
    visit_services.clinical_record_amend(
        acting_user=clinician,
        record=visit,
        reason="Weight re-measured",
        data={"weight_kg": Decimal("11.8")},
    )
    text = pdf_text(client.get(letter_url(visit)))
    assert f"Amended on {TODAY.strftime('%-d %b %Y')}: Weight re-measured" in text

    assessment = factories.assessment(acting_user=clinician, patient=patient)
    services.assessment_finalize(acting_user=clinician, assessment=assessment)
    services.assessment_amend(
        acting_user=clinician,
        assessment=assessment,
        reason="Score corrected",
        data={"total_score": Decimal("58")},
    )
    text = pdf_text(client.get(letter_url(assessment)))
    assert "Amended on" in text and "Score corrected" in text
