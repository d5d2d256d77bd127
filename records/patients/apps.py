from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "records.patients"
    label = "patients"
    verbose_name = "Patient charts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from records.patients import receivers

        receivers.connect()
