"""What a page works out once instead of once per row (issue #15's CPU goal):
the lists' headers, query strings and row links, the chart tabs' cells, the
labels and dates; each shown as it was before."""

from datetime import date, timedelta
from unittest import mock

import pytest
from django.contrib import admin
from django.contrib.admin.utils import quote
from django.contrib.admin.views.main import ChangeList
from django.template import Context, Template
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.utils.formats import date_format
from unfold.fields import UnfoldAdminReadonlyField
from unfold.templatetags import unfold_list
from unfold.utils import display_for_label

from admin_ext.admin.changelist import url_pattern
from admin_ext.admin.list_cells import header_cell, label_cell
from admin_ext.admin.patients.chart_inlines import AssessmentSummaryInline
from admin_ext.admin.patients.patient import PatientAdmin
from admin_ext.admin.status_label import STATUS_COLOURS
from records.common.display import show_date
from records.patients.models import Patient, PatientStatus, RecordStatus
from records.users import roles
from tests import factories

pytestmark = pytest.mark.django_db


# How admin_ext/chart_tab.html drew a row's cells before they were joined in Python.
CELLS_BY_TEMPLATE = Template(
    '{% for name, label, contents in row %}<td class="min-h-[62.5px] align-middle '
    "border-b max-md:border-b border-base-200 lg:group-[.last]/parent:border-b-0 "
    "dark:border-base-800 field-{{ name }} group field-tabular p-3 lg:py-3 flex "
    "items-center before:capitalize before:font-semibold "
    "before:content-[attr(data-label)] before:text-font-important-light "
    "dark:before:text-font-important-dark before:mr-auto before:font-text before:pr-4 "
    "lg:before:hidden font-normal px-3 lg:first:pl-3 lg:last:pr-3 lg:px-1.5 "
    'text-left lg:table-cell" data-label="{{ label }}"><div class="flex flex-row '
    'gap-3 items-center"><div class="readonly break-words max-w-2xl '
    '*:rounded-default">{{ contents }}</div></div></td>{% endfor %}'
)


@pytest.fixture
def clinician(make_user):
    return make_user("work-doc", roles=[roles.CLINICIAN])


def test_a_row_link_is_what_reverse_gives_for_any_key():
    change = url_pattern("admin:patients_patient_change")
    for key in (1, 42, 2_147_483_646, 10**12):
        assert change(key) == reverse("admin:patients_patient_change", args=[key])
    # A key that is no integer is reversed as the admin does, escaped.
    assert change("a/b c") == reverse(
        "admin:patients_patient_change", args=[quote("a/b c")]
    )
    summary = url_pattern("admin:patients_patient_summary")  # <int:object_id>
    assert summary(7) == reverse("admin:patients_patient_summary", args=[7])
    with pytest.raises(NoReverseMatch):
        summary("seven")


def test_the_list_works_out_its_headers_once_however_many_rows(client, clinician):
    for n in range(5):
        factories.patient(acting_user=clinician, mrn=f"WRK-{n:04d}")
    client.force_login(clinician)
    url = reverse("admin:patients_patient_changelist")
    client.get(url)  # the first request of a session records its start
    labels = mock.Mock(wraps=unfold_list.label_for_field)
    with mock.patch.object(unfold_list, "label_for_field", labels):
        response = client.get(url)
    assert response.status_code == 200
    columns = len(response.context["cl"].list_display)
    assert labels.call_count == columns  # not columns x (rows + 1)
    body = response.content.decode()
    # Every row's cells still carry their column's title (the phone layout).
    assert body.count('data-label="Date of birth"') == 5
    for n in range(5):
        assert f"WRK-{n:04d}" in body


def test_the_lists_query_strings_are_those_of_django(clinician, rf):
    model_admin = admin.site._registry[Patient]
    assert isinstance(model_admin, PatientAdmin)
    request = rf.get("/", {"o": "2.-3", "status__exact": "active"})
    request.user = clinician
    request.session = {}
    changelist = model_admin.get_changelist_instance(request)
    for new, remove in (
        ({"o": "1"}, None),
        ({"o": "-1"}, None),
        ({"p": "2"}, ["o"]),
        (None, ["status"]),
        ({"o": "1"}, None),  # asked again: the kept answer
    ):
        expected = ChangeList.get_query_string(changelist, new, remove)
        assert changelist.get_query_string(new, remove) == expected
    assert changelist.get_ordering_field_columns() == {2: "asc", 3: "desc"}


def test_a_status_label_is_unfolds_label():
    for status in (*PatientStatus, *RecordStatus):
        assert label_cell(status, STATUS_COLOURS) == display_for_label(
            status, "-", STATUS_COLOURS
        )


def test_a_header_cell_escapes_names():
    cell = header_cell("O'BRIEN, <Ann>", "known as <b>Annie</b>")
    assert "&lt;Ann&gt;" in cell and "&lt;b&gt;Annie&lt;/b&gt;" in cell
    assert "<p" not in header_cell("SMITH, Jo")  # no subtitle, no line for it


def test_the_tab_cells_are_unfolds_read_only_fields(client, clinician):
    patient = factories.patient(
        acting_user=clinician, date_of_birth=date.today() - timedelta(days=400)
    )
    factories.assessment(acting_user=clinician, patient=patient)
    client.force_login(clinician)
    url = reverse("admin:patients_patient_change", args=[patient.pk])
    client.get(url)
    response = client.get(url)
    assert response.status_code == 200
    tab = next(
        f.formset
        for f in response.context["inline_admin_formsets"]
        if f.formset.model._meta.model_name == "assessment"
    )
    (row,) = tab.tab_rows
    inline = AssessmentSummaryInline(Patient, tab.inline.admin_site)
    form = tab._construct_form(0, **tab.get_form_kwargs(0))  # the row's own form
    for (name, label, contents), form in zip(row, [form] * len(row)):
        field = UnfoldAdminReadonlyField(form, name, False, model_admin=inline)
        assert label == field.field["label"]
        assert contents == (field.contents() or "-")
    names = [name for name, _, _ in row]
    assert names == list(AssessmentSummaryInline.fields)
    # Each row's cells, joined in Python, are what a template drew cell by cell.
    (html,) = tab.tab_rows_html
    assert html == CELLS_BY_TEMPLATE.render(Context({"row": row}))
    assert html in response.content.decode()
    body = response.content.decode()
    # The assessor links to their page, as unfold's read-only field does.
    assessor = reverse("admin:users_user_change", args=[clinician.pk])
    assert f'href="{assessor}" class="text-link"' in body
    # The management form is posted with the page; the rows are no forms.
    assert f'name="{tab.prefix}-TOTAL_FORMS"' in body
    assert f'name="{tab.prefix}-0-id"' not in body


def test_show_date_is_date_format():
    with translation.override("en-gb"):
        for day in (date(2023, m, 1 + m) for m in range(1, 13)):
            assert show_date(day) == date_format(day, "DATE_FORMAT")
        assert show_date(date(2023, 5, 17)) == "17 May 2023"
        assert show_date(None) == ""
    with translation.override("fr"):  # another format: Django's own
        assert show_date(date(2023, 5, 17)) == date_format(
            date(2023, 5, 17), "DATE_FORMAT"
        )


# --- rows planned once per page (admin_ext/admin/list_rows.py) ------------------------


def _changelists(client, world, params):
    """Each registered list the superuser opens, with its change list."""
    from admin_ext.admin import list_rows

    client.force_login(world.users["superuser"])
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        response = client.get(url, params)
        if response.status_code != 200 or "cl" not in (response.context or {}):
            continue
        changelist = response.context["cl"]
        yield model, changelist, list_rows


@pytest.mark.parametrize("params", [{}, {"o": "1", "all": ""}])
def test_every_lists_rows_are_drawn_as_unfold_draws_them(client, world, params):
    inside = world.users["clinician_in_team"]
    for n in range(3):  # several rows: the page's plan is reused from row to row
        patient = factories.patient(
            acting_user=inside, care_teams=[world.team], mrn=f"ROW-{n:04d}"
        )
        factories.visit(acting_user=inside, patient=patient)
        factories.assessment(acting_user=inside, patient=patient)
    planned, compared = set(), 0
    for model, changelist, list_rows in _changelists(client, world, params):
        assert changelist.result_list, model  # every list of the world has rows
        for result in changelist.result_list:
            ours = list(list_rows.items_for_result(changelist, result, None))
            unfolds = list(
                list_rows.ORIGINAL_ITEMS_FOR_RESULT(changelist, result, None)
            )
            assert ours == unfolds, (model, result.pk)
            compared += 1
        if changelist._ndas_row_plan[0] is not None:
            planned.add(model._meta.label_lower)
    assert compared > 20
    # The clinical lists, and most others, take the planned path.
    assert {
        "patients.patient",
        "patients.assessment",
        "clinical_records.clinicalrecord",
        "patients.mediafile",
        "audit.auditevent",
        "imports.importjob",
    } <= planned


def test_the_page_template_uses_the_planned_rows():
    from admin_ext.admin import list_rows

    assert unfold_list.items_for_result is list_rows.items_for_result
    list_rows.rows_planned_once()  # a second call changes nothing
    assert unfold_list.items_for_result is list_rows.items_for_result
    assert list_rows.ORIGINAL_ITEMS_FOR_RESULT is not list_rows.items_for_result


def _unfolds(template_name: str):
    """unfold's own template of that name (NDAS's templates/ overrides it)."""
    from pathlib import Path

    import unfold
    from django.template import engines

    path = Path(unfold.__file__).parent / "templates" / template_name
    return engines["django"].from_string(path.read_text())


def _same_markup(html: str) -> str:
    """Markup with the whitespace between tags, which no browser shows, and the
    CSRF tokens (masked afresh each time) set aside."""
    import re

    html = re.sub(r'(name="csrfmiddlewaretoken" value=)"[^"]+"', r"\1", str(html))
    return re.sub(r">\s+<", "><", re.sub(r"\s+", " ", html)).strip()


@pytest.mark.parametrize("params", [{}, {"o": "-1"}])
def test_every_lists_results_template_draws_what_unfolds_does(client, world, params):
    from django.template.loader import get_template

    ours = get_template("admin/change_list_results.html")
    theirs = _unfolds("admin/change_list_results.html")
    compared = 0
    for model, changelist, _ in _changelists(client, world, params):
        request = client.get("/").wsgi_request
        request.user = world.users["superuser"]
        context = unfold_list.result_list(
            {"request": request, "actions_row": None}, changelist
        )
        drawn = ours.render(context, request)
        assert _same_markup(drawn) == _same_markup(
            theirs.render(context, request)
        ), model
        compared += bool(context["results"])
    assert compared >= 10


def test_the_language_switch_draws_what_unfolds_does(rf):
    from django.template.loader import get_template

    ours = get_template("unfold/helpers/language_switch.html")
    theirs = _unfolds("unfold/helpers/language_switch.html")
    request = rf.get("/")
    for context in (
        {"show_languages": False},
        {"show_languages": True, "languages_action": "/lang/"},
        {
            "show_languages": True,
            "languages_action": "/lang/",
            "languages_list": [{"code": "en-gb", "name_local": "English"}],
        },
    ):
        drawn = _same_markup(ours.render(context, request))
        assert drawn == _same_markup(theirs.render(context, request))
        assert ("<form" in drawn) == context["show_languages"]


def test_a_tabs_cells_escape_what_staff_typed(client, clinician):
    patient = factories.patient(acting_user=clinician)
    factories.visit(
        acting_user=clinician, patient=patient, chief_complaint="<b>Cough</b> & fever"
    )
    client.force_login(clinician)
    url = reverse("admin:patients_patient_change", args=[patient.pk])
    client.get(url)
    body = client.get(url).content.decode()
    assert "&lt;b&gt;Cough&lt;/b&gt; &amp; fever" in body
    assert "<b>Cough</b>" not in body


# --- the sidebar, drawn once per shape (admin_ext/templatetags/sidebar_once.py) -------


def test_the_sidebar_is_unfolds_for_each_role_and_page(client, world):
    from admin_ext.templatetags import sidebar_once

    pages = [
        reverse("admin:index"),
        reverse("admin:patients_patient_changelist"),
        reverse("admin:patients_patient_change", args=[world.patient.pk]),
        reverse("admin:audit_auditevent_changelist"),
    ]
    shapes = set()
    for persona in ("clinician_in_team", "administrator", "auditor", "data_manager"):
        client.force_login(world.users[persona])
        for url in pages:
            response = client.get(url)
            if response.status_code != 200:
                continue
            kept = sidebar_once.shape(response.context)
            assert kept is not None
            shapes.add(kept)
            page = next(c for c in response.context if "sidebar_navigation" in c)
            theirs = sidebar_once._unfolds_app_list().render(Context(page.flatten()))
            drawn = _same_markup(response.content.decode())
            assert 'id="nav-sidebar-apps"' in theirs
            assert _same_markup(theirs) in drawn, (persona, url)
    # Each role sees its own entries, and each area marks its own entry.
    assert len(shapes) >= 8


def test_a_sidebar_with_a_badge_is_drawn_afresh():
    from admin_ext.templatetags import sidebar_once

    item = {"title": "Patients", "link": "/p/", "icon": "x", "has_permission": True}
    plain = {"sidebar_navigation": [{"title": "Clinic", "items": [item]}]}
    assert sidebar_once.shape(plain) is not None
    badged = {"sidebar_navigation": [{"items": [{**item, "badge": "3"}]}]}
    assert sidebar_once.shape(badged) is None
    assert sidebar_once.shape({**plain, "sidebar_show_all_applications": True}) is None
    denied = {"sidebar_navigation": [{"items": [{**item, "has_permission": False}]}]}
    assert sidebar_once.shape(denied) != sidebar_once.shape(
        {"sidebar_navigation": [{"items": [item]}]}
    )


def test_the_daily_lists_show_fifty_rows_a_page():
    daily = {
        "patients.patient",
        "patients.assessment",
        "clinical_records.clinicalrecord",
        "patients.mediafile",
        "imports.importjob",
        "imports.exportjob",
        "audit.auditevent",
    }
    pages = {
        model._meta.label_lower: model_admin.list_per_page
        for model, model_admin in admin.site._registry.items()
    }
    assert {label: pages[label] for label in daily} == dict.fromkeys(daily, 50)


def test_the_tabs_show_their_records_without_a_form_each(client, clinician):
    from admin_ext.admin.patients.chart_inlines import LatestFormSet

    patient = factories.patient(acting_user=clinician)
    for _ in range(3):
        factories.visit(acting_user=clinician, patient=patient)
    client.force_login(clinician)
    url = reverse("admin:patients_patient_change", args=[patient.pk])
    client.get(url)
    built = mock.Mock(wraps=LatestFormSet._construct_form)
    with mock.patch.object(LatestFormSet, "_construct_form", built):
        response = client.get(url)
    assert response.status_code == 200
    assert built.call_count == 0
    visits = next(
        f.formset
        for f in response.context["inline_admin_formsets"]
        if f.formset.model._meta.model_name == "clinicalrecord"
    )
    assert len(visits.tab_rows) == 3
    body = response.content.decode()
    for row in visits.tab_rows_html:
        assert row in body


# --- a plain list's rows written by one tag (admin_ext/templatetags/list_rows_once.py)


class _Row(list):
    """A row as unfold's result_list gives it: its cells, and its form if any."""

    form = None


def test_a_plain_lists_rows_are_striped_and_joined_by_one_tag():
    from django.utils.safestring import mark_safe

    from admin_ext.templatetags.list_rows_once import rows_are_plain, rows_joined

    rows = [_Row([mark_safe("<td>1</td>"), "<b>"]), _Row([mark_safe("<td>2</td>")])]
    assert rows_are_plain(rows)
    drawn = rows_joined(rows)
    first, second = drawn.split("</tbody>")[:2]
    assert 'class="block relative lg:table-row-group "' in first
    assert "bg-base-50 dark:bg-white/[.02]" in second  # unfold's {% cycle %}
    assert "<td>1</td>&lt;b&gt;</tr>" in first  # cells escaped as the join filter does
    assert drawn.count("<tbody") == 2


def test_an_editable_lists_rows_are_drawn_by_the_templates_loop():
    from admin_ext.templatetags.list_rows_once import rows_are_plain

    editable = _Row(["<td>1</td>"])
    editable.form = mock.Mock(non_field_errors=lambda: "")
    assert not rows_are_plain([_Row(), editable])
    page = Template(
        "{% load list_rows_once %}{% if rows|rows_are_plain %}tag{% else %}loop"
        "{% endif %}"
    )
    assert page.render(Context({"rows": [editable]})) == "loop"
    assert page.render(Context({"rows": [_Row()]})) == "tag"


def test_a_choice_columns_labels_are_read_once_per_page_in_its_language():
    from admin_ext.admin.list_rows import _choices, _escape

    sex = Patient._meta.get_field("sex")
    labels = _choices(sex)
    assert labels == {value: str(label) for value, label in sex.flatchoices}
    assert _choices(Patient._meta.get_field("mrn")) is None  # no choices
    unhashable = mock.Mock(flatchoices=[(["a"], "A")])
    assert _choices(unhashable) is None  # unfold's own way, row by row
    assert _escape("<O'Brien & co>") == "&lt;O&#x27;Brien &amp; co&gt;"
    assert _escape(header_cell("A", "")) == header_cell("A", "")  # already safe
    assert _escape(7) == "7"
