from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class AdminExtConfig(AppConfig):
    name = "admin_ext"
    verbose_name = "NDAS admin"
    default = True  # not ClinicAdminConfig, below

    def ready(self) -> None:
        from django.contrib import admin

        from admin_ext.admin.changelist import headers_once
        from admin_ext.admin.list_rows import rows_planned_once

        admin.site.site_header = "NDAS"
        admin.site.site_title = "NDAS"
        admin.site.index_title = "Dashboard"
        admin.site.index_template = "admin_ext/dashboard.html"
        headers_once()
        rows_planned_once()


class ClinicAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin (label "admin", as before) with NDAS's site as
    `admin.site`, in the place of unfold's default app, which set its own."""

    default = False
    default_site = "admin_ext.site.ClinicAdminSite"
