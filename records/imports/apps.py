from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "records.imports"
    label = "imports"
    verbose_name = "Imports and exports"
    default_auto_field = "django.db.models.BigAutoField"
