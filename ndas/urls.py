"""URL routes: the admin is the whole interface (/healthz, /readyz: middleware)."""

from django.contrib import admin
from django.urls import path
from django.views.generic import RedirectView

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("admin/", admin.site.urls),
]

handler500 = "ndas.errors.server_error"
