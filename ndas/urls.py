"""URL routes: the admin is the whole interface (/healthz, /readyz: middleware)."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from admin_ext.admin.autocomplete import PostedAutocompleteJsonView

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    # Before the admin's own: the address its widgets call, answering POSTs only.
    path(
        "admin/autocomplete/",
        admin.site.admin_view(
            PostedAutocompleteJsonView.as_view(admin_site=admin.site)
        ),
    ),
    # The second factor (admin_ext.mfa): not admin.site's own pages.
    path("admin/mfa/", include("admin_ext.mfa.urls")),
    path("admin/", admin.site.urls),
]

handler500 = "ndas.errors.server_error"
handler404 = "ndas.errors.not_found"
