from django.apps import AppConfig


class ClinicalRecordsConfig(AppConfig):
    name = "records.clinical_records"
    label = "clinical_records"
    verbose_name = "Paediatric visits"
    default_auto_field = "django.db.models.BigAutoField"
