"""Every search is bounded before it reaches the database, and every statement the
web runs has a ceiling: a term of any size or content costs what a short one does."""

import time

import pytest
from django.conf import settings
from django.contrib import admin
from django.db import connection, transaction
from django.urls import reverse

from admin_ext.admin.search import BoundedSearchMixin
from records.common.db import long_statements
from records.common.search import SEARCH_MAX_CHARS, SEARCH_MAX_WORDS, search_bound
from records.patients import repositories
from records.patients.models import BreakGlassGrant
from tests.helpers import client_for, load_settings

pytestmark = pytest.mark.django_db

HUGE = " ".join(f"w{n}ord" for n in range(20_000))  # ~140 KB, 20,000 words


def test_a_term_keeps_its_first_words_and_characters_without_control_characters():
    term = search_bound(HUGE)
    assert term.cut
    assert len(term.text) <= SEARCH_MAX_CHARS
    assert term.text.split() == [f"w{n}ord" for n in range(SEARCH_MAX_WORDS)]
    assert search_bound("Smi\x00th  \t Jo\x1fnes") == search_bound("Smi th Jo nes")
    assert not search_bound("Smith").cut
    assert search_bound("x" * 500).text == "x" * SEARCH_MAX_CHARS


def test_patient_search_asks_about_the_bounded_words_only(world):
    query = repositories.patient_search(
        user=world.users["administrator"],
        query="alpha bravo charlie delta echo foxtrot golf \x00",
    )
    sql, params = query.query.sql_with_params()
    words = " ".join(str(p) for p in params)
    assert "echo" in words and "foxtrot" not in words and "golf" not in words
    assert list(query) == []  # and it runs


def _searchable_admins():
    return [
        (model, model_admin)
        for model, model_admin in admin.site._registry.items()
        if model_admin.search_fields
        or type(model_admin).get_search_results
        is not admin.ModelAdmin.get_search_results
    ]


def test_every_admin_with_a_search_bounds_it():
    admins = _searchable_admins()
    assert len(admins) >= 10
    for model, model_admin in admins:
        assert isinstance(model_admin, BoundedSearchMixin), model
        # A search of its own is written below the bound, not around it.
        assert (
            type(model_admin).get_search_results
            is BoundedSearchMixin.get_search_results
        ), model


def test_every_list_answers_a_huge_term_at_once(world):
    client = client_for(world.users["superuser"])
    for model, _ in _searchable_admins():
        url = reverse(
            f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"
        )
        started = time.perf_counter()
        response = client.get(url, {"q": HUGE + "\x01"}, follow=True)
        assert response.status_code == 200, model
        assert time.perf_counter() - started < 5, model
        shown = response.context["cl"].query
        assert len(shown) <= SEARCH_MAX_CHARS, model
        assert "\x01" not in shown


def test_the_patient_search_box_keeps_the_bounded_term(world):
    client = client_for(world.users["administrator"])
    url = reverse("admin:patients_patient_changelist")
    response = client.post(url, {"_search": "1", "q": HUGE}, follow=True)
    assert response.status_code == 200
    assert response.context["cl"].query == search_bound(HUGE).text


def test_the_picker_answers_a_huge_term(world):
    client = client_for(world.users["clinician_in_team"])
    client.get(reverse("admin:patients_assessment_add"))  # the page's CSRF cookie
    response = client.post(
        reverse("admin:autocomplete"),
        {
            "term": HUGE + "\x01",
            "app_label": "patients",
            "model_name": "assessment",
            "field_name": "patient",
        },
    )
    assert response.status_code == 200
    assert response.json()["results"] == []


def test_an_emergency_reason_is_bounded(world):
    client = client_for(world.users["clinician_outside"])
    response = client.post(
        reverse("admin:patients_patient_break_glass"),
        {"mrn": world.patient.mrn, "reason": "Seizure " * 2000},
    )
    assert response.status_code == 200
    assert "reason" in response.context["form"].errors
    assert not BreakGlassGrant.objects.filter(
        user=world.users["clinician_outside"]
    ).exists()


def _show(name: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SHOW {name}")
        return cursor.fetchone()[0]


def test_web_statements_have_a_ceiling_and_no_jit():
    assert settings.NDAS_WORK == "web"
    assert _show("statement_timeout") == "15s"
    assert _show("idle_in_transaction_session_timeout") == "1min"
    assert _show("jit") == "off"


@pytest.mark.django_db(transaction=True)
def test_long_work_raises_the_ceiling_for_itself_only():
    with long_statements():
        assert _show("statement_timeout") == "1h"
    assert _show("statement_timeout") == "15s"
    with transaction.atomic():
        with long_statements():
            assert _show("statement_timeout") == "1h"
    assert _show("statement_timeout") == "15s"


def test_the_ceiling_is_set_by_the_kind_of_work(production_env):
    command = load_settings({**production_env, "NDAS_WORK": "command"})
    options = command["DATABASES"]["default"]["OPTIONS"]["options"]
    assert "statement_timeout=3600000" in options and "jit=off" in options
    web = load_settings({**production_env, "DATABASE_STATEMENT_TIMEOUT": "5"})
    assert "statement_timeout=5000" in web["DATABASES"]["default"]["OPTIONS"]["options"]
