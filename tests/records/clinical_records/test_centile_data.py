"""The summary's centile lines are rcpchgrowth's, built once into a committed file:
the file matches rcpchgrowth, and a summary opened with nothing cached never runs
rcpchgrowth's chart builder (it took 1 s a chart, 4 to 10 s a cold summary)."""

import time
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from records.clinical_records import centile_data, growth
from records.users import roles
from tests import factories

SAMPLES = (
    ("uk-who", "weight", "female"),
    ("trisomy-21", "ofc", "male"),
    ("turners-syndrome", "height", "female"),
)


@pytest.mark.parametrize("reference,method,sex", SAMPLES)
def test_the_file_holds_rcpchgrowths_lines(reference, method, sex):
    built = centile_data.lines_from_rcpchgrowth(reference, method, sex)
    assert built, "rcpchgrowth has lines for this chart"
    assert growth.centile_lines(reference, method, sex) == built
    assert [c for c, _ in built] == list(growth.CHART_CENTILES)


def test_every_reference_measurement_and_sex_is_in_the_file():
    stored = centile_data._stored()
    for reference in centile_data.REFERENCES:
        for method in centile_data.METHODS:
            for sex in centile_data.SEXES:
                assert f"{reference}/{method}/{sex}" in stored
    assert stored["uk-who/bmi/male"] and not stored["turners-syndrome/weight/female"]


def test_check_refuses_a_stale_file(tmp_path, monkeypatch):
    monkeypatch.setattr(centile_data, "DATA_FILE", tmp_path / "lines.json")
    monkeypatch.setattr(centile_data, "build_all", lambda: {"uk-who/bmi/male": []})
    with pytest.raises(CommandError, match="differs from rcpchgrowth"):
        call_command("build_centile_lines", "--check")
    call_command("build_centile_lines")
    assert (tmp_path / "lines.json").read_text() == '{"uk-who/bmi/male":[]}\n'
    call_command("build_centile_lines", "--check")


@pytest.mark.django_db
def test_a_cold_summary_never_runs_the_chart_builder(client, make_user, monkeypatch):
    doctor = make_user("doc", roles=[roles.CLINICIAN])
    client.force_login(doctor)
    patient = factories.patient(
        acting_user=doctor,
        sex="female",
        date_of_birth=date.today() - timedelta(days=500),
    )
    factories.visit(
        acting_user=doctor,
        patient=patient,
        visit_date=date.today() - timedelta(days=200),
        weight_kg=Decimal("7.9"),
        head_circumference_cm=Decimal("43.5"),
    )
    calls = []

    def builder(*args, **kwargs):
        calls.append(args)
        raise AssertionError("the chart builder ran on a page")

    monkeypatch.setattr(centile_data, "create_chart", builder)
    centile_data._stored.cache_clear()
    centile_data.stored_lines.cache_clear()
    started = time.perf_counter()
    response = client.get(reverse("admin:patients_patient_summary", args=[patient.pk]))
    elapsed = time.perf_counter() - started
    assert response.status_code == 200
    assert calls == []
    page = response.content.decode()
    assert '"centile": 99.6' in page and '"centile": 0.4' in page
    # The file is read and parsed in milliseconds; the builder took seconds.
    assert elapsed < 3, f"cold summary took {elapsed:.2f} s"
