"""The authorization matrix: every admin URL against every persona, status by status.

A URL the admin registers but the matrix does not list fails the first test: new
admin pages are added here, with the status each persona must get.
"""

import pytest
from django.test import Client

from tests.helpers import PERSONAS
from tests.support.admin_urls import admin_url_names, url_for

pytestmark = pytest.mark.django_db

# Columns, in order: anonymous, superuser, administrator, clinician in the patient's
# team, clinician outside it, clinician with a live emergency grant, clinician with an
# expired one, data manager, auditor. Objects are those of the `world` fixture: a
# chart of the "Neonatal follow-up" team. 302 for anonymous is the login redirect;
# 404 hides charts outside one's access (never 403, which would confirm them).
MATRIX = {
    "app_list": (302, 200, 200, 200, 200, 200, 200, 200, 200),
    "audit_auditevent_add": (302, 403, 403, 403, 403, 403, 403, 403, 403),
    "audit_auditevent_change": (302, 200, 200, 403, 403, 403, 403, 403, 200),
    "audit_auditevent_changelist": (302, 200, 200, 403, 403, 403, 403, 403, 200),
    "audit_auditevent_delete": (302, 403, 403, 403, 403, 403, 403, 403, 403),
    "audit_auditevent_patient_report": (302, 200, 200, 403, 403, 403, 403, 403, 200),
    "audit_auditevent_timeline": (302, 200, 200, 403, 403, 403, 403, 403, 200),
    "audit_auditevent_user_report": (302, 200, 200, 403, 403, 403, 403, 403, 200),
    "audit_auditevent_history": (302, 200, 200, 403, 403, 403, 403, 403, 200),
    # Roles are read-only: their permissions are defined in code (roles.py).
    "auth_group_add": (302, 403, 403, 403, 403, 403, 403, 403, 403),
    "auth_group_change": (302, 200, 200, 403, 403, 403, 403, 403, 200),
    "auth_group_changelist": (302, 200, 200, 403, 403, 403, 403, 403, 200),
    "auth_group_delete": (302, 403, 403, 403, 403, 403, 403, 403, 403),
    "auth_group_history": (302, 200, 200, 403, 403, 403, 403, 403, 200),
    "auth_user_password_change": (302, 200, 200, 403, 403, 403, 403, 403, 403),
    # Asked by POST (what is typed stays out of the address): a GET is refused.
    "autocomplete": (302, 405, 405, 405, 405, 405, 405, 405, 405),
    "axes_accessattempt_add": (302, 403, 403, 403, 403, 403, 403, 403, 403),
    "axes_accessattempt_change": (302, 200, 200, 403, 403, 403, 403, 403, 200),
    "axes_accessattempt_changelist": (302, 200, 200, 403, 403, 403, 403, 403, 200),
    "axes_accessattempt_delete": (302, 200, 200, 403, 403, 403, 403, 403, 403),
    "axes_accessattempt_history": (302, 200, 200, 403, 403, 403, 403, 403, 200),
    "axes_accessfailurelog_add": (302, 403, 403, 403, 403, 403, 403, 403, 403),
    "axes_accessfailurelog_change": (302, 200, 200, 403, 403, 403, 403, 403, 200),
    "axes_accessfailurelog_changelist": (302, 200, 200, 403, 403, 403, 403, 403, 200),
    "axes_accessfailurelog_delete": (302, 200, 200, 403, 403, 403, 403, 403, 403),
    "axes_accessfailurelog_history": (302, 200, 200, 403, 403, 403, 403, 403, 200),
    "axes_accesslog_add": (302, 403, 403, 403, 403, 403, 403, 403, 403),
    "axes_accesslog_change": (302, 200, 200, 403, 403, 403, 403, 403, 200),
    "axes_accesslog_changelist": (302, 200, 200, 403, 403, 403, 403, 403, 200),
    "axes_accesslog_delete": (302, 200, 200, 403, 403, 403, 403, 403, 403),
    "axes_accesslog_history": (302, 200, 200, 403, 403, 403, 403, 403, 200),
    # The scheduled jobs' runs: read-only, for administrators and auditors.
    "common_scheduledrun_add": (302, 403, 403, 403, 403, 403, 403, 403, 403),
    "common_scheduledrun_change": (302, 200, 200, 403, 403, 403, 403, 403, 200),
    "common_scheduledrun_changelist": (302, 200, 200, 403, 403, 403, 403, 403, 200),
    "common_scheduledrun_delete": (302, 403, 403, 403, 403, 403, 403, 403, 403),
    "common_scheduledrun_history": (302, 200, 200, 403, 403, 403, 403, 403, 200),
    "clinical_records_clinicalrecord_add": (
        302,
        200,
        200,
        200,
        200,
        200,
        200,
        403,
        403,
    ),
    "clinical_records_clinicalrecord_change": (
        302,
        200,
        200,
        200,
        404,
        200,
        404,
        200,
        200,
    ),
    "clinical_records_clinicalrecord_changelist": (
        302,
        200,
        200,
        200,
        200,
        200,
        200,
        200,
        200,
    ),
    "clinical_records_clinicalrecord_delete": (
        302,
        200,
        200,
        403,
        403,
        403,
        403,
        403,
        403,
    ),
    "clinical_records_clinicalrecord_export": (
        302,
        200,
        200,
        403,
        403,
        403,
        403,
        200,
        403,
    ),
    "clinical_records_clinicalrecord_history": (
        302,
        200,
        200,
        200,
        404,
        200,
        404,
        200,
        200,
    ),
    # The world's visit and assessment are drafts: their letter is refused back to
    # their page (302, with a message); a record out of reach is a 404.
    "clinical_records_clinicalrecord_letter": (
        302,
        302,
        302,
        302,
        404,
        302,
        404,
        302,
        302,
    ),
    "clinical_records_clinicalrecord_simple_history": (
        302,
        200,
        200,
        200,
        404,
        200,
        404,
        200,
        200,
    ),
    "imports_exportjob_add": (302, 403, 403, 403, 403, 403, 403, 403, 403),
    "imports_exportjob_change": (302, 200, 200, 403, 403, 403, 403, 200, 200),
    "imports_exportjob_changelist": (302, 200, 200, 403, 403, 403, 403, 200, 200),
    "imports_exportjob_delete": (302, 403, 403, 403, 403, 403, 403, 403, 403),
    # The world's export was streamed: it has no file to download (a worker's export
    # is downloaded by its maker alone: tests/records/imports/test_export_jobs.py).
    "imports_exportjob_download": (302, 403, 403, 403, 403, 403, 403, 403, 403),
    "imports_exportjob_history": (302, 200, 200, 403, 403, 403, 403, 200, 200),
    "imports_importjob_add": (302, 403, 403, 403, 403, 403, 403, 403, 403),
    # The report is an import's one page (its reading audited there).
    "imports_importjob_change": (302, 302, 302, 403, 403, 403, 403, 302, 302),
    "imports_importjob_changelist": (302, 200, 200, 403, 403, 403, 403, 200, 200),
    "imports_importjob_commit": (302, 302, 302, 403, 403, 403, 403, 302, 302),
    # A worker's import: how far it got (counts only; the auditor, who may read
    # reports but not import, is refused), and Cancel (a GET only redirects).
    "imports_importjob_progress": (302, 200, 200, 403, 403, 403, 403, 200, 403),
    "imports_importjob_cancel": (302, 302, 302, 403, 403, 403, 403, 302, 302),
    "imports_importjob_delete": (302, 403, 403, 403, 403, 403, 403, 403, 403),
    "imports_importjob_errors": (302, 200, 200, 403, 403, 403, 403, 200, 200),
    "imports_importjob_history": (302, 200, 200, 403, 403, 403, 403, 200, 200),
    "imports_importjob_report": (302, 200, 200, 403, 403, 403, 403, 200, 200),
    "imports_importjob_template": (302, 200, 200, 403, 403, 403, 403, 200, 403),
    "imports_importjob_upload": (302, 200, 200, 403, 403, 403, 403, 200, 403),
    "index": (302, 200, 200, 200, 200, 200, 200, 200, 200),
    "jsi18n": (302, 200, 200, 200, 200, 200, 200, 200, 200),
    "login": (200, 302, 302, 302, 302, 302, 302, 302, 302),
    "logout": (302, 405, 405, 405, 405, 405, 405, 405, 405),
    "password_change": (302, 200, 200, 200, 200, 200, 200, 200, 200),
    "password_change_done": (302, 200, 200, 200, 200, 200, 200, 200, 200),
    "patients_assessment_add": (302, 200, 200, 200, 200, 200, 200, 403, 403),
    "patients_assessment_change": (302, 200, 200, 200, 404, 200, 404, 200, 200),
    "patients_assessment_changelist": (302, 200, 200, 200, 200, 200, 200, 200, 200),
    "patients_assessment_delete": (302, 200, 200, 403, 403, 403, 403, 403, 403),
    "patients_assessment_export": (302, 200, 200, 403, 403, 403, 403, 200, 403),
    "patients_assessment_history": (302, 200, 200, 200, 404, 200, 404, 200, 200),
    "patients_assessment_letter": (302, 302, 302, 302, 404, 302, 404, 302, 302),
    "patients_assessment_simple_history": (302, 200, 200, 200, 404, 200, 404, 200, 200),
    "patients_breakglassgrant_add": (302, 403, 403, 403, 403, 403, 403, 403, 403),
    "patients_breakglassgrant_change": (302, 200, 200, 403, 403, 403, 403, 403, 200),
    "patients_breakglassgrant_changelist": (
        302,
        200,
        200,
        403,
        403,
        403,
        403,
        403,
        200,
    ),
    "patients_breakglassgrant_delete": (302, 403, 403, 403, 403, 403, 403, 403, 403),
    "patients_breakglassgrant_history": (302, 200, 200, 403, 403, 403, 403, 403, 200),
    "patients_mediafile_add": (302, 200, 200, 200, 200, 200, 200, 403, 403),
    "patients_mediafile_change": (302, 200, 200, 200, 404, 200, 404, 200, 200),
    "patients_mediafile_changelist": (302, 200, 200, 200, 200, 200, 200, 200, 200),
    "patients_mediafile_delete": (302, 200, 200, 403, 403, 403, 403, 403, 403),
    "patients_mediafile_download": (302, 302, 302, 302, 404, 302, 404, 302, 302),
    "patients_mediafile_history": (302, 200, 200, 200, 404, 200, 404, 200, 200),
    "patients_mediafile_simple_history": (302, 200, 200, 200, 404, 200, 404, 200, 200),
    "patients_patient_access": (302, 200, 200, 403, 403, 403, 403, 403, 200),
    "patients_patient_add": (302, 200, 200, 200, 200, 200, 200, 403, 403),
    "patients_patient_break_glass": (302, 200, 200, 200, 200, 200, 200, 403, 403),
    "patients_patient_change": (302, 200, 200, 200, 404, 200, 404, 200, 200),
    "patients_patient_changelist": (302, 200, 200, 200, 200, 200, 200, 200, 200),
    "patients_patient_delete": (302, 200, 200, 403, 403, 403, 403, 403, 403),
    "patients_patient_export": (302, 200, 200, 403, 403, 403, 403, 200, 403),
    "patients_patient_history": (302, 200, 200, 200, 404, 200, 404, 200, 200),
    # Comparing two charts of the team (the second made by tests/support/admin_urls.py);
    # marking them needs the right to change both (not emergency access).
    "patients_patient_not_same_child": (302, 200, 200, 200, 404, 404, 404, 403, 403),
    "patients_patient_simple_history": (302, 200, 200, 200, 404, 200, 404, 200, 200),
    # The chart's summary: a chart opening like its change page.
    "patients_patient_summary": (302, 200, 200, 200, 404, 200, 404, 200, 200),
    # The summary printed (PDF): whoever may open the chart.
    "patients_patient_summary_pdf": (302, 200, 200, 200, 404, 200, 404, 200, 200),
    "search": (302, 200, 200, 200, 200, 200, 200, 200, 200),
    "users_careteam_add": (302, 200, 200, 403, 403, 403, 403, 403, 403),
    "users_careteam_change": (302, 200, 200, 403, 403, 403, 403, 403, 200),
    "users_careteam_changelist": (302, 200, 200, 403, 403, 403, 403, 403, 200),
    "users_careteam_delete": (302, 200, 200, 403, 403, 403, 403, 403, 403),
    "users_careteam_history": (302, 200, 200, 403, 403, 403, 403, 403, 200),
    "users_loginevent_add": (302, 403, 403, 403, 403, 403, 403, 403, 403),
    "users_loginevent_change": (302, 200, 200, 403, 403, 403, 403, 403, 200),
    "users_loginevent_changelist": (302, 200, 200, 403, 403, 403, 403, 403, 200),
    "users_loginevent_delete": (302, 403, 403, 403, 403, 403, 403, 403, 403),
    "users_loginevent_history": (302, 200, 200, 403, 403, 403, 403, 403, 200),
    "users_user_add": (302, 200, 200, 403, 403, 403, 403, 403, 403),
    "users_user_change": (302, 200, 200, 403, 403, 403, 403, 403, 200),
    "users_user_changelist": (302, 200, 200, 403, 403, 403, 403, 403, 200),
    "users_user_delete": (302, 403, 403, 403, 403, 403, 403, 403, 403),
    "users_user_history": (302, 200, 200, 403, 403, 403, 403, 403, 200),
    # Unlocking a locked-out user: those who may change users.
    "users_user_unlock": (302, 200, 200, 403, 403, 403, 403, 403, 403),
    "users_user_simple_history": (302, 200, 200, 403, 403, 403, 403, 403, 200),
    "view_on_site": (302, 404, 404, 404, 404, 404, 404, 404, 404),
}


def test_every_admin_url_is_in_the_matrix():
    assert admin_url_names() == set(MATRIX)


@pytest.mark.parametrize("persona", PERSONAS)
def test_each_persona_gets_the_expected_status_everywhere(world, persona):
    client = Client()
    if persona != "anonymous":
        client.force_login(world.users[persona])
    column = PERSONAS.index(persona)
    wrong = {}
    for name, statuses in sorted(MATRIX.items()):
        status = client.get(url_for(name, world)).status_code
        if status != statuses[column]:
            wrong[name] = (status, statuses[column])
    assert wrong == {}, "name: (got, expected)"
