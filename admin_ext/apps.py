from django.apps import AppConfig


class AdminExtConfig(AppConfig):
    name = "admin_ext"
    verbose_name = "NDAS admin"

    def ready(self) -> None:
        from django.contrib import admin

        from admin_ext.admin.changelist import headers_once

        admin.site.site_header = "NDAS"
        admin.site.site_title = "NDAS"
        admin.site.index_title = "Dashboard"
        admin.site.index_template = "admin_ext/dashboard.html"
        headers_once()
