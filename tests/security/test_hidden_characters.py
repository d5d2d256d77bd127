"""Invisible characters never stand in for words: a reason of zero-width spaces is
no reason, and a name with a right-to-left override is refused."""

import sys
import unicodedata
from datetime import date

import pytest
from django.core.exceptions import ValidationError

from records.common.services import E_REASON_REQUIRED
from records.common.text import E_HIDDEN_CHARACTERS, HIDDEN, visible
from records.imports import services as import_services
from records.patients import services
from records.patients.models import BreakGlassGrant
from tests import factories

pytestmark = pytest.mark.django_db


def test_every_control_and_format_character_is_hidden():
    missed = [
        hex(code)
        for code in range(sys.maxunicode + 1)
        if unicodedata.category(chr(code)) in ("Cc", "Cf")
        and chr(code) not in "\t\n\r"
        and not HIDDEN.match(chr(code))
    ]
    assert missed == []
    assert visible(" \u200b\x01Seizure\u202e ") == "Seizure"


def test_an_emergency_reason_of_invisible_characters_is_refused(world):
    user = world.users["clinician_outside"]
    for reason in ("\x01" * 20, "\u200b" * 20, "Seiz\u200bure\u200b\u200b\u200b\u200b"):
        with pytest.raises(ValidationError) as refused:
            services.break_glass_open(
                acting_user=user, mrn=world.patient.mrn, reason=reason
            )
        assert "reason" in refused.value.message_dict
    assert not BreakGlassGrant.objects.filter(user=user).exists()


def test_an_amendment_reason_of_invisible_characters_is_refused(world):
    user = world.users["clinician_in_team"]
    assessment = world.assessment
    services.assessment_finalize(acting_user=user, assessment=assessment)
    with pytest.raises(ValidationError) as refused:
        services.assessment_amend(
            acting_user=user,
            assessment=assessment,
            data={"findings": "Changed"},
            reason="\u200b\x01\x02",
        )
    assert refused.value.messages == [E_REASON_REQUIRED]
    assessment.refresh_from_db()
    assert assessment.findings != "Changed"


@pytest.mark.parametrize("name", ["given_name", "family_name", "preferred_name"])
def test_a_name_with_a_bidirectional_override_is_refused(world, name):
    user = world.users["clinician_in_team"]
    with pytest.raises(ValidationError) as refused:
        factories.patient(
            acting_user=user, care_teams=[world.team], **{name: "Ann\u202eeb"}
        )
    assert refused.value.message_dict[name] == [E_HIDDEN_CHARACTERS]


def test_an_import_refuses_a_hidden_character_in_a_name(world):
    data = (
        "mrn,given_name,family_name,date_of_birth,sex\n"
        f"HID-0001,Ann\u200b,Quennard,{date(2024, 1, 2)},female\n"
    ).encode()
    job = import_services.import_validate(
        acting_user=world.users["data_manager"],
        entity="patients",
        file_name="p.csv",
        data=data,
        reason="Quarterly upload",
    )
    assert job.invalid == 1
    assert [e["message"] for e in job.errors] == [E_HIDDEN_CHARACTERS]
