"""NDAS's admin site gives every page unfold's context, key for key, for less."""

import pytest
from django.contrib import admin
from django.test import RequestFactory, override_settings
from django.urls import reverse
from django.utils.functional import empty
from unfold.sites import UnfoldAdminSite

from admin_ext.site import ClinicAdminSite
from records.users import roles
from records.users.models import User

pytestmark = pytest.mark.django_db

PATHS = [
    "admin:index",
    "admin:patients_patient_changelist",
    "admin:patients_patient_add",
    "admin:imports_importjob_upload",
    "admin:audit_auditevent_timeline",
    "admin:users_user_changelist",
]


def _unfolds() -> UnfoldAdminSite:
    """unfold's own site, with the same admins."""
    site = UnfoldAdminSite()
    site._registry = admin.site._registry
    return site


def _request(user, path: str, query: str = ""):
    request = RequestFactory().get(path + query)
    request.user = User.objects.get(pk=user.pk)
    return request


def _plain(context: dict) -> dict:
    """Lazy values read, as the page's templates read them; each sidebar entry's
    permission callback (a closure made per call) is compared by its answer."""
    return {
        **context,
        "available_apps": list(context["available_apps"]),
        "log_entries": list(context["log_entries"]),
        "sidebar_navigation": [
            {
                **group,
                "items": [
                    {key: value for key, value in item.items() if key != "permission"}
                    for item in group["items"]
                ],
            }
            for group in context["sidebar_navigation"]
        ],
    }


@pytest.mark.parametrize(
    "role", [roles.CLINICIAN, roles.DATA_MANAGER, roles.AUDITOR, roles.ADMINISTRATOR]
)
def test_each_pages_context_is_unfolds(make_user, role):
    user = make_user("staff", roles=[role])
    assert isinstance(admin.site, ClinicAdminSite)
    for name in PATHS:
        for query in ("", "?q=x&o=1"):
            path = reverse(name)
            ours = _plain(admin.site.each_context(_request(user, path, query)))
            theirs = _plain(_unfolds().each_context(_request(user, path, query)))
            assert ours == theirs, (role, name)
    # What the comparison covers: entries the role may follow and may not,
    # and the page's own marked.
    sidebar = admin.site.each_context(_request(user, reverse(PATHS[1])))
    items = [item for group in sidebar["sidebar_navigation"] for item in group["items"]]
    allowed = {item["has_permission"] for item in items}
    assert allowed == ({True} if role == roles.ADMINISTRATOR else {True, False})
    assert [item["title"] for item in items if item["active"]] == ["Patients"]


def test_the_application_list_is_built_only_when_read(make_user):
    user = make_user("clinician", roles=[roles.CLINICIAN])
    request = _request(user, reverse("admin:index"))
    request.user.get_all_permissions()
    context = admin.site.each_context(request)
    assert admin.site.get_app_list.__func__ is UnfoldAdminSite.get_app_list
    apps = context["available_apps"]
    assert apps._wrapped is empty  # not built
    assert [app["app_label"] for app in apps] == [
        app["app_label"] for app in admin.site.get_app_list(request)
    ]


BADGED = {
    "SIDEBAR": {
        "navigation": [
            {
                "title": "Clinic",
                "items": [
                    {
                        "title": "Patients",
                        "link": "/admin/patients/patient/",
                        "badge": "admin_ext.navigation.sidebar_navigation",
                    },
                    {"title": "Dashboard", "link": "/admin/"},
                ],
            }
        ]
    },
    "SITE_TITLE": "Clinic records",
}


def test_other_sidebars_and_changed_settings_are_unfolds(make_user):
    """A sidebar this site does not mark itself (here, a badge) is unfold's, and
    settings changed while the process runs are read again."""
    user = make_user("clinician", roles=[roles.CLINICIAN])
    path = reverse("admin:patients_patient_changelist")
    with override_settings(UNFOLD=BADGED):
        ours = _plain(admin.site.each_context(_request(user, path)))
        theirs = _plain(_unfolds().each_context(_request(user, path)))
        assert ours["site_title"] == "Clinic records"
        assert [item["title"] for item in ours["sidebar_navigation"][0]["items"]] == [
            "Patients",
            "Dashboard",
        ]
        assert "badge_callback" in ours["sidebar_navigation"][0]["items"][0]
        for context in (ours, theirs):  # a lazy proxy made per request
            del context["sidebar_navigation"][0]["items"][0]["badge_callback"]
        assert ours == theirs
    assert admin.site.each_context(_request(user, path))["site_title"] == "NDAS"


def test_a_computed_link_and_dotted_words_are_left_to_unfold(make_user):
    """A link worked out per request is unfold's to keep (its template reads the
    callable's answer); a setting with a full stop is tried as an import path, as
    unfold does, and shown as written when it names nothing."""
    user = make_user("clinician", roles=[roles.CLINICIAN])
    computed = {
        "SIDEBAR": {
            "navigation": [
                {
                    "title": "Clinic",
                    "items": [
                        {"title": "Mine", "link": lambda request: "/admin/mine/"},
                    ],
                }
            ]
        },
        "SITE_SUBHEADER": "St. Mary's neurodevelopmental clinic",
    }
    with override_settings(UNFOLD=computed):
        context = admin.site.each_context(_request(user, reverse("admin:index")))
        (item,) = context["sidebar_navigation"][0]["items"]
        assert str(item["link_callback"]) == "/admin/mine/"
        assert context["site_subheader"] == "St. Mary's neurodevelopmental clinic"


def test_each_page_gets_colours_of_its_own(make_user):
    user = make_user("clinician", roles=[roles.CLINICIAN])
    path = reverse("admin:index")
    first = admin.site.each_context(_request(user, path))["colors"]
    first["primary"]["500"] = "red"  # a page's own copy, changed
    again = admin.site.each_context(_request(user, path))["colors"]
    assert again["primary"]["500"] != "red"
    assert again == _unfolds().each_context(_request(user, path))["colors"]
