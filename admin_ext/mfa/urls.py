"""/admin/mfa/: the second step, enrolment, one's own factors, resets; and
django-otp-webauthn's ceremony under its own namespace (its template tags reverse
`otp_webauthn:...`). Not admin.site's URLs: the admin's own pages stay as they are."""

from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from admin_ext.mfa import views, webauthn

webauthn_patterns = (
    [
        path(
            "registration/begin/",
            webauthn.BeginRegistration.as_view(),
            name="credential-registration-begin",
        ),
        path(
            "registration/complete/",
            webauthn.CompleteRegistration.as_view(),
            name="credential-registration-complete",
        ),
        path(
            "authentication/begin/",
            webauthn.BeginAuthentication.as_view(),
            name="credential-authentication-begin",
        ),
        path(
            "authentication/complete/",
            webauthn.CompleteAuthentication.as_view(),
            name="credential-authentication-complete",
        ),
        path(
            "jsi18n/",
            JavaScriptCatalog.as_view(packages=["django_otp_webauthn"]),
            name="js-i18n-catalog",
        ),
    ],
    "otp_webauthn",
)

mfa_patterns = (
    [
        path("", views.manage, name="manage"),
        path("verify/", views.verify, name="verify"),
        path("enrol/", views.enrol, name="enrol"),
        path("recovery-codes/", views.recovery_codes_new, name="recovery_codes"),
        path("<str:kind>/<int:pk>/rename/", views.rename, name="rename"),
        path("<str:kind>/<int:pk>/remove/", views.remove, name="remove"),
        path("reset/<int:user_id>/", views.reset, name="reset"),
    ],
    "mfa",
)

urlpatterns = [
    path("webauthn/", include(webauthn_patterns)),
    path("", include(mfa_patterns)),
]
