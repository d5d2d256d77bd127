"""What a page works out once instead of once per row (issue #15's CPU goal):
the lists' headers, query strings and row links, the chart tabs' cells, the
labels and dates; each shown as it was before."""

from datetime import date, timedelta
from unittest import mock

import pytest
from django.contrib import admin
from django.contrib.admin.utils import quote
from django.contrib.admin.views.main import ChangeList
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
    for (name, label, contents), form in zip(row, [tab.forms[0]] * len(row)):
        field = UnfoldAdminReadonlyField(form, name, False, model_admin=inline)
        assert label == field.field["label"]
        assert contents == (field.contents() or "-")
    names = [name for name, _, _ in row]
    assert names == list(AssessmentSummaryInline.fields)
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
