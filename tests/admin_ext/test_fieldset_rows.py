"""Every form of the site is drawn as unfold's templates draw it, whether a line of
fields is written by one tag (admin_ext/templatetags/fieldset_rows_once.py) or by
the templates."""

import re

import pytest
from django.contrib import admin
from django.urls import NoReverseMatch, reverse

from admin_ext.templatetags import fieldset_rows_once
from tests import factories

pytestmark = pytest.mark.django_db


def _same_markup(html: str) -> str:
    """Markup with the whitespace between tags, which no browser shows, and what
    each response makes afresh (CSRF tokens, script nonces) set aside."""
    html = re.sub(r'(name="csrfmiddlewaretoken" value=)"[^"]+"', r"\1", html)
    html = re.sub(r'nonce="[^"]+"', "", html)
    return re.sub(r">\s+<", "><", re.sub(r"\s+", " ", html)).strip()


def _forms(world) -> list[str]:
    """The add page of every model, and the change page of one of each kind."""
    urls = []
    for model in admin.site._registry:
        opts = model._meta
        for name, args in (("add", []), ("change", None)):
            if args is None:
                first = model._default_manager.order_by("pk").first()
                if first is None:
                    continue
                args = [first.pk]
            try:
                urls.append(
                    reverse(
                        f"admin:{opts.app_label}_{opts.model_name}_{name}", args=args
                    )
                )
            except NoReverseMatch:
                continue
    return urls


def _both_ways(client, monkeypatch, method, url, data=None) -> tuple[str, str, int]:
    drawn = []
    real = fieldset_rows_once.format_html_join
    monkeypatch.setattr(
        fieldset_rows_once,
        "format_html_join",
        lambda *args: drawn.append(1) or real(*args),
    )
    pages = []
    for enabled in (True, False):
        monkeypatch.setattr(fieldset_rows_once, "ENABLED", enabled)
        response = getattr(client, method)(url, data) if data else client.get(url)
        pages.append((response.status_code, response.content.decode()))
    (status, ours), (_, theirs) = pages
    return _same_markup(ours), _same_markup(theirs), status, len(drawn)


def test_every_form_is_drawn_as_unfolds_templates_draw_it(client, world, monkeypatch):
    client.force_login(world.users["superuser"])
    compared = lines = 0
    for url in _forms(world):
        ours, theirs, status, drawn = _both_ways(client, monkeypatch, "get", url)
        if status != 200:
            continue
        assert ours == theirs, url
        compared += 1
        lines += drawn
    assert compared >= 15
    assert lines >= 60  # most lines take the tag's way


def test_a_form_with_errors_and_help_texts(client, world, monkeypatch):
    """A posted form shown again with its errors, as the templates show it."""
    inside = world.users["clinician_in_team"]
    client.force_login(inside)
    patient = factories.patient(acting_user=inside, care_teams=[world.team])
    for url, data in (
        (reverse("admin:patients_patient_add"), {"mrn": "x" * 300}),
        (
            reverse("admin:clinical_records_clinicalrecord_add"),
            {"patient": patient.pk, "weight_kg": "heavy"},
        ),
    ):
        ours, theirs, status, drawn = _both_ways(client, monkeypatch, "post", url, data)
        assert status == 200 and drawn
        assert "errorlist" in ours
        assert 'class="leading-relaxed mt-2 text-xs"' in ours  # a help text
        assert ours == theirs, url
