from django.apps import AppConfig


class ClinicalRecordsConfig(AppConfig):
    name = "records.clinical_records"
    label = "clinical_records"
    verbose_name = "Paediatric visits"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from records.clinical_records import services
        from records.patients.services.patients import growth_details_changed

        growth_details_changed.connect(
            services.patient_growth_details_changed,
            dispatch_uid="visit_growth_recompute",
        )
